from django.apps import AppConfig


class WebSocketsConfig(AppConfig):
    name = "django_aws_api_gateway_websockets"
    label = "django_aws_api_gateway_websockets"
    verbose_name = "Django AWS API Gateway WebSockets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # checks: system checks of the views' configuration and of the gateway
        # secret; signals: keep created APIs in step with edits of their records;
        # revocation: close a user's sockets when their access ends.
        from . import checks, revocation  # noqa: F401
        from .provisioning import signals  # noqa: F401

        revocation.connect_signals()

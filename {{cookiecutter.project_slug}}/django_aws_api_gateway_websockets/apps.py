from django.apps import AppConfig


class WebSocketsConfig(AppConfig):
    name = "django_aws_api_gateway_websockets"
    label = "django_aws_api_gateway_websockets"
    verbose_name = "Django AWS API Gateway WebSockets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # checks: system checks of the views' configuration; signals: keep created
        # APIs in step with edits of their records.
        from . import checks  # noqa: F401
        from .provisioning import signals  # noqa: F401

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Notifications: unicast to every open connection of one user.

    Sends go to the user's connections whatever their channel, so the channel of the
    notifications page (``notifications``, from ``AppChannelWebSocketMixin``) only
    needs a logged-in user.
    """

    name = "{{ cookiecutter.project_slug }}.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    nav_title = "Notifications"
    nav_url_name = "notifications:list"
    nav_description = "Toasts and an unread count for one user, on every tab they have open: unicast."
    websocket_routes = [("notifications", "notifications:websocket")]

    def ready(self):
        from django_aws_api_gateway_websockets.channel_access import register_channel_policy

        from .access import NOTIFICATIONS_CHANNEL, may_join_notifications_channel

        register_channel_policy(may_join_notifications_channel, name=NOTIFICATIONS_CHANNEL)

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """A live staff dashboard: figures broadcast to everyone watching it.

    The page uses ``AppChannelWebSocketMixin``, so its channel and route key are this
    app's label, ``dashboard``; ``websocket_routes`` maps that route to the app's own
    ``WebSocketView``.
    """

    name = "{{ cookiecutter.project_slug }}.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    nav_title = "Dashboard"
    nav_url_name = "dashboard:index"
    nav_description = "Live figures for staff, pushed by a server-side producer: broadcast to a group."
    websocket_routes = [("dashboard", "dashboard:websocket")]
    # `make dev` runs the producer beside Django, so the charts move on their own.
    dev_commands = [["dashboard_producer", "--every", "5"]]

    def shows_in_navigation(self, user):
        """The navigation links the page only for those who may open it."""
        from .access import can_watch_dashboard

        return can_watch_dashboard(user)

    def ready(self):
        from django_aws_api_gateway_websockets.channel_access import register_channel_policy

        from .access import DASHBOARD_CHANNEL, may_join_dashboard_channel

        # Only staff who may watch the dashboard can open a socket on its channel.
        register_channel_policy(may_join_dashboard_channel, name=DASHBOARD_CHANNEL)

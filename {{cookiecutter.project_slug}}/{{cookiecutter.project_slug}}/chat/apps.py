from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Chat rooms: multicast to everyone in a room's channel.

    ``nav_title``/``nav_url_name`` put the app in the site's navigation;
    ``websocket_routes`` tells ``make dev`` (and whoever provisions API Gateway) that
    messages with ``"action": "chat"`` go to this app's own ``WebSocketView``.
    """

    name = "{{ cookiecutter.project_slug }}.chat"
    label = "chat"
    verbose_name = "Chat"
    default_auto_field = "django.db.models.BigAutoField"

    nav_title = "Chat"
    nav_url_name = "chat:rooms"
    nav_description = "Rooms where everyone sees each message at once: multicast to a channel."
    websocket_routes = [("chat", "chat:websocket")]

    def ready(self):
        from django_aws_api_gateway_websockets.channel_access import register_channel_policy

        # Importing access connects its signals (connections close when access ends).
        from .access import may_join_room_channel
        from .models import ROOM_CHANNEL_PREFIX

        # The room is checked when the socket opens ($connect), whatever the page did.
        register_channel_policy(may_join_room_channel, prefix=ROOM_CHANNEL_PREFIX)

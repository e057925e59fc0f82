"""004 Settings: "permissions_required" and "all_permissions_required"."""

from django_aws_api_gateway_websockets.views import WebSocketView


class ChatWebSocketView(WebSocketView):
    permissions_required = [
        "chat.can_use_chat",
    ]

    def default(self, request, *args, **kwargs):
        return None


class ModerationWebSocketView(WebSocketView):
    all_permissions_required = [
        "chat.can_use_chat",
        "chat.can_moderate_chat",
    ]

    def default(self, request, *args, **kwargs):
        return None

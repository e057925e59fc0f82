"""004 Settings: "Recommended production settings", the WebSocket view."""

from django_aws_api_gateway_websockets.views import WebSocketView


class ProductionWebSocketView(WebSocketView):
    USE_WS_TOKEN = True
    RATE_LIMIT_ENABLED = True
    RATE_LIMIT_MAX_ATTEMPTS = 20
    RATE_LIMIT_WINDOW_MINUTES = 5
    ALLOWED_HANDLERS = {
        "default",
        "send_message",
        "fetch_history",
    }
    permissions_required = [
        "chat.can_use_chat",
    ]

    def default(self, request, *args, **kwargs):
        return None

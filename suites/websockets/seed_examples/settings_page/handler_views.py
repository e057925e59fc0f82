"""004 Settings: "ALLOWED_HANDLERS" and "ADDITIONAL_ALLOWED_HANDLERS"."""

from django_aws_api_gateway_websockets.views import WebSocketView


class ChatWebSocketView(WebSocketView):
    ALLOWED_HANDLERS = {
        "default",
        "send_message",
        "fetch_history",
    }

    def send_message(self, request, *args, **kwargs):
        return None

    def fetch_history(self, request, *args, **kwargs):
        return None

    def default(self, request, *args, **kwargs):
        return None


class BaseChatWebSocketView(WebSocketView):
    ADDITIONAL_ALLOWED_HANDLERS = [
        "send_message",
        "fetch_history",
    ]

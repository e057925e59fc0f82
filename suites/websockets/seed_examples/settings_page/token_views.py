"""004 Settings: "USE_WS_TOKEN"."""

from django_aws_api_gateway_websockets.views import WebSocketView


class NotificationsWebSocketView(WebSocketView):
    USE_WS_TOKEN = True

    def default(self, request, *args, **kwargs):
        return None


class PublicWebSocketView(WebSocketView):
    USE_WS_TOKEN = False

    def default(self, request, *args, **kwargs):
        return None

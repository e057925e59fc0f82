"""004 Settings: "aws_api_gateway_id"."""

from django_aws_api_gateway_websockets.views import WebSocketView


class ProductionWebSocketView(WebSocketView):
    aws_api_gateway_id = "abc123"

    def default(self, request, *args, **kwargs):
        return None

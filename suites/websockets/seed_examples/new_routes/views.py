"""003 Adding new routes: "Create the Django view"."""

from django_aws_api_gateway_websockets.views import WebSocketView


class NotificationsWebSocketView(WebSocketView):
    route_key = "notifications"

    def default(self, request, *args, **kwargs):
        # Handle the incoming WebSocket message here.
        return None

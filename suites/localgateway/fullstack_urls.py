"""The project's URLs plus one view per custom route, as a project adding routes has them."""

from django.http import JsonResponse
from django.urls import include, path

from django_aws_api_gateway_websockets.views import WebSocketView


class NotificationsWebSocketView(WebSocketView):
    """A custom route's own view (behaviour document "Adding new routes")."""

    route_key = "notifications"

    def default(self, request, *args, **kwargs):
        return JsonResponse({"via": "notifications view", "text": self.body.get("text")})


urlpatterns = [
    path("websockets/notifications/", NotificationsWebSocketView.as_view(), name="websocket-notifications"),
    path("", include("config.urls")),
]

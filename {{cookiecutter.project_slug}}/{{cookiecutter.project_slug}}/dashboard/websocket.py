"""The dashboard's own WebSocket endpoint: API Gateway's route ``dashboard`` calls it."""

from django.http import JsonResponse

from django_aws_api_gateway_websockets.views import WebSocketView

from .access import WATCH_PERMISSION
from .figures import figures_message, push_figures, take_sample
from .models import Sample


class DashboardWebSocketView(WebSocketView):
    """Handlers: ``refresh`` (measure now and push to every open dashboard) and
    ``latest`` (the newest figures, answered to the sender).

    ``permissions_required`` refuses messages from users without the permission;
    staff status is checked on top (see ``has_websocket_permissions``).
    """

    route_key = "dashboard"
    permissions_required = [WATCH_PERMISSION]

    def has_websocket_permissions(self, user):
        return super().has_websocket_permissions(user) and user.is_staff and user.is_active

    def refresh(self, request, *args, **kwargs):
        push_figures()
        return None

    def latest(self, request, *args, **kwargs):
        sample = Sample.objects.order_by("-taken_on", "-id").first() or take_sample()
        return JsonResponse(figures_message(sample))

    def default(self, request, *args, **kwargs):
        return JsonResponse({"type": "dashboard.error", "error": "unknown dashboard handler"}, status=400)

"""004 Settings: "AddWebSocketRouteToContextMixin"."""

from django.views.generic import TemplateView

from django_aws_api_gateway_websockets.mixins import AddWebSocketRouteToContextMixin


class DashboardView(AddWebSocketRouteToContextMixin, TemplateView):
    template_name = "dashboard.html"
    websocket_route_key = "dashboard"
    channel_name = "dashboard"

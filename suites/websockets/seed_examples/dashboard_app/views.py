"""004 Settings: "AppChannelWebSocketMixin"."""

from django.views.generic import TemplateView

from django_aws_api_gateway_websockets.mixins import AppChannelWebSocketMixin


class DashboardView(AppChannelWebSocketMixin, TemplateView):
    template_name = "dashboard.html"
    app_channel_override = "custom_dashboard_channel"

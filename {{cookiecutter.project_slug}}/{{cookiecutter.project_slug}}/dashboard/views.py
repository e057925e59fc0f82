"""The dashboard page (staff only)."""

from django.contrib.auth.mixins import UserPassesTestMixin
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.generic import TemplateView

from django_aws_api_gateway_websockets.mixins import AppChannelWebSocketMixin

from .access import can_watch_dashboard
from .figures import recent_samples


@method_decorator(ensure_csrf_cookie, name="dispatch")
class DashboardView(UserPassesTestMixin, AppChannelWebSocketMixin, TemplateView):
    """Live figures. ``AppChannelWebSocketMixin`` puts the channel and route key
    ``dashboard`` (this app's label) into the context. Visitors who are not logged
    in go to the login page; logged-in users who may not watch get a 403 page that
    says the page is for staff (and, in development, how to log in as the demo
    staff user)."""

    template_name = "dashboard/index.html"

    def test_func(self):
        return can_watch_dashboard(self.request.user)

    def handle_no_permission(self):
        if not self.request.user.is_authenticated:
            return super().handle_no_permission()
        return TemplateResponse(self.request, "dashboard/staff_only.html", status=403)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        samples = recent_samples()
        context.update(
            latest=samples[-1] if samples else None,
            dashboard_config={
                **context["websocket_config"],
                "samples": [sample.as_payload() for sample in samples],
            },
        )
        return context

"""The site's URLs plus a bare page that drives the JavaScript client (test_js_client)."""

from pathlib import Path

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.template import Context, Engine
from django.urls import include, path
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.generic import TemplateView

from django_aws_api_gateway_websockets.mixins import AddWebSocketRouteToContextMixin

TEMPLATES = Engine(
    dirs=[Path(__file__).resolve().parent / "templates"],
    libraries={"static": "django.templatetags.static"},
)


@method_decorator(ensure_csrf_cookie, name="dispatch")
class ClientPageView(LoginRequiredMixin, AddWebSocketRouteToContextMixin, TemplateView):
    """``apigw-socket.js`` on its own, on the channel in ``?channel=`` (default ``lobby``)."""

    template_name = "client_page.html"

    def get_channel_name(self):
        return self.request.GET.get("channel", "lobby")

    def render_to_response(self, context, **response_kwargs):
        settings = {
            "websocketUrl": context["websocket_url"],
            "channel": context["channel_name"],
            "tokenUrl": context["websocket_token_url"],
        }
        page = TEMPLATES.get_template(self.template_name).render(Context({"client_settings": settings}))
        response = HttpResponse(page)
        # This test page drives the client from an inline script, and Playwright polls it
        # with evaluated strings; the site's own pages need neither.
        response["Content-Security-Policy"] = (
            "script-src 'self' 'unsafe-inline' 'unsafe-eval'; connect-src 'self' ws://127.0.0.1:*"
        )
        return response


urlpatterns = [
    path("e2e/client/", ClientPageView.as_view(), name="e2e-client"),
    path("", include("config.urls")),
]

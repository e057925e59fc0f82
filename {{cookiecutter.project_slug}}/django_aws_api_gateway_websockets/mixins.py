"""Template-view mixins that give a page what its JavaScript needs to connect.

Both add to the template context:

- ``api_gateway_route``: the ``ApiGatewayAdditionalRoute`` whose route key is the
  view's ``websocket_route_key`` (None when there is none);
- ``channel_name``: the channel the page joins (``?channel=`` of the socket URL);
- ``websocket_url``: where the browser connects, from the route's API, else the first
  API that has been created;
- ``websocket_token_url``: the token endpoint (``websocket_token``);
- ``websocket_action``: the ``action`` the page's messages carry (the route key,
  ``"default"`` without one), which API Gateway uses to pick the route;
- ``websocket_config``: the four above as the JavaScript client's page settings,
  ``{"websocketUrl", "channel", "action", "tokenUrl"}``, ready for ``json_script``.

Example::

    class DashboardView(AddWebSocketRouteToContextMixin, TemplateView):
        template_name = "dashboard.html"
        websocket_route_key = "dashboard"
        channel_name = "dashboard"
"""

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse

from .models import ApiGateway, ApiGatewayAdditionalRoute

DEFAULT_ACTION = "default"


class AddWebSocketRouteToContextMixin:
    """Adds the WebSocket route, channel and connection details to the context."""

    websocket_route_key = None
    channel_name = None

    def get_websocket_route_key(self):
        return self.websocket_route_key

    def get_channel_name(self):
        return self.channel_name

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        route_key = self.get_websocket_route_key()
        route = None
        if route_key:
            route = (
                ApiGatewayAdditionalRoute.objects.select_related("api_gateway")
                .filter(route_key=route_key)
                .order_by("-deployed", "pk")
                .first()
            )
        gateway = route.api_gateway if route else ApiGateway.objects.filter(api_created=True).order_by("pk").first()
        channel_name = self.get_channel_name()
        websocket_url = gateway.websocket_url if gateway else ""
        token_url = _token_url()
        action = route_key or DEFAULT_ACTION
        context.update(
            api_gateway_route=route,
            channel_name=channel_name,
            websocket_url=websocket_url,
            websocket_token_url=token_url,
            websocket_action=action,
            websocket_config={
                "websocketUrl": websocket_url,
                "channel": channel_name,
                "action": action,
                "tokenUrl": token_url,
            },
        )
        return context


class AppChannelWebSocketMixin(AddWebSocketRouteToContextMixin):
    """Like :class:`AddWebSocketRouteToContextMixin`, with the route key and the
    channel named after the Django app that defines the view (its app label).

    ``app_channel_override`` replaces the channel name; an explicit
    ``websocket_route_key`` replaces the route key.
    """

    app_channel_override = None

    def get_app_label(self):
        module = type(self).__module__
        app_config = apps.get_containing_app_config(module)
        if app_config is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__} uses AppChannelWebSocketMixin but its module {module} is not in an "
                "installed app; set websocket_route_key and channel_name (or use AddWebSocketRouteToContextMixin)."
            )
        return app_config.label

    def get_websocket_route_key(self):
        return self.websocket_route_key or self.get_app_label()

    def get_channel_name(self):
        return self.app_channel_override or self.channel_name or self.get_app_label()


def _token_url():
    try:
        return reverse("websocket_token")
    except NoReverseMatch:
        return ""

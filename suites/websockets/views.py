"""WebSocketView subclasses exercised by the tests (routed in tests/websockets/urls.py)."""

from django.http import HttpResponse, JsonResponse

from django_aws_api_gateway_websockets.views import WebSocketView


def said(name, view, **extra):
    """What every test handler answers: its own name, and what it saw."""
    return JsonResponse(
        {
            "handler": name,
            "route": view.route,
            "body": view.body,
            "user": view.request.user.get_username() if view.request.user.is_authenticated else None,
            "request_count": view.websocket_session.request_count,
            "session_pk": view.websocket_session.pk,
            **extra,
        }
    )


class PublicHelpersMixin:
    """A plain mixin: its public methods are NOT handlers unless listed."""

    def mixin_method(self, request, *args, **kwargs):
        return said("mixin_method", self)


class HandlerView(PublicHelpersMixin, WebSocketView):
    USE_WS_TOKEN = False

    def chat_message(self, request, *args, **kwargs):
        return said("chat_message", self)

    def fetch_history(self, request, *args, **kwargs):
        return said("fetch_history", self)

    def quiet(self, request, *args, **kwargs):
        return None

    def teapot(self, request, *args, **kwargs):
        return HttpResponse("short and stout", status=418)

    def not_a_response(self, request, *args, **kwargs):
        return {"this": "is not an HttpResponse"}

    def _private(self, request, *args, **kwargs):
        return said("_private", self)

    def default(self, request, *args, **kwargs):
        return said("default", self)


class ChildHandlerView(HandlerView):
    def child_only(self, request, *args, **kwargs):
        return said("child_only", self)


class AllowedHandlersView(WebSocketView):
    USE_WS_TOKEN = False
    ALLOWED_HANDLERS = {"default", "listed", "dispatch", "missing"}

    def listed(self, request, *args, **kwargs):
        return said("listed", self)

    def unlisted(self, request, *args, **kwargs):
        return said("unlisted", self)

    def default(self, request, *args, **kwargs):
        return said("default", self)


class AdditionalHandlersView(PublicHelpersMixin, WebSocketView):
    USE_WS_TOKEN = False
    ADDITIONAL_ALLOWED_HANDLERS = ["mixin_method", "setup"]


class DefaultOnlyView(WebSocketView):
    """No handlers at all: WebSocketView's own default answers 204."""

    USE_WS_TOKEN = False


class PublicView(WebSocketView):
    USE_WS_TOKEN = False

    def default(self, request, *args, **kwargs):
        return said("default", self)


class AnyPermissionView(WebSocketView):
    permissions_required = ["users.view_user", "users.change_user"]

    def default(self, request, *args, **kwargs):
        return said("default", self)


class AllPermissionsView(WebSocketView):
    all_permissions_required = ["users.view_user", "users.change_user"]

    def default(self, request, *args, **kwargs):
        return said("default", self)


class AnonymousPermissionView(WebSocketView):
    USE_WS_TOKEN = False
    permissions_required = ["users.view_user"]


class PinnedApiView(WebSocketView):
    USE_WS_TOKEN = False
    aws_api_gateway_id = "abc123defg"


class StrictHeadersView(WebSocketView):
    USE_WS_TOKEN = False
    additional_required_headers = ("X-Amzn-Trace-Id", "X-Forwarded-For")


class NoConnectionHeadersView(WebSocketView):
    USE_WS_TOKEN = False
    required_connection_headers = ()


class NotificationsRouteView(WebSocketView):
    """Routed without <slug:route>: every request is a message for route_key."""

    route_key = "notifications"

    def notifications(self, request, *args, **kwargs):
        return said("notifications", self)

    def mark_read(self, request, *args, **kwargs):
        return said("mark_read", self)

    def default(self, request, *args, **kwargs):
        return said("default", self)


class TightLimitView(WebSocketView):
    USE_WS_TOKEN = False
    RATE_LIMIT_MAX_ATTEMPTS = 3


class TightTokenLimitView(WebSocketView):
    RATE_LIMIT_MAX_ATTEMPTS = 3


class HooksView(WebSocketView):
    """Overrides the lifecycle hooks, calling super()."""

    USE_WS_TOKEN = False
    events = []

    def connect(self, request, *args, **kwargs):
        response = super().connect(request, *args, **kwargs)
        session = self.websocket_session
        self.events.append(("connect", response.status_code, session.pk if session else None))
        return response

    def disconnect(self, request, *args, **kwargs):
        response = super().disconnect(request, *args, **kwargs)
        session = self.websocket_session
        self.events.append(("disconnect", response.status_code, session.connected if session else None))
        return response

    def can_join_channel(self, request, user, channel_name):
        return channel_name != "forbidden-by-override"


class CustomHeartbeatView(WebSocketView):
    USE_WS_TOKEN = False

    def heartbeat(self, request, *args, **kwargs):
        return said("custom heartbeat", self)

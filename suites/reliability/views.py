"""WebSocketView subclasses that the fuzzing drives (routed in ``urls.py``).

Their handlers answer with their own name, so a test can tell which method ran,
and never echo the message back (a handler that did would be the test's problem,
not the view's).
"""

from django.http import JsonResponse

from django_aws_api_gateway_websockets.views import WebSocketView


def ran(name, view):
    return JsonResponse({"handler": name, "request_count": view.websocket_session.request_count})


class HelperMixin:
    """Public methods of a mixin are not handlers unless a view lists them."""

    def helper(self, request, *args, **kwargs):
        return ran("helper", self)


class FuzzView(HelperMixin, WebSocketView):
    """Tokenless, with a few handlers and a private method that must never run."""

    USE_WS_TOKEN = False

    def echo(self, request, *args, **kwargs):
        return ran("echo", self)

    def quiet(self, request, *args, **kwargs):
        return None

    def _private(self, request, *args, **kwargs):
        return ran("_private", self)

    def default(self, request, *args, **kwargs):
        return ran("default", self)


# The handlers a client may select on FuzzView (default and heartbeat always are).
FUZZ_VIEW_HANDLERS = frozenset({"echo", "quiet", "default", "heartbeat"})


class WideChannelView(WebSocketView):
    """A view that asks for longer channel names than the column holds, and a
    pattern that lets almost anything through: the column length still wins."""

    USE_WS_TOKEN = False
    RATE_LIMIT_ENABLED = False
    MAX_CHANNEL_NAME_LENGTH = 10_000
    CHANNEL_NAME_PATTERN = r"^\S+$"


class TightTokenView(WebSocketView):
    """Token-guarded, with a small rate limit: five attempts per address or user."""

    RATE_LIMIT_MAX_ATTEMPTS = 5

    def default(self, request, *args, **kwargs):
        return None

"""The same two WebSocket views for both implementations.

``BenchView`` connects without a token (anonymous clients); ``BenchTokenView``
requires the single-use ``?ws_token=``. Both have a handler ``bench`` that does
nothing, so a message measures the package's own work per callback, and
``bench_user``, which only reads ``request.user``.
"""

from django_aws_api_gateway_websockets.views import WebSocketView


class BenchView(WebSocketView):
    USE_WS_TOKEN = False

    def bench(self, request, *args, **kwargs):
        return None

    def bench_user(self, request, *args, **kwargs):
        # Most real handlers look at the sender: this one reads request.user.
        self.sender_is_authenticated = request.user.is_authenticated


class BenchTokenView(BenchView):
    USE_WS_TOKEN = True

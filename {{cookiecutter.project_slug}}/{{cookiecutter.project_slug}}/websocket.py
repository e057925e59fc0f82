"""The site's WebSocket endpoint: API Gateway calls it for ``$connect``,
``$disconnect`` and every ``$default`` message.

Routed in ``config/urls.py`` as ``ws/<slug:route>`` (URL name ``websocket``), so the
``ApiGateway`` record's target base endpoint is ``https://<site host>/ws/``.

Add one method per kind of message the pages send. With the JavaScript client,
``socket.send("fetch_history", {...})`` arrives as
``{"action": "default", "handler": "fetch_history", ...}`` and calls
``fetch_history(self, request, *args, **kwargs)`` here; ``self.body`` is the message,
``self.websocket_session`` the sender's session, ``request.user`` its user. Return
None (nothing goes back) or a ``JsonResponse`` (sent back to the sender as a frame).
"""

from django.http import JsonResponse

from django_aws_api_gateway_websockets.views import WebSocketView


class SiteWebSocketView(WebSocketView):
    """Connections of logged-in visitors: each ``$connect`` needs a fresh token from
    the token endpoint (``USE_WS_TOKEN`` stays on)."""

    def ping(self, request, *args, **kwargs):
        """Answer the sender: a round trip through API Gateway and back."""
        return JsonResponse({"type": "pong", "channel": self.websocket_session.channel_name})

    def default(self, request, *args, **kwargs):
        """A message that no handler takes: say so to the sender, so that a typo in
        a page's handler name shows up in its console instead of vanishing."""
        return JsonResponse(
            {
                "type": "unhandled",
                "action": self.body.get(self.route_selection_key),
                "handler": self.body.get(self.handler_selection_key),
            }
        )

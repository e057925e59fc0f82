"""The chat's own WebSocket endpoint: API Gateway's route ``chat`` calls it.

The room page's socket sends ``{"action": "chat", "handler": ..., ...}``; API Gateway
picks the ``chat`` route by ``action`` and POSTs the message to ``chat/ws/``, where
the handler named by ``handler`` runs. The room is always the one of the sender's
session (its channel, checked when the socket opened), never one named in the
message, so a client cannot post to or read a room by asking for it.
"""

import logging

from django.http import JsonResponse

from django_aws_api_gateway_websockets.request_checks import short_hash
from django_aws_api_gateway_websockets.views import WebSocketView

from .access import room_for_channel
from .history import page_of_messages
from .models import MAX_MESSAGE_LENGTH, Message

logger = logging.getLogger(__name__)


class ChatWebSocketView(WebSocketView):
    """Handlers: ``send_message`` (store, then multicast to the room) and
    ``fetch_history`` (a page of older or newer messages, answered to the sender)."""

    route_key = "chat"

    def send_message(self, request, *args, **kwargs):
        """``{"text": "..."}``: store the message, then send it to every connection
        in the room, the sender's included (that is its acknowledgement)."""
        room = self._room(request)
        if room is None:
            return self._refuse(403, "not in a room you may use")
        text = self.body.get("text")
        if not isinstance(text, str) or not text.strip():
            return self._refuse(400, "a message needs some text")
        text = text.strip()
        if len(text) > MAX_MESSAGE_LENGTH:
            return self._refuse(400, f"a message has at most {MAX_MESSAGE_LENGTH} characters")
        message = Message.objects.create(room=room, author=request.user, text=text)
        # Only to those the room is still open to, whoever is on its channel.
        room.recipients().send_message({"type": "chat.message", "message": message.as_payload()})
        return None

    def fetch_history(self, request, *args, **kwargs):
        """``{"before": <id>}`` pages back, ``{"after": <id>}`` catches up; the
        answer goes to the sender only: ``{"type": "chat.history", ...}``."""
        room = self._room(request)
        if room is None:
            return self._refuse(403, "not in a room you may use")
        before, after = self.body.get("before"), self.body.get("after")
        if before is not None and after is not None:
            return self._refuse(400, "ask for messages before or after one id, not both")
        for value in (before, after):
            if value is not None and (type(value) is not int or value < 0):
                return self._refuse(400, "before and after are message ids")
        messages, has_more = page_of_messages(room, before=before, after=after)
        return JsonResponse(
            {
                "type": "chat.history",
                "direction": "after" if after is not None else "before",
                "messages": [message.as_payload() for message in messages],
                "has_more": has_more,
            }
        )

    def default(self, request, *args, **kwargs):
        return self._refuse(400, "unknown chat handler")

    def _room(self, request):
        """The sender's room, if it is (still) open to the sender."""
        room = room_for_channel(self.websocket_session.channel_name)
        if room is None or not room.is_open_to(request.user):
            return None
        return room

    def _refuse(self, status, reason):
        logger.warning(
            "Refused chat message from connection %s (user %s, channel %r): %s",
            short_hash(self.connection_id),
            self.websocket_session.user_id,
            self.websocket_session.channel_name,
            reason,
        )
        return JsonResponse({"type": "chat.error", "error": reason}, status=status)

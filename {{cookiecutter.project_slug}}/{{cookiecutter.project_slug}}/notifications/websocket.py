"""The notifications' own WebSocket endpoint: API Gateway's route ``notifications``."""

import logging

from django.http import JsonResponse

from django_aws_api_gateway_websockets.request_checks import short_hash
from django_aws_api_gateway_websockets.views import WebSocketView

from .access import may_use_notifications
from .models import Notification
from .services import mark_read, notify, unread_count

logger = logging.getLogger(__name__)

MAX_IDS_PER_MESSAGE = 100
RECENT_COUNT = 20


class NotificationsWebSocketView(WebSocketView):
    """Handlers, each acting on the sender's own notifications only:

    - ``mark_read`` ``{"ids": [1, 2]}`` or ``{"all": true}``: every tab of the user
      then gets ``notifications.read`` with the new unread count;
    - ``summary``: the unread count and the latest notifications, to the sender
      (a page calls it after reconnecting, to catch up);
    - ``send_test``: a notification for the sender, to try it all out.
    """

    route_key = "notifications"

    def has_websocket_permissions(self, user):
        # Checked for every message: a user logged out or deactivated since the
        # socket opened is anonymous here, and refused.
        return may_use_notifications(user)

    def mark_read(self, request, *args, **kwargs):
        if self.body.get("all") is True:
            mark_read(request.user)
            return None
        ids = self.body.get("ids")
        if (
            not isinstance(ids, list)
            or not 0 < len(ids) <= MAX_IDS_PER_MESSAGE
            or not all(type(value) is int for value in ids)
        ):
            return self._refuse(400, f"ids must be a list of 1 to {MAX_IDS_PER_MESSAGE} notification ids")
        mark_read(request.user, ids)
        return None

    def summary(self, request, *args, **kwargs):
        recent = Notification.objects.filter(user=request.user)[:RECENT_COUNT]
        return JsonResponse(
            {
                "type": "notifications.summary",
                "unread": unread_count(request.user),
                "notifications": [notification.as_payload() for notification in recent],
            }
        )

    def send_test(self, request, *args, **kwargs):
        # No time in the text: the page shows the notification's created_on (ISO 8601
        # in the payload) in the browser's own locale and time zone, like every other.
        notify(
            request.user,
            "Test notification",
            "Sent to every tab you have open.",
            level=Notification.Level.SUCCESS,
        )
        return None

    def default(self, request, *args, **kwargs):
        return self._refuse(400, "unknown notifications handler")

    def _refuse(self, status, reason):
        logger.warning(
            "Refused notifications message from connection %s (user %s): %s",
            short_hash(self.connection_id),
            self.websocket_session.user_id,
            reason,
        )
        return JsonResponse({"type": "notifications.error", "error": reason}, status=status)

"""Scheduled clean-up: stale sessions, spent tokens and old connection attempts.

Run the management commands ``clearWebSocketSessions``, ``cleanupWebSocketTokens``
and ``cleanupconnectionratelimits`` from cron or a systemd timer. Each function here
returns how many rows it removed or changed (with ``dry_run=True``: would have).

What is safe to remove:

- A connected session whose ``updated_on`` is older than ``MAX_CONNECTION_SECONDS``
  (API Gateway closes every connection after two hours, and every message or
  heartbeat refreshes ``updated_on``) missed its ``$disconnect``: it is marked
  disconnected. A connected session younger than that is never touched.
- Disconnected sessions older than ``DISCONNECTED_SESSION_RETENTION_DAYS``.
- Tokens that are used or expired.
- Connection attempts older than ``RATE_LIMIT_RETENTION_HOURS`` and older than the
  longest rate-limit window of any ``WebSocketView``, so no limit forgets an attempt
  it still counts.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from .conf import ws_setting
from .models import ConnectionRateLimit, WebSocketSession, WebSocketToken


@dataclass(frozen=True)
class SessionCleanup:
    deleted: int
    marked_disconnected: int


def clear_websocket_sessions(dry_run=False, now=None):
    """Mark stale connected sessions disconnected; delete old disconnected ones."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=int(ws_setting("MAX_CONNECTION_SECONDS")))
    delete_before = now - timedelta(days=float(ws_setting("DISCONNECTED_SESSION_RETENTION_DAYS")))
    stale = WebSocketSession.objects.filter(connected=True, updated_on__lt=stale_before)
    old = WebSocketSession.objects.filter(connected=False, updated_on__lt=delete_before)
    if dry_run:
        return SessionCleanup(deleted=old.count(), marked_disconnected=stale.count())
    deleted, _ = old.delete()
    # Marked now, so they are kept for the retention period like any other.
    marked = stale.update(connected=False, updated_on=now)
    return SessionCleanup(deleted=deleted, marked_disconnected=marked)


def cleanup_websocket_tokens(dry_run=False, now=None):
    """Delete tokens that are used or expired and that the token rate limit no longer counts.

    The limit counts every token a user was issued in its window, used ones included,
    so deleting a used token earlier would hand the user fresh tokens before the
    window is over.
    """
    now = now or timezone.now()
    expiry = timedelta(seconds=int(ws_setting("TOKEN_EXPIRY_SECONDS")))
    window = timedelta(minutes=float(ws_setting("TOKEN_RATE_LIMIT_WINDOW_MINUTES")))
    spent = WebSocketToken.objects.filter(created_at__lt=now - max(expiry, window))
    if dry_run:
        return spent.count()
    return spent.delete()[0]


def longest_rate_limit_window_minutes():
    """The longest window of any routed ``WebSocketView`` (or of the settings)."""
    from .views import websocket_view_classes

    # WebSocketView's own window is the setting's.
    return max(float(view_class.RATE_LIMIT_WINDOW_MINUTES) for view_class in websocket_view_classes())


def cleanup_connection_rate_limits(dry_run=False, now=None):
    """Delete connection attempts that no rate limit counts any more."""
    now = now or timezone.now()
    keep = max(
        timedelta(hours=float(ws_setting("RATE_LIMIT_RETENTION_HOURS"))),
        timedelta(minutes=longest_rate_limit_window_minutes()),
    )
    old = ConnectionRateLimit.objects.filter(attempt_time__lt=now - keep)
    if dry_run:
        return old.count()
    return old.delete()[0]

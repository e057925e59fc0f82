"""Scheduled clean-up: stale sessions, spent tokens and old connection attempts.

The management commands ``clearWebSocketSessions`` and ``cleanupWebSocketTokens``
(the published package's, with its options and defaults) run these from cron or a
systemd timer. Each function returns how many rows it removed or changed (with
``dry_run=True``: would have).

What is safe to remove:

- Disconnected sessions (all of them by default, as the published command does), and
  background sends finished more than a day ago.
- A connected session whose ``updated_on`` is older than ``MAX_CONNECTION_SECONDS``
  (API Gateway closes every connection after two hours, and every message or
  heartbeat refreshes ``updated_on``) missed its ``$disconnect``: it is marked
  disconnected, and removed by a later run. A younger connected session is never
  touched.
- Tokens older than the given age, and never one that is still valid or that the
  token rate limit still counts (a used token counts for its window: deleting it
  early would hand the user fresh tokens before the window is over).
- Connection attempts older than the given age, and never one that the rate limit of
  any ``WebSocketView`` still counts.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from .conf import ws_setting
from .models import BackgroundSend, ConnectionRateLimit, WebSocketSession, WebSocketToken

DEFAULT_TOKEN_AGE_SECONDS = 300
DEFAULT_RATE_LIMIT_AGE_DAYS = 7


# Background sends (and their reports) are kept this long once all their chunks are done.
BACKGROUND_SEND_RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class SessionCleanup:
    deleted: int
    marked_disconnected: int
    background_sends_deleted: int = 0


def clear_websocket_sessions(older_than_days=0, dry_run=False, now=None):
    """Delete disconnected sessions last updated more than ``older_than_days`` ago (0:
    every one), then mark stale connected sessions disconnected."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=int(ws_setting("MAX_CONNECTION_SECONDS")))
    old = WebSocketSession.objects.filter(connected=False, updated_on__lte=now - timedelta(days=older_than_days))
    stale = WebSocketSession.objects.filter(connected=True, updated_on__lt=stale_before)
    finished_sends = BackgroundSend.objects.finished_before(now - BACKGROUND_SEND_RETENTION)
    if dry_run:
        return SessionCleanup(old.count(), stale.count(), finished_sends.count())
    deleted, _ = old.delete()
    marked = stale.update(connected=False, updated_on=now)
    sends = finished_sends.delete()[1].get(BackgroundSend._meta.label, 0)
    return SessionCleanup(deleted, marked, sends)


def token_age_kept(requested_seconds=None):
    """The age (a timedelta) below which tokens are kept: ``requested_seconds``
    (default 300), or longer when a token that young is still valid or still counted
    by the token rate limit."""
    requested = timedelta(seconds=DEFAULT_TOKEN_AGE_SECONDS if requested_seconds is None else requested_seconds)
    expiry = timedelta(seconds=float(ws_setting("TOKEN_EXPIRY_SECONDS")))
    window = timedelta(minutes=float(ws_setting("TOKEN_RATE_LIMIT_WINDOW_MINUTES")))
    return max(requested, expiry, window)


def cleanup_websocket_tokens(token_age_seconds=None, dry_run=False, now=None):
    """Delete tokens older than :func:`token_age_kept` (used or expired by then)."""
    now = now or timezone.now()
    spent = WebSocketToken.objects.filter(created_at__lt=now - token_age_kept(token_age_seconds))
    if dry_run:
        return spent.count()
    return spent.delete()[0]


def rate_limit_age_kept(requested_days=DEFAULT_RATE_LIMIT_AGE_DAYS):
    """The age below which connection attempts are kept: ``requested_days``, or the
    longest rate-limit window of any routed ``WebSocketView`` when that is longer."""
    from .views import websocket_view_classes

    # WebSocketView's own window is the setting's.
    longest_window = max(float(view_class.RATE_LIMIT_WINDOW_MINUTES) for view_class in websocket_view_classes())
    return max(timedelta(days=requested_days), timedelta(minutes=longest_window))


def cleanup_connection_rate_limits(older_than_days=DEFAULT_RATE_LIMIT_AGE_DAYS, dry_run=False, now=None):
    """Delete connection attempts older than :func:`rate_limit_age_kept`."""
    now = now or timezone.now()
    old = ConnectionRateLimit.objects.filter(attempt_time__lt=now - rate_limit_age_kept(older_than_days))
    if dry_run:
        return old.count()
    return old.delete()[0]

"""Who may watch the dashboard: active staff users with the ``watch_dashboard``
permission (superusers have every permission)."""

# AppChannelWebSocketMixin names the page's channel after the app label.
DASHBOARD_CHANNEL = "dashboard"
WATCH_PERMISSION = "dashboard.watch_dashboard"


def can_watch_dashboard(user):
    return bool(user.is_authenticated and user.is_active and user.is_staff and user.has_perm(WATCH_PERMISSION))


def may_join_dashboard_channel(user, channel_name):
    """Channel policy for the dashboard's channel, checked on ``$connect``."""
    return can_watch_dashboard(user)

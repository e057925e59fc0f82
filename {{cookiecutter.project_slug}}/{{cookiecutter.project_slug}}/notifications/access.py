"""Who may use the notifications page's socket: any logged-in, active user. What
each one receives is decided per user by ``notify``, not by the channel."""

# AppChannelWebSocketMixin names the page's channel after the app label.
NOTIFICATIONS_CHANNEL = "notifications"


def may_use_notifications(user):
    return bool(user.is_authenticated and user.is_active)


def may_join_notifications_channel(user, channel_name):
    """Channel policy for the notifications channel, checked on ``$connect``."""
    return may_use_notifications(user)

"""``notify(user, title, ...)``: store a notification and push it to the user.

::

    from {{ cookiecutter.project_slug }}.notifications.services import notify

    notify(order.customer, "Your order has shipped", f"Tracking number {number}", level="success")

The notification is stored first (so the page shows it even if no tab is open),
then sent to every open connection of that user, and to nobody else.
"""

from django_aws_api_gateway_websockets.models import WebSocketSession

from .models import Notification


def unread_count(user):
    return Notification.objects.filter(user=user).unread().count()


def notify(user, title, body="", *, level=Notification.Level.INFO):
    """Store a notification for ``user`` and send it to each of their open connections.
    Returns the notification and the send report (``report.delivered``: the open tabs
    reached).

    Call it once the data it talks about is committed (``transaction.on_commit``
    inside a transaction), so that a page reacting to it finds that data.
    """
    notification = Notification(user=user, title=title, body=body, level=level)
    notification.full_clean(exclude=["user"])
    notification.save()
    report = WebSocketSession.objects.for_user(user).send_message(
        {"type": "notification", "notification": notification.as_payload(), "unread": unread_count(user)},
    )
    return notification, report


def mark_read(user, ids=None):
    """Mark ``user``'s notifications read (those with these ids, or all of them) and
    tell every open connection of the user, so all their tabs agree. Returns the ids
    that changed."""
    notifications = Notification.objects.filter(user=user)
    if ids is not None:
        notifications = notifications.filter(pk__in=ids)
    changed = notifications.mark_read()
    if changed:
        WebSocketSession.objects.for_user(user).send_message(
            {"type": "notifications.read", "ids": changed, "unread": unread_count(user)}
        )
    return changed

"""Access that ends: a user's open sockets close when the user's access does.

API Gateway keeps a socket open for up to two hours whatever happens in Django, and
sends go to every open session of a channel or user. So when access ends, the
connections it opened are closed at API Gateway (DeleteConnection) and their sessions
marked disconnected, before anything else is sent to them:

- logging out closes the connections opened from that browser's login session;
- deactivating a user (``is_active = False``) or deleting one closes all of theirs.

Apps close what their own rules grant (a chat room a user was removed from, say)
with ``WebSocketSession.objects.filter(...).close_connections()``.
"""

import logging

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_delete

from .managers import digest
from .models import WebSocketSession

logger = logging.getLogger(__name__)


def close_connections_of(user, browser_session_key=None):
    """Close ``user``'s open connections (only those opened from the login session
    ``browser_session_key``, when given). Returns the send report."""
    sessions = WebSocketSession.objects.filter(user_id=user.pk, connected=True)
    if browser_session_key:
        sessions = sessions.filter(browser_session=digest(browser_session_key))
    report = sessions.close_connections()
    if report.attempted:
        logger.info("Closed %d connection(s) of user %s", report.attempted, user.pk)
    return report


def on_logout(sender, request=None, user=None, **kwargs):
    session = getattr(request, "session", None)
    if user is not None and session is not None and session.session_key:
        close_connections_of(user, session.session_key)


def on_user_saved(sender, instance, raw=False, **kwargs):
    if not raw and not instance.is_active:
        close_connections_of(instance)


def on_user_deleted(sender, instance, **kwargs):
    # Before the cascade deletes the session rows that name the connections.
    close_connections_of(instance)


def connect_signals():
    user_logged_out.connect(on_logout, dispatch_uid="websockets_close_on_logout")
    post_save.connect(on_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="websockets_close_on_deactivate")
    pre_delete.connect(on_user_deleted, sender=settings.AUTH_USER_MODEL, dispatch_uid="websockets_close_on_delete")

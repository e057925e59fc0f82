"""Who may use which room, on the socket as on the page, and access that ends.

A room's channel is ``chat-<room slug>``. The browser asks for it in the socket URL
(``?channel=chat-general``), which proves nothing, so :func:`may_join_room_channel` is
checked on ``$connect`` (registered as a channel policy in ``apps.py``); sends go to
:meth:`Room.recipients`, which applies the same rule again; and when the rule changes
for someone (removed from a private room, a room made private or deleted), the
connections it no longer allows are closed (:func:`close_connections_no_longer_allowed`,
run by the signals below), so an open page stops receiving at once.
"""

from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import receiver

from django_aws_api_gateway_websockets.models import WebSocketSession

from .models import Room, room_slug_from_channel


def room_for_channel(channel_name):
    """The ``Room`` behind a room channel, or None."""
    slug = room_slug_from_channel(channel_name)
    return Room.objects.filter(slug=slug).first() if slug else None


def may_join_room_channel(user, channel_name):
    """Channel policy: only users the room is open to may join its channel; a
    channel that names no room is refused."""
    room = room_for_channel(channel_name)
    return room is not None and room.is_open_to(user)


def close_connections_no_longer_allowed(room):
    """Close the room's open connections whose users it no longer lets in."""
    on_channel = WebSocketSession.objects.filter(channel_name=room.channel_name, connected=True)
    return on_channel.exclude(pk__in=room.recipients().values("pk")).close_connections()


@receiver(m2m_changed, sender=Room.members.through, dispatch_uid="chat_members_changed")
def members_changed(sender, instance, action, reverse=False, pk_set=None, **kwargs):
    if action not in ("post_remove", "post_clear"):
        return
    rooms = Room.objects.filter(pk__in=pk_set or ()) if reverse else [instance]
    if reverse and action == "post_clear":
        # A user's memberships all went at once: every private room may be affected.
        rooms = Room.objects.filter(is_private=True)
    for room in rooms:
        if room.is_private:
            close_connections_no_longer_allowed(room)


@receiver(post_save, sender=Room, dispatch_uid="chat_room_saved")
def room_saved(sender, instance, created=False, raw=False, **kwargs):
    if not raw and not created and instance.is_private:
        close_connections_no_longer_allowed(instance)


@receiver(pre_delete, sender=Room, dispatch_uid="chat_room_deleted")
def room_deleted(sender, instance, **kwargs):
    WebSocketSession.objects.filter(channel_name=instance.channel_name, connected=True).close_connections()

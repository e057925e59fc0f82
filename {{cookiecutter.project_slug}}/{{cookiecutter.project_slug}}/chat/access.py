"""Who may join which room's channel.

A room's channel is ``chat-<room slug>``. The browser asks for it in the socket URL
(``?channel=chat-general``), which proves nothing, so this check runs on ``$connect``
(registered as a channel policy in ``apps.py``) and again for every message.
"""

ROOM_CHANNEL_PREFIX = "chat-"


def room_channel_name(room_slug):
    """The channel whose sessions receive the room's messages."""
    return f"{ROOM_CHANNEL_PREFIX}{room_slug}"


def room_slug_from_channel(channel_name):
    """The room slug a channel stands for, or None when it is not a room channel."""
    if not channel_name or not channel_name.startswith(ROOM_CHANNEL_PREFIX):
        return None
    return channel_name[len(ROOM_CHANNEL_PREFIX) :] or None


def room_for_channel(channel_name):
    """The ``Room`` behind a room channel, or None."""
    from .models import Room

    slug = room_slug_from_channel(channel_name)
    return Room.objects.filter(slug=slug).first() if slug else None


def may_join_room_channel(user, channel_name):
    """Channel policy: only users the room is open to may join its channel; a
    channel that names no room is refused."""
    room = room_for_channel(channel_name)
    return room is not None and room.is_open_to(user)

"""Rooms and the messages posted in them."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from django_aws_api_gateway_websockets.models import WebSocketSession

MAX_MESSAGE_LENGTH = 2000
# A room's channel is chat-<room slug>.
ROOM_CHANNEL_PREFIX = "chat-"


def room_channel_name(room_slug):
    """The channel whose sessions receive the room's messages."""
    return f"{ROOM_CHANNEL_PREFIX}{room_slug}"


def room_slug_from_channel(channel_name):
    """The room slug a channel stands for, or None when it is not a room channel."""
    if not channel_name or not channel_name.startswith(ROOM_CHANNEL_PREFIX):
        return None
    return channel_name[len(ROOM_CHANNEL_PREFIX) :] or None


class RoomQuerySet(models.QuerySet):
    def open_to(self, user):
        """The rooms ``user`` may read and post in (see :meth:`Room.is_open_to`)."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_staff:
            return self.all()
        membership = Room.members.through.objects.filter(room_id=OuterRef("pk"), user_id=user.pk)
        return self.filter(Q(is_private=False) | Exists(membership))


class Room(models.Model):
    """A chat room. Public rooms are open to every logged-in user; private rooms to
    their members and to staff (who moderate)."""

    slug = models.SlugField(max_length=50, unique=True, help_text="Part of the URL and of the channel name.")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=200, blank=True, default="")
    is_private = models.BooleanField(default=False, help_text="Only members (and staff) may join.")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="chat_rooms")
    created_on = models.DateTimeField(auto_now_add=True)

    objects = RoomQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def channel_name(self):
        return room_channel_name(self.slug)

    def is_open_to(self, user):
        if not (user.is_authenticated and user.is_active):
            return False
        if not self.is_private or user.is_staff:
            return True
        return self.members.filter(pk=user.pk).exists()

    def recipients(self):
        """The room's open sessions whose users it is (still) open to: the rule of
        :meth:`is_open_to`, checked again for every message sent, in the query."""
        sessions = WebSocketSession.objects.filter(channel_name=self.channel_name, connected=True, user__is_active=True)
        if self.is_private:
            sessions = sessions.filter(Q(user__is_staff=True) | Q(user__chat_rooms=self))
        return sessions


class Message(models.Model):
    """One message, stored before it is sent to the room."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="chat_messages"
    )
    text = models.TextField(max_length=MAX_MESSAGE_LENGTH)
    created_on = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["room", "id"], name="chat_message_room_idx")]

    def __str__(self):
        return f"{self.author} in {self.room}: {self.text[:40]}"

    def as_payload(self):
        """What pages receive: plain data, rendered as text by the browser."""
        return {
            "id": self.pk,
            "room": self.room.slug,
            "author": self.author.get_username() if self.author else None,
            "text": self.text,
            "created_on": self.created_on.isoformat(),
        }

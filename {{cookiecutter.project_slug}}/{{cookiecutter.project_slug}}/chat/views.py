"""The room list and the room page."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.generic import DetailView, ListView

from django_aws_api_gateway_websockets.mixins import AddWebSocketRouteToContextMixin

from .history import page_of_messages
from .models import Room


class RoomListView(LoginRequiredMixin, ListView):
    """Every room; the ones closed to the visitor are shown locked."""

    template_name = "chat/room_list.html"
    context_object_name = "rooms"

    def get_queryset(self):
        return Room.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        open_ids = set(Room.objects.open_to(self.request.user).values_list("pk", flat=True))
        context["room_entries"] = [(room, room.pk in open_ids) for room in context["rooms"]]
        return context


@method_decorator(ensure_csrf_cookie, name="dispatch")
class RoomView(LoginRequiredMixin, AddWebSocketRouteToContextMixin, DetailView):
    """One room: its latest messages, and a socket on the room's channel.

    ``websocket_route_key = "chat"`` makes the page's messages carry
    ``"action": "chat"``, so API Gateway hands them to ``ChatWebSocketView``.
    """

    model = Room
    template_name = "chat/room.html"
    context_object_name = "room"
    websocket_route_key = "chat"

    def get_object(self, queryset=None):
        room = get_object_or_404(Room, slug=self.kwargs["slug"])
        if not room.is_open_to(self.request.user):
            raise PermissionDenied("This room is open to its members only.")
        return room

    def get_channel_name(self):
        return self.object.channel_name

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        messages, has_more = page_of_messages(self.object)
        context.update(
            rooms=Room.objects.open_to(self.request.user),
            chat_config={
                **context["websocket_config"],
                "username": self.request.user.get_username(),
                "messages": [message.as_payload() for message in messages],
                "hasMore": has_more,
            },
        )
        return context

"""Who may join a room: checked on $connect, whatever channel the browser asks for."""

import pytest
from django.contrib.auth.models import AnonymousUser

from django_aws_api_gateway_websockets import channel_access
from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession
from django_aws_api_gateway_websockets.testing import WebSocketTestClient

from {{ cookiecutter.project_slug }}.chat.access import may_join_room_channel
from {{ cookiecutter.project_slug }}.chat.models import Room, room_channel_name, room_slug_from_channel

pytestmark = pytest.mark.django_db


def test_a_room_channel_is_named_after_the_room():
    assert room_channel_name("lobby") == "chat-lobby"
    assert Room(slug="lobby").channel_name == "chat-lobby"
    assert room_slug_from_channel("chat-lobby") == "lobby"
    assert room_slug_from_channel("chat-") is None
    assert room_slug_from_channel("lobby") is None
    assert room_slug_from_channel("") is None


def test_the_policy_is_registered_for_every_room_channel():
    checks = [policy.check for policy in channel_access.policies_for("chat-anything")]
    assert may_join_room_channel in checks
    assert may_join_room_channel not in [policy.check for policy in channel_access.policies_for("lobby")]


def test_public_rooms_are_open_to_logged_in_users_only(lobby, make_user):
    alice = make_user("alice")
    retired = make_user("retired", is_active=False)
    assert lobby.is_open_to(alice)
    assert not lobby.is_open_to(AnonymousUser())
    assert not lobby.is_open_to(retired)


def test_private_rooms_are_open_to_members_and_staff(vault, make_user):
    member, stranger, staff = make_user("member"), make_user("stranger"), make_user("moderator", is_staff=True)
    vault.members.add(member)
    assert vault.is_open_to(member)
    assert vault.is_open_to(staff)
    assert not vault.is_open_to(stranger)


def test_open_to_lists_exactly_the_rooms_is_open_to_allows(lobby, vault, make_user):
    member, stranger, staff = make_user("member"), make_user("stranger"), make_user("moderator", is_staff=True)
    other_member = make_user("other")
    vault.members.add(member, other_member)
    for user in (member, stranger, staff):
        listed = list(Room.objects.open_to(user).filter(slug__in=["lobby", "vault"]))
        expected = [room for room in (lobby, vault) if room.is_open_to(user)]
        assert sorted(listed, key=lambda room: room.pk) == sorted(expected, key=lambda room: room.pk)


def test_a_member_connects_to_a_private_room(vault, make_user, socket_for):
    member = make_user("member")
    vault.members.add(member)
    ws = socket_for(member, "chat-vault")
    session = WebSocketSession.objects.get(connection_id=ws.connection_id)
    assert (session.user, session.channel_name) == (member, "chat-vault")


@pytest.mark.parametrize("channel", ["chat-vault", "chat-no-such-room"])
def test_a_user_without_access_is_refused_at_connect(channel, vault, make_user, api_gateway, browser_for):
    stranger = make_user("stranger")
    ws = WebSocketTestClient(api_gateway, browser_for(stranger))
    response = ws.connect(channel=channel, token=ws.fetch_token())
    assert response.status_code == 403
    assert response.json() == {"error": "channel not allowed"}
    assert not WebSocketSession.objects.exists()
    # The refused attempt still counts against the rate limit.
    assert ConnectionRateLimit.objects.get().successful is False

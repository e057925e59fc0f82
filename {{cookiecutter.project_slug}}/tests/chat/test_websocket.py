"""ChatWebSocketView: messages are stored, then sent to the room; history pages."""

import pytest
from django.urls import resolve, reverse

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.testing import capture_messages

from {{ cookiecutter.project_slug }}.chat.models import MAX_MESSAGE_LENGTH, Message, Room
from {{ cookiecutter.project_slug }}.chat.websocket import ChatWebSocketView

from .conftest import chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


def test_the_chat_route_reaches_the_chat_view():
    assert resolve(reverse("chat:websocket")).func.view_class is ChatWebSocketView


def test_a_message_is_stored_then_sent_to_everyone_in_the_room(lobby, alice, bob, socket_for):
    alice_ws, bob_ws = socket_for(alice, "chat-lobby"), socket_for(bob, "chat-lobby")
    elsewhere = socket_for(bob, "lobby")
    with capture_messages() as sent:
        response = chat(alice_ws, "send_message", text="  Hello Bob  ")
    assert response.status_code == 204
    message = Message.objects.get()
    assert (message.room, message.author, message.text) == (lobby, alice, "Hello Bob")
    assert {m.connection_id for m in sent} == {alice_ws.connection_id, bob_ws.connection_id}
    assert elsewhere.connection_id not in {m.connection_id for m in sent}
    assert sent[0].payload == {
        "type": "chat.message",
        "message": {
            "id": message.pk,
            "room": "lobby",
            "author": "alice",
            "text": "Hello Bob",
            "created_on": message.created_on.isoformat(),
        },
    }


def test_the_room_is_the_sessions_never_one_named_in_the_message(lobby, vault, alice, socket_for):
    ws = socket_for(alice, "chat-lobby")
    with capture_messages() as sent:
        chat(ws, "send_message", text="hi", room="vault", channel="chat-vault")
    assert Message.objects.get().room == lobby
    assert {m.channel_name for m in sent} == {"chat-lobby"}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "a message needs some text"),
        ("   \n ", "a message needs some text"),
        (None, "a message needs some text"),
        (42, "a message needs some text"),
        (["hi"], "a message needs some text"),
        ("x" * (MAX_MESSAGE_LENGTH + 1), f"a message has at most {MAX_MESSAGE_LENGTH} characters"),
    ],
)
def test_bad_text_is_refused_and_changes_nothing(text, error, lobby, alice, socket_for, caplog):
    ws = socket_for(alice, "chat-lobby")
    with capture_messages() as sent:
        response = chat(ws, "send_message", text=text)
    assert response.status_code == 400
    assert response.json() == {"type": "chat.error", "error": error}
    assert not Message.objects.exists()
    assert sent == []
    assert error in caplog.text


def test_the_longest_message_is_accepted(lobby, alice, socket_for):
    ws = socket_for(alice, "chat-lobby")
    with capture_messages():
        assert chat(ws, "send_message", text="x" * MAX_MESSAGE_LENGTH).status_code == 204
    assert len(Message.objects.get().text) == MAX_MESSAGE_LENGTH


def test_html_is_stored_and_sent_as_plain_text(lobby, alice, socket_for):
    ws = socket_for(alice, "chat-lobby")
    text = '<img src=x onerror="alert(1)">'
    with capture_messages() as sent:
        chat(ws, "send_message", text=text)
    assert Message.objects.get().text == text
    assert sent[0].payload["message"]["text"] == text


def test_a_member_removed_after_connecting_is_disconnected_and_can_no_longer_post_or_read(vault, make_user, socket_for):
    member, other = make_user("member"), make_user("other")
    vault.members.add(member, other)
    ws, others_ws = socket_for(member, "chat-vault"), socket_for(other, "chat-vault")
    with capture_messages() as closed:
        vault.members.remove(member)
    # The removed member's connection is closed at API Gateway, the other member's stays.
    assert [(m.connection_id, m.closed) for m in closed] == [(ws.connection_id, True)]
    with capture_messages() as sent:
        posted = chat(ws, "send_message", text="still here?")
        history = chat(ws, "fetch_history")
        chat(others_ws, "send_message", text="the member is gone")
    assert (posted.status_code, history.status_code) == (410, 410)
    assert [message.connection_id for message in sent] == [others_ws.connection_id]
    assert list(Message.objects.values_list("text", flat=True)) == ["the member is gone"]


def test_a_message_reaches_only_those_the_room_is_still_open_to(vault, make_user, socket_for):
    member, outsider = make_user("member"), make_user("outsider")
    vault.members.add(member)
    member_ws = socket_for(member, "chat-vault")
    # A session on the vault's channel whose user the vault never let in (opened before
    # a rule changed, or by hand): the multicast checks the room's rule again.
    stray = WebSocketSession.objects.create(
        connection_id="strayAAAAAAAAAA=", channel_name="chat-vault", user=outsider, api_gateway=member_ws.api_gateway
    )
    with capture_messages() as sent:
        assert chat(member_ws, "send_message", text="members only").status_code == 204
    assert [message.connection_id for message in sent] == [member_ws.connection_id]
    assert stray.connection_id not in {message.connection_id for message in sent}


def test_making_a_room_private_or_deleting_it_closes_the_connections_it_no_longer_allows(lobby, make_user, socket_for):
    member, outsider = make_user("member"), make_user("outsider")
    lobby.members.add(member)
    member_ws, outsider_ws = socket_for(member, "chat-lobby"), socket_for(outsider, "chat-lobby")
    with capture_messages() as closed:
        lobby.is_private = True
        lobby.save()
    assert [m.connection_id for m in closed] == [outsider_ws.connection_id]
    with capture_messages() as closed:
        lobby.delete()
    assert [m.connection_id for m in closed] == [member_ws.connection_id]
    assert not WebSocketSession.objects.filter(connected=True).exists()


def test_a_socket_outside_any_room_cannot_post(lobby, alice, socket_for):
    ws = socket_for(alice, "lobby")
    assert chat(ws, "send_message", text="hi").status_code == 403
    assert not Message.objects.exists()


def _post(room, author, count):
    return [Message.objects.create(room=room, author=author, text=f"message {n}") for n in range(count)]


def test_history_pages_back_then_catches_up(lobby, alice, socket_for):
    messages = _post(lobby, alice, 120)
    ws = socket_for(alice, "chat-lobby")

    newest = chat(ws, "fetch_history").json()
    assert newest["type"] == "chat.history"
    assert [m["id"] for m in newest["messages"]] == [m.pk for m in messages[70:]]
    assert newest["has_more"] is True

    older = chat(ws, "fetch_history", before=newest["messages"][0]["id"]).json()
    assert [m["id"] for m in older["messages"]] == [m.pk for m in messages[20:70]]
    assert older["has_more"] is True
    oldest = chat(ws, "fetch_history", before=older["messages"][0]["id"]).json()
    assert [m["id"] for m in oldest["messages"]] == [m.pk for m in messages[:20]]
    assert oldest["has_more"] is False

    caught_up = chat(ws, "fetch_history", after=messages[100].pk).json()
    assert caught_up["direction"] == "after"
    assert [m["id"] for m in caught_up["messages"]] == [m.pk for m in messages[101:]]
    assert caught_up["has_more"] is False
    assert chat(ws, "fetch_history", after=messages[10].pk).json()["has_more"] is True


def test_history_only_holds_the_senders_room(lobby, alice, socket_for):
    other = Room.objects.create(slug="other", name="Other")
    Message.objects.create(room=other, author=alice, text="elsewhere")
    mine = Message.objects.create(room=lobby, author=alice, text="here")
    ws = socket_for(alice, "chat-lobby")
    assert [m["id"] for m in chat(ws, "fetch_history").json()["messages"]] == [mine.pk]


@pytest.mark.parametrize(
    "params",
    [{"before": "10"}, {"before": -1}, {"after": True}, {"after": 1.5}, {"before": 5, "after": 1}],
)
def test_bad_history_requests_are_refused(params, lobby, alice, socket_for):
    ws = socket_for(alice, "chat-lobby")
    response = chat(ws, "fetch_history", **params)
    assert response.status_code == 400
    assert response.json()["type"] == "chat.error"


def test_a_message_for_no_handler_is_refused(lobby, alice, socket_for):
    ws = socket_for(alice, "chat-lobby")
    path = reverse("chat:websocket")
    assert ws.message({"action": "chat"}, path=path).json() == {"type": "chat.error", "error": "unknown chat handler"}
    unknown = ws.message({"action": "chat", "handler": "delete_everything"}, path=path)
    assert unknown.status_code == 400
    internals = ws.message({"action": "chat", "handler": "_room"}, path=path)
    assert internals.status_code == 400


def test_a_burst_of_500_messages_stores_at_most_the_configured_limit(lobby, alice, socket_for, settings):
    """A flooding client: past WEBSOCKETS["MESSAGE_RATE_LIMIT_MAX_MESSAGES"] in the
    window, messages are refused (429) before the handler, so nothing is stored or sent."""
    limit = settings.WEBSOCKETS["MESSAGE_RATE_LIMIT_MAX_MESSAGES"]
    ws = socket_for(alice, "chat-lobby")
    with capture_messages() as sent:
        statuses = [chat(ws, "send_message", text=f"flood {n}").status_code for n in range(500)]
    assert statuses == [204] * limit + [429] * (500 - limit)
    assert Message.objects.count() == limit
    assert len(sent) == limit

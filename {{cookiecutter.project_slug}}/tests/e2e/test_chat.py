"""Chat in a real browser: two people in one room, a room that refuses a stranger,
and user text that stays text."""

import pytest
from playwright.sync_api import expect

from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession

from {{ cookiecutter.project_slug }}.chat.models import Message, Room

from .conftest import screenshot, wait_until

pytestmark = pytest.mark.e2e


def open_room(site, user, slug):
    page = site.open(user, f"/chat/rooms/{slug}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "open")
    return page


def say(page, text):
    page.locator("#message-text").fill(text)
    page.get_by_role("button", name="Send").click()


def test_two_people_see_each_others_messages_within_a_second(site, make_user):
    Room.objects.create(slug="lobby", name="Lobby", description="Say hello.")
    alice, bob = make_user("alice"), make_user("bob")
    alice_page, bob_page = open_room(site, alice, "lobby"), open_room(site, bob, "lobby")

    say(alice_page, "Hello Bob!")
    expect(bob_page.locator("#messages .chat-message").last).to_contain_text("Hello Bob!", timeout=1000)
    expect(bob_page.locator("#messages .chat-message .author").last).to_have_text("alice")
    say(bob_page, "Hi Alice, good to see you.")
    expect(alice_page.locator("#messages .chat-message").last).to_contain_text("Hi Alice", timeout=1000)

    # Each message was stored once, and each page shows both, in order.
    assert list(Message.objects.values_list("author__username", "text")) == [
        ("alice", "Hello Bob!"),
        ("bob", "Hi Alice, good to see you."),
    ]
    for page in (alice_page, bob_page):
        expect(page.locator("#messages .chat-message .text")).to_have_text(["Hello Bob!", "Hi Alice, good to see you."])
    expect(alice_page.locator("#messages .chat-message.mine .text")).to_have_text(["Hello Bob!"])
    screenshot(alice_page, "chat")


def test_user_text_is_shown_as_text_never_as_html(site, make_user):
    Room.objects.create(slug="lobby", name="Lobby")
    alice, bob = make_user("alice"), make_user("bob")
    alice_page, bob_page = open_room(site, alice, "lobby"), open_room(site, bob, "lobby")
    attack = '<img src="x" onerror="window.injected = true"><b>bold</b>'
    say(alice_page, attack)
    expect(bob_page.locator("#messages .chat-message .text").last).to_have_text(attack)
    for page in (alice_page, bob_page):
        assert page.locator("#messages img, #messages b").count() == 0
        assert page.evaluate("window.injected") is None
    # Stored messages reach a newly opened page the same way.
    late = open_room(site, make_user("carol"), "lobby")
    expect(late.locator("#messages .chat-message .text").last).to_have_text(attack)
    assert late.locator("#messages img").count() == 0


OPEN_SOCKET_SCRIPT = """
async ([url, channel]) => {
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken=")).split("=")[1];
  const answer = await fetch("/websockets/token/", {method: "POST", headers: {"X-CSRFToken": csrf}});
  const {token} = await answer.json();
  const target = `${url}?channel=${encodeURIComponent(channel)}&ws_token=${encodeURIComponent(token)}`;
  return await new Promise((resolve) => {
    const socket = new WebSocket(target);
    socket.onopen = () => { socket.close(); resolve("open"); };
    socket.onclose = (event) => resolve(`closed ${event.code}`);
  });
}
"""


def test_a_room_refuses_a_user_without_access(site, make_user):
    Room.objects.create(slug="lobby", name="Lobby")
    Room.objects.create(slug="vault", name="Vault", is_private=True)
    carol = make_user("carol")
    site.expect_refusal("/chat/rooms/vault/", 403)
    site.expect_socket_refusal("chat-vault")

    # The page says no...
    refused = site.open(carol, "/chat/rooms/vault/")
    expect(refused.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(refused.locator("main")).to_contain_text("members only")
    assert refused.locator("#status").count() == 0

    # ...and so does $connect, whatever channel a hand-made socket asks for. The same
    # browser, from a room it may use, shows the difference.
    page = open_room(site, carol, "lobby")
    url = site.api.websocket_url
    assert page.evaluate(OPEN_SOCKET_SCRIPT, [url, "chat-lobby"]) == "open"
    assert page.evaluate(OPEN_SOCKET_SCRIPT, [url, "chat-vault"]) == "closed 1006"
    assert not WebSocketSession.objects.filter(channel_name="chat-vault").exists()
    assert ConnectionRateLimit.objects.filter(user=carol, successful=False).count() == 1

    # Nothing said in the vault reaches carol.
    member = make_user("member")
    Room.objects.get(slug="vault").members.add(member)
    vault_page = open_room(site, member, "vault")
    say(vault_page, "secret plans")
    expect(vault_page.locator("#messages .chat-message .text")).to_have_text(["secret plans"])
    say(page, "anyone here?")
    expect(page.locator("#messages .chat-message .text")).to_have_text(["anyone here?"])


def test_a_member_removed_from_a_private_room_stops_receiving_without_reloading(site, make_user):
    vault = Room.objects.create(slug="vault", name="Vault", is_private=True)
    member, leaver = make_user("member"), make_user("leaver")
    vault.members.add(member, leaver)
    member_page, leaver_page = open_room(site, member, "vault"), open_room(site, leaver, "vault")
    say(member_page, "before")
    expect(leaver_page.locator("#messages .chat-message .text")).to_have_text(["before"])

    # The removed member's client tries to reconnect, and $connect refuses it.
    site.expect_socket_refusal("chat-vault")
    vault.members.remove(leaver)
    wait_until(
        lambda: not WebSocketSession.objects.filter(user=leaver, connected=True).exists(),
        "the removed member's connection was not closed",
    )
    expect(leaver_page.locator("#status")).not_to_have_attribute("data-state", "open")
    say(member_page, "after the leaver left")
    expect(member_page.locator("#messages .chat-message .text")).to_have_text(["before", "after the leaver left"])
    leaver_page.wait_for_timeout(500)
    expect(leaver_page.locator("#messages .chat-message .text")).to_have_text(["before"])

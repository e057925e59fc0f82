"""The JavaScript client (apigw-socket.js) in a real Chromium, against the local API
Gateway and Django: tokens, server pushes, reconnection after the gateway drops the
connection, channel switches and the heartbeat against the idle timeout."""

import base64
import http.client
import os
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import expect

from django_aws_api_gateway_websockets import aws
from django_aws_api_gateway_websockets.managers import token_digest as digest
from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession, WebSocketToken
from localgateway.config import GatewayConfig
from localgateway.threaded import ThreadedGateway

from .conftest import build_site, tear_down_site, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.urls("tests.e2e.urls")]

IDLE_TIMEOUT_SECONDS = 1.0
HEARTBEAT_MS = 250


def open_client(site, user, query=""):
    """The client page, open; returns it and the URL of every socket it opens."""
    page = site.browser_for(user).new_page()
    socket_urls = []
    page.on("websocket", lambda websocket: socket_urls.append(websocket.url))
    page.goto(f"/e2e/client/{query}")
    expect(page.locator("#status")).to_have_attribute("data-state", "open")
    return page, socket_urls


def query_of(url):
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def wait_for_opens(page, count):
    page.wait_for_function(f"() => window.clientEvents.filter((event) => event.type === 'open').length === {count}")


def open_session(user):
    wait_until(
        lambda: WebSocketSession.objects.filter(user=user, connected=True).count() == 1,
        f"expected exactly one open session of {user}",
    )
    return WebSocketSession.objects.get(user=user, connected=True)


def handshake_status(url, cookie, origin):
    """Start a WebSocket handshake as a browser would; the HTTP status of the answer."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(
            "GET",
            f"{parts.path}?{parts.query}",
            headers={
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
                "Sec-WebSocket-Version": "13",
                "Cookie": cookie,
                "Origin": origin,
            },
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_page_connects_with_a_token_and_a_server_push_arrives(site, make_user):
    alice = make_user("alice")
    page, socket_urls = open_client(site, alice)

    (url,) = socket_urls
    assert url.startswith(site.api.websocket_url)
    params = query_of(url)
    assert params["channel"] == "lobby"
    token = WebSocketToken.objects.get(token=digest(params["ws_token"]))
    assert (token.user, token.used) == (alice, True)
    session = open_session(alice)
    assert session.channel_name == "lobby"

    report = session.send_message({"type": "e2e.push", "text": "from Django"})
    assert report.delivered == [session.connection_id]
    expect(page.locator("#log li")).to_have_text(['{"type":"e2e.push","text":"from Django"}'])


def test_a_dropped_connection_comes_back_with_a_new_token_and_the_old_one_is_refused(site, make_user):
    alice = make_user("alice")
    page, socket_urls = open_client(site, alice)
    first = open_session(alice)

    # The gateway drops the connection (DELETE @connections, as the server side can).
    manager = aws.get_client("apigatewaymanagementapi", endpoint_url=site.api.management_endpoint_url)
    manager.delete_connection(ConnectionId=first.connection_id)
    wait_for_opens(page, 2)
    events = [event["type"] for event in page.evaluate("window.clientEvents")]
    assert {"close", "reconnecting"} <= set(events[1 : events.index("open", 1)])

    second = open_session(alice)
    assert second.connection_id != first.connection_id
    first.refresh_from_db()
    assert not first.connected
    old_token, new_token = (query_of(url)["ws_token"] for url in socket_urls)
    assert old_token != new_token
    assert WebSocketToken.objects.filter(user=alice, used=True).count() == 2

    # The old token, presented again with the same browser session, is refused.
    session_id = next(c["value"] for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    status = handshake_status(socket_urls[0], f"{settings.SESSION_COOKIE_NAME}={session_id}", site.url)
    assert status == 403
    assert ConnectionRateLimit.objects.filter(successful=False).count() == 1
    assert WebSocketSession.objects.filter(user=alice, connected=True).get() == second

    # And the new connection works.
    second.send_message({"type": "e2e.push", "n": 2})
    expect(page.locator("#log li")).to_have_text(['{"type":"e2e.push","n":2}'])


def test_a_channel_switch_moves_the_session_to_the_new_channel(site, make_user):
    alice = make_user("alice")
    page, socket_urls = open_client(site, alice)
    before = open_session(alice)

    page.evaluate("window.socket.switchChannel('room-2')")
    wait_for_opens(page, 2)
    after = open_session(alice)
    assert after.channel_name == "room-2"
    before.refresh_from_db()
    assert (before.channel_name, before.connected) == ("lobby", False)
    assert query_of(socket_urls[1])["channel"] == "room-2"
    assert query_of(socket_urls[0])["ws_token"] != query_of(socket_urls[1])["ws_token"]

    # A multicast to the old channel no longer reaches the page; one to the new channel does.
    WebSocketSession.objects.filter(channel_name="lobby").send_message({"to": "lobby"})
    WebSocketSession.objects.filter(channel_name="room-2").send_message({"to": "room-2"})
    expect(page.locator("#log li")).to_have_text(['{"to":"room-2"}'])


@pytest.fixture
def idle_site(transactional_db, live_server, settings, new_context):
    """A site whose gateway closes connections after a second without a message."""
    config = GatewayConfig(
        idle_timeout_seconds=IDLE_TIMEOUT_SECONDS, disconnect_timeout_seconds=5.0, close_timeout_seconds=2.0
    )
    gateway = ThreadedGateway(config).start()
    running = build_site(live_server, gateway, settings, new_context)
    yield running
    tear_down_site(running)
    gateway.stop()


# A bare WebSocket with a fresh token and no heartbeat; resolves with its close code.
IDLE_SOCKET_SCRIPT = """
async (url) => {
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken=")).split("=")[1];
  const answer = await fetch("/websockets/token/", {method: "POST", headers: {"X-CSRFToken": csrf}});
  const {token} = await answer.json();
  return await new Promise((resolve) => {
    const socket = new WebSocket(`${url}?channel=idle&ws_token=${encodeURIComponent(token)}`);
    socket.onclose = (event) => resolve(event.code);
  });
}
"""


def test_the_heartbeat_keeps_a_connection_open_past_the_idle_timeout(idle_site, make_user):
    alice = make_user("alice")
    page, _ = open_client(idle_site, alice, f"?heartbeat={HEARTBEAT_MS}")
    session = open_session(alice)

    # Without a heartbeat, the gateway closes an idle connection (1001, going away)...
    assert page.evaluate(IDLE_SOCKET_SCRIPT, idle_site.api.websocket_url) == 1001
    # ...while the client's connection, older by now, stays open well past the limit.
    # (Waiting ends early, and the assertion below fails, if the connection closes.)
    page.wait_for_function(
        "(age) => window.clientEvents.some((event) => event.type === 'close')"
        " || Date.now() - window.socket.connectedAt > age",
        arg=3000 * IDLE_TIMEOUT_SECONDS,
    )
    assert [event["type"] for event in page.evaluate("window.clientEvents")] == ["open"]
    session.refresh_from_db()
    assert session.connected
    # Django saw the heartbeats: the session was touched long after it opened.
    assert session.updated_on - session.created_on > timedelta(seconds=2 * IDLE_TIMEOUT_SECONDS)
    assert WebSocketSession.objects.filter(channel_name="idle", connected=False).count() == 1

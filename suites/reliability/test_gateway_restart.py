"""In a real Chromium: the JavaScript client across a restart of the API Gateway.

The browser fixtures are the end-to-end suite's (``tests/e2e/conftest.py``): Django in
the live server, the local API Gateway provisioned by the project's own code, and
Debian's Chromium. This test runs a gateway of its own, so that stopping it disturbs
no other test; the restarted gateway keeps the first one's port and state (its
deployed API), as API Gateway keeps its endpoint when a node goes away.
"""

import re

import pytest
from playwright.sync_api import expect

from django_aws_api_gateway_websockets.models import WebSocketSession, WebSocketToken
from localgateway.threaded import ThreadedGateway
from tests.e2e.conftest import build_site, tear_down_site
from tests.localgateway.support import gateway_config

AREA = "AWS faults"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Pings the page sends: before the restart, while the gateway is down, after it is back.
BEFORE, WHILE_DOWN, AFTER = 5, 3, 5


@pytest.fixture
def restartable_site(transactional_db, live_server, settings, new_context):
    """A site whose local gateway the test may stop and start again on the same port."""
    gateway = ThreadedGateway(gateway_config()).start()
    running = build_site(live_server, gateway, settings, new_context)
    yield running
    tear_down_site(running)
    running.gateway.stop()


def client_events(page):
    return [event["type"] for event in page.evaluate("window.clientEvents")]


def send_pings(page, count):
    page.evaluate("(count) => { for (let i = 0; i < count; i++) window.socket.send('ping', { n: i }); }", count)


def pongs(page):
    return page.locator("#log li", has_text='"type":"pong"')


@pytest.mark.urls("tests.e2e.urls")
def test_the_client_reconnects_after_a_gateway_restart_and_loses_no_message(restartable_site, make_user, cases):
    """Gateway restarted mid-session: the JavaScript client reconnects with a fresh token and loses no message.

    Messages sent before the restart, while the gateway is down (queued by the client)
    and after it is back all reach Django and are answered."""
    site = restartable_site
    alice = make_user("alice")
    page = site.browser_for(alice).new_page()
    page.goto("/e2e/client/")
    expect(page.locator("#status")).to_have_attribute("data-state", "open")
    send_pings(page, BEFORE)
    expect(pongs(page)).to_have_count(BEFORE)
    first = WebSocketSession.objects.get(user=alice, connected=True)

    # Restart: every socket is closed ("going away") and gets its $disconnect.
    port, state = site.gateway.port, site.gateway.gateway.state
    # While it is down, the browser's attempts to reconnect find nothing listening.
    site.expect_console_error(
        rf"WebSocket connection to '{re.escape(site.api.websocket_url)}\?[^']*' failed: .*ERR_CONNECTION_REFUSED"
    )
    site.gateway.stop()
    page.wait_for_function("() => window.clientEvents.some((event) => event.type === 'reconnecting')")
    send_pings(page, WHILE_DOWN)  # queued by the client until it is connected again
    site.gateway = ThreadedGateway(gateway_config(), port=port, state=state).start()

    page.wait_for_function("() => window.clientEvents.filter((event) => event.type === 'open').length === 2")
    send_pings(page, AFTER)
    expect(pongs(page)).to_have_count(BEFORE + WHILE_DOWN + AFTER)
    cases.add(BEFORE + WHILE_DOWN + AFTER)

    second = WebSocketSession.objects.get(user=alice, connected=True)
    assert second.connection_id != first.connection_id
    first.refresh_from_db()
    assert (first.connected, first.request_count) == (False, BEFORE)
    assert second.request_count == WHILE_DOWN + AFTER
    # Two tokens opened the two connections; any fetched while the gateway was down
    # were never presented, and none was used twice.
    assert WebSocketToken.objects.filter(user=alice, used=True).count() == 2
    assert client_events(page)[:3] == ["open", "close", "reconnecting"]

"""The WebSocket app is wired up: a real socket through the local API Gateway reaches
the site's view and Django's sends reach the socket.

The API is provisioned the way ``make dev`` does it, the site runs in pytest-django's
live server, and the client is aiohttp's WebSocket client carrying a logged-in
browser's cookie and a token from the token endpoint.
"""

import asyncio
import time
from urllib.parse import urlsplit

import aiohttp
import pytest
from django.test import Client

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.testing import browser_cookie_header, fetch_websocket_token
from localdev.local_api import configure_local_api, provision
from localgateway.config import GatewayConfig
from localgateway.threaded import ThreadedGateway

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 10


@pytest.fixture
def site_origin(live_server, settings):
    """The live server's origin, trusted as the pages' origin."""
    settings.CSRF_TRUSTED_ORIGINS = [live_server.url]
    return live_server.url


@pytest.fixture
def local_api(live_server, settings):
    """The local gateway with an API provisioned for the live server, as make dev does."""
    gateway = ThreadedGateway(GatewayConfig(close_timeout_seconds=2.0)).start()
    settings.AWS_ENDPOINT_URL_APIGATEWAYV2 = gateway.url
    record, _ = configure_local_api(urlsplit(live_server.url).port)
    provision(record)
    record.refresh_from_db()
    yield gateway, record
    gateway.stop()


def wait_until(predicate):
    deadline = time.monotonic() + WAIT_SECONDS
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_connect_message_send_and_disconnect_through_the_local_gateway(local_api, site_origin, user):
    gateway, record = local_api
    browser = Client()
    browser.force_login(user)
    url = f"{record.websocket_url}?channel=general&ws_token={fetch_websocket_token(browser)}"
    # What a browser on the site sends with its handshake: its cookies (the token
    # endpoint's binding cookie among them) and the page's Origin.
    headers = {"Cookie": browser_cookie_header(browser), "Origin": site_origin}

    async def scenario():
        async with aiohttp.ClientSession() as http:
            socket = await http.ws_connect(url, headers=headers)
            await socket.send_json({"action": "default", "handler": "ping"})
            pong = await socket.receive_json(timeout=WAIT_SECONDS)
            session = await asyncio.to_thread(WebSocketSession.objects.get)
            report = await asyncio.to_thread(session.send_message, {"type": "hello", "from": "Django"})
            pushed = await socket.receive_json(timeout=WAIT_SECONDS)
            await socket.close()
        return pong, session, report, pushed

    pong, session, report, pushed = asyncio.run(scenario())
    assert pong == {"type": "pong", "channel": "general"}
    assert (session.user, session.channel_name, session.api_gateway) == (user, "general", record)
    assert report.delivered == [session.connection_id]
    assert pushed == {"type": "hello", "from": "Django"}
    # $disconnect reaches Django once the socket has closed.
    wait_until(lambda: not WebSocketSession.objects.get().connected)
    assert WebSocketSession.objects.get().request_count == 1


def test_a_forged_callback_cannot_act_on_a_real_connection(local_api, site_origin, live_server, user):
    """An outsider who learnt the API id and a live connection id POSTs to the site's
    callback URL as API Gateway would, minus the secret: refused, and the real socket
    keeps working."""
    gateway, record = local_api
    browser = Client()
    browser.force_login(user)
    url = f"{record.websocket_url}?channel=general&ws_token={fetch_websocket_token(browser)}"
    headers = {"Cookie": browser_cookie_header(browser), "Origin": site_origin}

    async def forge(http, route, body=b""):
        session = await asyncio.to_thread(WebSocketSession.objects.get)
        headers = {
            "User-Agent": f"AmazonAPIGateway_{record.api_id}",
            "X-Amzn-Apigateway-Api-Id": record.api_id,
            "Connectionid": session.connection_id,
            "X-Forwarded-For": "198.51.100.66",
            "X-Gateway-Secret": "guessed",
        }
        async with http.post(f"{live_server.url}/ws/{route}", data=body, headers=headers) as answer:
            return answer.status, await answer.read()

    async def scenario():
        async with aiohttp.ClientSession() as http:
            socket = await http.ws_connect(url, headers=headers)
            forged = [
                await forge(http, "default", b'{"action": "default", "handler": "ping"}'),
                await forge(http, "disconnect"),
            ]
            # The real connection is untouched: it pings and receives.
            await socket.send_json({"action": "default", "handler": "ping"})
            pong = await socket.receive_json(timeout=WAIT_SECONDS)
            await socket.close()
        return forged, pong

    forged, pong = asyncio.run(scenario())
    assert forged == [(403, b'{"error": "forbidden"}')] * 2
    assert pong == {"type": "pong", "channel": "general"}
    wait_until(lambda: not WebSocketSession.objects.get().connected)
    assert WebSocketSession.objects.get().request_count == 1

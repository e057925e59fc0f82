"""Browser -> local gateway -> Django's WebSocketView (live server) -> back, for real.

The gateway is provisioned by the provisioning code, Django runs in pytest-django's
live server, the client is aiohttp's WebSocket client and Django answers through
the management API with the app's own messaging code.
"""

import asyncio
import time

import aiohttp
import pytest
from django.urls import reverse

from django_aws_api_gateway_websockets import provisioning
from django_aws_api_gateway_websockets.models import ApiGateway, ApiGatewayAdditionalRoute, WebSocketSession
from django_aws_api_gateway_websockets.testing import browser_cookie_header, fetch_websocket_token

from .support import WAIT_SECONDS, connect_and_close, start_gateway, talk

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.localgateway.fullstack_urls")]


@pytest.fixture
def stack(settings, live_server):
    """A provisioned local API whose integrations call the live Django server."""
    gateway = start_gateway()
    settings.AWS_ENDPOINT_URL_APIGATEWAYV2 = gateway.url
    record = ApiGateway.objects.create(
        api_name="Full stack", default_channel_name="lobby", target_base_endpoint=f"{live_server.url}/ws/"
    )
    ApiGatewayAdditionalRoute.objects.create(
        api_gateway=record,
        name="Notifications",
        route_key="notifications",
        integration_url=live_server.url + reverse("websocket-notifications"),
    )
    provisioning.create_api(record)
    record.refresh_from_db()
    yield gateway, record
    gateway.stop()


def _browser_headers(client):
    """What a logged-in browser sends with its handshake: its session cookie and Origin."""
    return {"Cookie": browser_cookie_header(client), "Origin": "https://localhost"}


def _wait_until(predicate):
    deadline = time.monotonic() + WAIT_SECONDS
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_connect_message_custom_route_reply_and_disconnect(stack, client, user):
    gateway, record = stack
    client.force_login(user)
    token = fetch_websocket_token(client)

    async def conversation(websocket):
        await websocket.send_str('{"action": "ping"}')
        pong = await websocket.receive_json(timeout=WAIT_SECONDS)
        await websocket.send_str('{"action": "notifications", "text": "hello"}')
        routed = await websocket.receive_json(timeout=WAIT_SECONDS)
        session_row = await asyncio.to_thread(WebSocketSession.objects.get)
        await asyncio.to_thread(session_row.send_message, {"pushed": "from Django"})
        pushed = await websocket.receive_json(timeout=WAIT_SECONDS)
        return pong, routed, pushed, session_row

    query = f"?channel=room-1&ws_token={token}"
    pong, routed, pushed, session_row = talk(gateway, conversation, query, headers=_browser_headers(client))
    assert pong == {"type": "pong", "channel": "room-1"}
    assert routed == {"via": "notifications view", "text": "hello"}
    assert pushed == {"pushed": "from Django"}
    assert session_row.user == user
    assert session_row.channel_name == "room-1"
    assert session_row.api_gateway == record
    _wait_until(lambda: not WebSocketSession.objects.get().connected)
    assert WebSocketSession.objects.get().request_count == 2


def test_a_refused_connect_fails_the_handshake(stack, client, user):
    gateway, _ = stack
    client.force_login(user)

    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        connect_and_close(gateway, "?channel=room-1&ws_token=not-a-token", headers=_browser_headers(client))
    assert refused.value.status == 403
    assert not WebSocketSession.objects.exists()


def test_deleting_a_connection_through_the_management_api_closes_the_session(stack, client, user):
    gateway, record = stack
    client.force_login(user)
    token = fetch_websocket_token(client)

    async def conversation(websocket):
        row = await asyncio.to_thread(WebSocketSession.objects.get)
        gone_before = await asyncio.to_thread(row.send_message, {"n": 1})
        await websocket.receive(timeout=WAIT_SECONDS)
        await asyncio.to_thread(_delete_connection, gateway, row.connection_id)
        closed = await websocket.receive(timeout=WAIT_SECONDS)
        return gone_before, closed, row

    report, closed, row = talk(gateway, conversation, f"?ws_token={token}", headers=_browser_headers(client))
    assert report.ok
    assert closed.type == aiohttp.WSMsgType.CLOSE
    assert row.channel_name == "lobby"
    _wait_until(lambda: not WebSocketSession.objects.get().connected)
    # Sending to the closed connection now meets 410 Gone.
    late = WebSocketSession.objects.get().send_message({"n": 2})
    assert not late.delivered


def _delete_connection(gateway, connection_id):
    from .support import management_client

    management_client(gateway).delete_connection(ConnectionId=connection_id)

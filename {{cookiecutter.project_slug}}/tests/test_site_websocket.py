"""The project's own WebSocket endpoint, SiteWebSocketView, routed at ws/<slug:route>."""

import pytest
from django.urls import resolve, reverse

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.testing import WebSocketTestClient

from {{ cookiecutter.project_slug }}.websocket import SiteWebSocketView

pytestmark = pytest.mark.django_db


@pytest.fixture
def ws(api_gateway, logged_in_client):
    """API Gateway in front of SiteWebSocketView, for a logged-in browser."""
    return WebSocketTestClient(api_gateway, logged_in_client)


@pytest.mark.parametrize("route", ["connect", "disconnect", "default"])
def test_api_gateway_reaches_it_at_ws_route(route):
    path = reverse("websocket", kwargs={"route": route})
    assert path == f"/ws/{route}"
    assert resolve(path).func.view_class is SiteWebSocketView


def test_a_logged_in_visitor_connects_pings_and_disconnects(ws, user):
    assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 200
    assert ws.message({"action": "default", "handler": "ping"}).json() == {"type": "pong", "channel": "general"}
    assert ws.message({"action": "heartbeat"}).status_code == 204
    assert ws.disconnect().status_code == 200
    session = WebSocketSession.objects.get()
    assert (session.user, session.request_count, session.connected) == (user, 1, False)


def test_a_connection_without_a_token_is_refused(ws):
    response = ws.connect(channel="general")
    assert response.status_code == 403
    assert not WebSocketSession.objects.exists()


def test_an_unhandled_action_is_reported_to_the_sender(ws):
    assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 200
    response = ws.message({"action": "no_such_thing"})
    assert response.json() == {"type": "unhandled", "action": "no_such_thing", "handler": None}

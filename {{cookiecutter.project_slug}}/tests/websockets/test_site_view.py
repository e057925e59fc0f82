"""The project's own WebSocket endpoint, SiteWebSocketView, routed at ws/<slug:route>."""

import pytest
from django.urls import resolve, reverse

from django_aws_api_gateway_websockets.models import WebSocketSession

from {{ cookiecutter.project_slug }}.websocket import SiteWebSocketView

from .conftest import assert_refused

pytestmark = pytest.mark.django_db


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


def test_tokens_are_required(ws):
    assert_refused(ws.connect(channel="general"), 403, "invalid token")


def test_an_unhandled_action_is_reported_to_the_sender(connected_ws):
    response = connected_ws.message({"action": "no_such_thing"})
    assert response.json() == {"type": "unhandled", "action": "no_such_thing", "handler": None}


def test_an_unknown_handler_is_refused(connected_ws, unchanged):
    with unchanged():
        assert_refused(connected_ws.message({"action": "default", "handler": "no_such_thing"}), 400)

"""$disconnect: one UPDATE marks the session closed; unknown connections get a 4xx."""

import pytest

from django_aws_api_gateway_websockets.models import WebSocketSession

from .conftest import assert_refused
from .views import HooksView

pytestmark = pytest.mark.urls("tests.websockets.urls")


def test_a_disconnect_marks_the_session_disconnected(connected_ws):
    before = WebSocketSession.objects.get()
    response = connected_ws.disconnect()
    assert (response.status_code, response.content) == (200, b"")
    after = WebSocketSession.objects.get()
    assert after.connected is False
    assert after.updated_on > before.updated_on
    assert after.request_count == before.request_count


def test_a_disconnect_costs_one_query(connected_ws, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert connected_ws.disconnect().status_code == 200


def test_a_repeated_disconnect_is_harmless(connected_ws):
    assert connected_ws.disconnect().status_code == 200
    assert connected_ws.disconnect().status_code == 200
    assert WebSocketSession.objects.get().connected is False


def test_an_unknown_connection_gets_the_uniform_403(connected_ws, unchanged):
    with unchanged():
        assert_refused(connected_ws.disconnect(connection_id="UnKnOwNcOnNeC1D="), 403, "forbidden")


def test_a_disconnect_needs_api_gateways_user_agent(connected_ws, unchanged):
    with unchanged():
        response = connected_ws.disconnect(headers={"User-Agent": "AmazonAPIGateway_someoneelse"})
    assert_refused(response, 403)
    assert WebSocketSession.objects.get().connected is True


def test_other_sessions_are_untouched(connected_ws):
    first = connected_ws.connection_id
    second = connected_ws.connect(channel="general", token=connected_ws.fetch_token()).connection_id
    assert connected_ws.disconnect(connection_id=second).status_code == 200
    assert dict(WebSocketSession.objects.values_list("connection_id", "connected")) == {first: True, second: False}


def test_the_disconnect_hook_sees_the_closed_session(make_ws):
    HooksView.events.clear()
    ws = make_ws("/t/hooks/")
    assert ws.connect().status_code == 200
    assert ws.disconnect().status_code == 200
    assert HooksView.events[-1] == ("disconnect", 200, False)
    assert ws.disconnect(connection_id="UnKnOwNcOnNeC1D=").status_code == 403
    assert HooksView.events[-1] == ("disconnect", 403, None)

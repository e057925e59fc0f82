"""The request client for tests sends what the wire contract says API Gateway sends."""

import re

import pytest
from django.urls import path

from django_aws_api_gateway_websockets.testing import WebSocketTestClient, new_connection_id
from django_aws_api_gateway_websockets.views import WebSocketView
from tests.records import make_api_gateway

seen = []


class RecordingView(WebSocketView):
    USE_WS_TOKEN = False

    def connect(self, request, *args, **kwargs):
        seen.append(("connect", request.headers, request.GET.dict(), request.body))
        return super().connect(request, *args, **kwargs)

    def disconnect(self, request, *args, **kwargs):
        seen.append(("disconnect", request.headers, request.GET.dict(), request.body))
        return super().disconnect(request, *args, **kwargs)

    def default(self, request, *args, **kwargs):
        seen.append(("default", request.headers, request.GET.dict(), request.body))


urlpatterns = [path("gw/<slug:route>", RecordingView.as_view())]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def recorded(logged_in_client):
    seen.clear()
    gateway = make_api_gateway(target_base_endpoint="https://testserver:8443/gw/")
    ws = WebSocketTestClient(gateway, logged_in_client)
    assert ws.connect(channel="general", origin="https://testserver").status_code == 200
    assert ws.message({"action": "default", "n": 1}).status_code == 204
    assert ws.disconnect().status_code == 200
    return ws, {kind: (headers, query, body) for kind, headers, query, body in seen}


def test_connection_ids_look_like_aws_ones():
    for _ in range(50):
        assert re.fullmatch(r"[A-Za-z0-9+/]{15}=", new_connection_id())


def test_every_request_carries_api_gateways_headers(recorded):
    ws, requests = recorded
    for headers, _query, _body in requests.values():
        assert headers["User-Agent"] == "AmazonAPIGateway_abc123defg"
        assert headers["X-Amzn-Apigateway-Api-Id"] == "abc123defg"
        assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers["X-Amzn-Trace-Id"])
        assert headers["X-Forwarded-For"] == "203.0.113.7"
        assert headers["X-Forwarded-Port"] == "443"
        assert headers["X-Forwarded-Proto"] == "https"
        assert headers["Host"] == "testserver:8443"
        assert headers["Connectionid"] == ws.connection_id


def test_only_connect_carries_the_handshake(recorded):
    _ws, requests = recorded
    headers, query, body = requests["connect"]
    assert headers["Sec-WebSocket-Version"] == "13"
    assert len(headers["Sec-WebSocket-Key"]) == 24
    assert "permessage-deflate" in headers["Sec-WebSocket-Extensions"]
    assert "sessionid=" in headers["Cookie"]
    assert headers["Origin"] == "https://testserver"
    assert query == {"channel": "general"}
    assert body == b""
    for kind in ("default", "disconnect"):
        headers, query, _body = requests[kind]
        # (Django's test client always sets an empty Cookie header.)
        assert not any(headers.get(name) for name in ("Cookie", "Origin", "Sec-WebSocket-Key", "Sec-WebSocket-Version"))
        assert query == {}


def test_a_message_body_is_the_frame_text(recorded):
    _ws, requests = recorded
    assert requests["default"][2] == b'{"action": "default", "n": 1}'
    assert requests["disconnect"][2] == b""


def test_messages_need_a_connection(api_gateway):
    with pytest.raises(ValueError, match="connect"):
        WebSocketTestClient(api_gateway).message({"action": "default"})

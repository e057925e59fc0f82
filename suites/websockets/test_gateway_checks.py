"""Checks every route shares: is this request really API Gateway's, well formed and
within bounds? Each refusal is a 4xx with a short JSON reason, logged with the real
reason, and changes nothing."""

import json
import logging

import pytest
from django.test import override_settings

from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession
from django_aws_api_gateway_websockets.request_checks import short_hash
from tests.records import OTHER_API_ID, make_api_gateway

from .conftest import assert_refused

pytestmark = pytest.mark.urls("tests.websockets.urls")

ROUTES = ["connect", "default", "disconnect"]


@pytest.fixture
def public(make_ws):
    """The tokenless test view, with one open connection to message and disconnect."""
    ws = make_ws("/t/public/")
    assert ws.connect(channel="general").status_code == 200
    return ws


def send(ws, route, headers=None, body=None):
    """One request of kind ``route`` with ``headers`` added (None removes one)."""
    if route == "connect":
        return ws.connect(headers=headers)
    if route == "disconnect":
        return ws.disconnect(headers=headers)
    return ws.message(body if body is not None else {"action": "default"}, headers=headers)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("header", ["Host", "User-Agent", "X-Amzn-Apigateway-Api-Id", "Connectionid"])
def test_a_missing_required_header_is_refused(public, unchanged, route, header):
    with unchanged():
        response = send(public, route, headers={header: None})
    assert_refused(response, 400, "missing required headers")


@pytest.mark.parametrize("header", ["Sec-WebSocket-Key", "Sec-WebSocket-Version"])
def test_connect_needs_the_handshake_headers(public, unchanged, header):
    with unchanged():
        response = public.connect(headers={header: None})
    assert_refused(response, 400, "missing required headers")


def test_messages_and_disconnects_do_not_need_handshake_headers(public):
    # The test client sends no Sec-WebSocket-* on messages, as API Gateway.
    assert public.message({"action": "default"}).status_code == 200
    assert public.disconnect().status_code == 200


def test_required_connection_headers_can_be_dropped(make_ws):
    ws = make_ws("/t/no-connection-headers/")
    assert ws.connect(headers={"Sec-WebSocket-Key": None, "Sec-WebSocket-Version": None}).status_code == 200


@pytest.mark.parametrize("route", ROUTES)
def test_additional_required_headers_are_required(make_ws, unchanged, route):
    ws = make_ws("/t/strict/")
    assert ws.connect().status_code == 200
    with unchanged():
        response = send(ws, route, headers={"X-Amzn-Trace-Id": None})
    assert_refused(response, 400, "missing required headers")
    assert send(ws, route).status_code in (200, 204)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "header,value",
    [
        ("Connectionid", "AbCdEfGhIjKlMnO=,QrStUvWxYzAbCdE="),
        ("X-Amzn-Apigateway-Api-Id", "abc123defg,abc123defg"),
    ],
)
def test_a_duplicated_single_value_header_is_refused(public, unchanged, route, header, value):
    with unchanged():
        response = send(public, route, headers={header: value})
    assert_refused(response, 400, "duplicated header")


@pytest.mark.parametrize("header", ["Sec-WebSocket-Key", "Sec-WebSocket-Version"])
def test_a_duplicated_handshake_header_is_refused(public, unchanged, header):
    value = {"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}[header]
    with unchanged():
        response = public.connect(headers={header: f"{value},{value}"})
    assert_refused(response, 400, "duplicated header")


def test_a_duplicated_origin_is_refused_as_a_counted_attempt(public):
    attempts, sessions = ConnectionRateLimit.objects.count(), WebSocketSession.objects.count()
    response = public.connect(headers={"Origin": "https://testserver,https://testserver"})
    assert_refused(response, 403, "origin not allowed")
    assert ConnectionRateLimit.objects.count() == attempts + 1
    assert WebSocketSession.objects.count() == sessions


@pytest.mark.parametrize("route", ROUTES)
def test_a_duplicated_host_is_refused_by_django_itself(public, unchanged, route):
    with unchanged():
        response = send(public, route, headers={"Host": "testserver,evil.example"})
    assert response.status_code == 400


@pytest.mark.parametrize("route", ROUTES)
def test_an_oversized_header_is_refused(public, unchanged, route):
    with unchanged():
        response = send(public, route, headers={"User-Agent": "AmazonAPIGateway_" + "x" * 3000})
    assert_refused(response, 400, "header too large")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("connection_id", ["not an id!", "x" * 129, "abc;def=", "ab\u00e9cd="])
def test_a_malformed_connection_id_is_refused(public, unchanged, route, connection_id):
    with unchanged():
        response = send(public, route, headers={"Connectionid": connection_id})
    assert_refused(response, 400, "invalid connection id")


@pytest.mark.parametrize("route", ROUTES)
def test_a_malformed_api_id_is_refused(public, unchanged, route):
    with unchanged():
        response = send(
            public, route, headers={"X-Amzn-Apigateway-Api-Id": "abc/../x", "User-Agent": "AmazonAPIGateway_abc/../x"}
        )
    assert_refused(response, 400, "invalid API id")


@pytest.mark.parametrize("route", ROUTES)
def test_an_unregistered_api_id_is_refused(public, unchanged, route):
    forged = {"X-Amzn-Apigateway-Api-Id": OTHER_API_ID, "User-Agent": f"AmazonAPIGateway_{OTHER_API_ID}"}
    with unchanged():
        response = send(public, route, headers=forged)
    assert_refused(response, 403, "forbidden")


@pytest.mark.parametrize("route", ["default", "disconnect"])
def test_a_connection_of_another_registered_api_is_refused(public, other_api_gateway, unchanged, route):
    other = {"X-Amzn-Apigateway-Api-Id": OTHER_API_ID, "User-Agent": f"AmazonAPIGateway_{OTHER_API_ID}"}
    with unchanged():
        response = send(public, route, headers=other)
    assert_refused(response, 403, "forbidden")


@pytest.mark.parametrize("route", ROUTES)
def test_aws_api_gateway_id_pins_the_view_to_one_api(make_ws, other_api_gateway, unchanged, route):
    pinned = make_ws("/t/pinned/")
    other = make_ws("/t/pinned/", gateway=other_api_gateway)
    assert pinned.connect().status_code == 200
    other.connection_id = pinned.connection_id
    with unchanged():
        response = send(other, route)
    assert_refused(response, 403, "forbidden")
    assert send(pinned, route).status_code in (200, 204)


@pytest.mark.parametrize("route", ["default", "disconnect"])
@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
        "AmazonAPIGateway_",
        f"AmazonAPIGateway_{OTHER_API_ID}",
        "AmazonAPIGateway_abc123defgX",
    ],
)
def test_messages_and_disconnects_need_api_gateways_user_agent(public, unchanged, route, user_agent):
    with unchanged():
        response = send(public, route, headers={"User-Agent": user_agent})
    assert_refused(response, 403, "forbidden")


def test_connect_accepts_a_browser_user_agent(public):
    # AWS does not confirm which User-Agent reaches $connect; a browser's may.
    browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
    assert public.connect(headers={"User-Agent": browser}).status_code == 200


@override_settings(WEBSOCKETS={"MAX_BODY_SIZE": 64})
@pytest.mark.parametrize("route", ["default", "connect"])
def test_a_body_over_max_body_size_is_refused_with_413(public, unchanged, route):
    body = json.dumps({"action": "default", "text": "x" * 64}).encode()
    with unchanged():
        response = public.connect(body=body) if route == "connect" else public.message(body)
    assert_refused(response, 413, "request body too large")


def test_the_default_max_body_size_is_128_kb(public, unchanged):
    padding = 128 * 1024 - len(json.dumps({"action": "default", "text": ""}))
    assert public.message({"action": "default", "text": "x" * padding}).status_code == 200
    with unchanged():
        response = public.message({"action": "default", "text": "x" * (padding + 1)})
    assert_refused(response, 413)


@pytest.mark.parametrize(
    "body",
    [b"[1, 2]", b'"text"', b"42", b"null", b"{", b"", b"not json", b"\xff\xfe{}", b'{"a": NaN}', b"[" * 100_000],
    ids=["list", "string", "number", "null", "truncated", "empty", "text", "not-utf8", "nan", "deep"],
)
def test_a_message_must_be_a_json_object(public, unchanged, body):
    with unchanged():
        response = public.message(body)
    assert_refused(response, 400, "message must be a JSON object")


def test_connect_and_disconnect_bodies_are_ignored(public):
    assert public.connect(body=b"garbage").status_code == 200
    assert public.disconnect(body=b"[1]").status_code == 200


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options", "head"])
def test_only_post_is_allowed(public, method):
    response = getattr(public.gateway_client, method)("/t/public/default")
    assert response.status_code == 405


def test_a_malformed_forwarded_for_is_refused_on_connect(public, unchanged):
    with unchanged():
        response = public.connect(headers={"X-Forwarded-For": "203.0.113.9, not-an-address"})
    assert_refused(response, 400, "invalid client address")


def test_no_csrf_token_is_needed(api_gateway, make_ws):
    from django.test import Client

    ws = make_ws("/t/public/")
    ws.gateway_client = Client(enforce_csrf_checks=True)
    assert ws.connect().status_code == 200


def test_every_refusal_is_logged_with_its_real_reason(public, caplog):
    with caplog.at_level(logging.WARNING, logger="django_aws_api_gateway_websockets"):
        response = public.message({"action": "default"}, headers={"User-Agent": "curl/8.0"})
    assert response.status_code == 403
    assert "curl/8.0" not in response.content.decode()
    [record] = [r for r in caplog.records if r.name.startswith("django_aws_api_gateway_websockets")]
    assert record.levelno == logging.WARNING
    assert "curl/8.0" in record.getMessage()
    # The connection id only as a short digest: enough to follow it, useless to forge with.
    assert public.connection_id not in record.getMessage()
    assert short_hash(public.connection_id) in record.getMessage()


def test_a_second_registered_api_works_side_by_side(make_ws, db):
    second = make_api_gateway("second0001", api_name="second", target_base_endpoint="https://testserver/t/public/")
    ws = make_ws(gateway=second, base_path="/t/public/")
    assert ws.connect().status_code == 200
    assert WebSocketSession.objects.get(connection_id=ws.connection_id).api_gateway == second

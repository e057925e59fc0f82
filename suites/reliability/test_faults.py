"""Faults at the AWS boundary, through the local API Gateway.

Real WebSocket clients (aiohttp) connect through the local gateway to Django (the live
server), with tokens, as browsers do. Then the gateway's fault injection makes its
management API answer ``PostToConnection`` with 410, 429 or 500, or answer slowly,
and the app multicasts to every connection. Each time the multicast finishes and its
report accounts for every connection: gone ones are marked disconnected, throttled
ones are retried within the configured bound, everything else is reported, and
nothing is marked that was not gone.

What each client received is checked without timing: after the multicast, a marker
frame is posted to every connection directly, so a client's frames are either
``[message, marker]`` (delivered) or ``[marker]`` (not delivered).
"""

import json
import time
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client

from django_aws_api_gateway_websockets import provisioning
from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession
from django_aws_api_gateway_websockets.testing import browser_cookie_header, fetch_websocket_token
from localgateway.faults import FaultRule
from tests.localgateway.support import WAIT_SECONDS, management_client, start_gateway

from .clients import WebSocketClients

AREA = "AWS faults"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.reliability.urls")]

CONNECTIONS = 10
MESSAGE = {"type": "fault.test", "text": "hello"}
MARKER = {"type": "marker"}


@pytest.fixture
def stack(settings, live_server):
    """The local gateway, provisioned by the app's own code, in front of the live server."""
    gateway = start_gateway()
    settings.AWS_ENDPOINT_URL_APIGATEWAYV2 = gateway.url
    settings.WEBSOCKETS = {
        **settings.WEBSOCKETS,
        "SEND_THROTTLE_BASE_DELAY_SECONDS": 0.001,
        "SEND_THROTTLE_RETRIES": 3,
        "SEND_TIMEOUT_SECONDS": 1.0,
    }
    record = ApiGateway.objects.create(
        api_name="Faults", default_channel_name="lobby", target_base_endpoint=f"{live_server.url}/ws/"
    )
    provisioning.create_api(record)
    record.refresh_from_db()
    clients = WebSocketClients()
    sockets = {}
    yield gateway, record, clients, sockets
    # The gateway POSTs each closed socket's $disconnect: every one answered by Django
    # before the database is emptied.
    clients.close()
    gateway.wait_until_idle()
    gateway.stop()


def wait_until(predicate):
    deadline = time.monotonic() + WAIT_SECONDS
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def inject(gateway, **rule):
    return gateway.call(gateway.gateway.faults.add, FaultRule(plane="management", operation="PostToConnection", **rule))


def credentials(user, count):
    """``count`` fresh tokens of a logged-in browser, and the handshake headers it sends."""
    browser = Client()
    browser.force_login(user)
    tokens = [fetch_websocket_token(browser) for _ in range(count)]
    headers = {"Cookie": browser_cookie_header(browser), "Origin": "https://testserver"}
    return tokens, headers


def connected_ids():
    return set(WebSocketSession.objects.filter(connected=True).values_list("connection_id", flat=True))


def multicast_through_faults(stack, user, rules):
    """Connect CONNECTIONS clients, add the fault ``rules``, multicast, then post a
    marker to each. Returns the report, the frames each connection got (by id), the
    rules as they were left, and which connections were still marked connected."""
    gateway, record, clients, sockets = stack
    tokens, headers = credentials(user, CONNECTIONS)
    for token in tokens:
        url = f"{gateway.websocket_url(record.stage_name)}?channel=room-1&ws_token={token}"
        socket = clients.connect(url, headers)
        (connection_id,) = set(WebSocketSession.objects.values_list("connection_id", flat=True)) - set(sockets)
        sockets[connection_id] = socket
    ids = list(sockets)
    # Established connections: older than the grace period in which a 410 may only
    # mean that the $connect is still being answered.
    WebSocketSession.objects.update(created_on=F("created_on") - timedelta(minutes=1))
    for rule in rules:
        inject(gateway, **rule)

    report = WebSocketSession.objects.filter(channel_name="room-1").send_message(MESSAGE)

    left = gateway.call(gateway.gateway.faults.describe)
    gateway.call(gateway.gateway.faults.clear)
    still_connected = connected_ids()
    manager = management_client(gateway, record.stage_name)
    for connection_id in ids:
        manager.post_to_connection(ConnectionId=connection_id, Data=json.dumps(MARKER))
    received = {}
    for connection_id, socket in sockets.items():
        frames = [clients.receive_json(socket)]
        while frames[-1] != MARKER:
            frames.append(clients.receive_json(socket))
        received[connection_id] = frames
    return report, received, left, still_connected


def assert_accounts_for_everyone(report, received):
    everyone = set(received)
    parts = [set(report.delivered), set(report.gone), set(report.failed)]
    assert sum(len(part) for part in parts) == len(everyone)
    assert set().union(*parts) == everyone
    for connection_id in report.delivered:
        assert received[connection_id] == [MESSAGE, MARKER]


def test_gone_connections_are_marked_and_the_rest_delivered(stack, user, cases):
    """410 GoneException for three posts of ten: those three marked disconnected, seven delivered."""
    report, received, _, connected = multicast_through_faults(stack, user, [{"status": 410, "times": 3}])
    cases.add(CONNECTIONS)
    assert_accounts_for_everyone(report, received)
    assert (len(report.delivered), len(report.gone), report.failed) == (7, 3, {})
    assert connected == set(report.delivered)
    for connection_id in report.gone:
        assert received[connection_id] == [MARKER]


def test_throttling_is_retried_until_delivered(stack, user, cases):
    """Six posts answered 429 LimitExceededException: retried with backoff, all ten delivered."""
    report, received, _, connected = multicast_through_faults(stack, user, [{"status": 429, "times": 6}])
    cases.add(CONNECTIONS)
    assert_accounts_for_everyone(report, received)
    assert report.ok and len(report.delivered) == CONNECTIONS
    assert len(connected) == CONNECTIONS


def test_endless_throttling_is_retried_only_within_the_bound_then_reported(stack, user, cases):
    """Every post answered 429: each connection tried exactly 1 + SEND_THROTTLE_RETRIES times, then reported."""
    report, received, left, connected = multicast_through_faults(stack, user, [{"status": 429, "times": 1000}])
    cases.add(CONNECTIONS)
    assert_accounts_for_everyone(report, received)
    assert report.failed == dict.fromkeys(received, "LimitExceededException (HTTP 429)")
    assert left[0]["times"] == 1000 - CONNECTIONS * (1 + 3)
    assert all(frames == [MARKER] for frames in received.values())
    assert len(connected) == CONNECTIONS


def test_server_errors_are_retried_and_do_not_stop_the_multicast(stack, user, cases):
    """Four posts answered 500 once: retried on their own, all ten delivered, nothing marked."""
    report, received, _, connected = multicast_through_faults(stack, user, [{"status": 500, "times": 4}])
    cases.add(CONNECTIONS)
    assert_accounts_for_everyone(report, received)
    assert len(report.delivered) == CONNECTIONS
    assert len(connected) == CONNECTIONS


def test_server_errors_that_persist_are_reported_after_the_retries(stack, user, settings, cases):
    """Posts answered 500 on every attempt: each tried 1 + SEND_RETRIES times, then reported failed; nothing marked."""
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "SEND_RETRIES": 2}
    attempts = CONNECTIONS * 3
    report, received, left, connected = multicast_through_faults(stack, user, [{"status": 500, "times": attempts}])
    cases.add(CONNECTIONS)
    assert_accounts_for_everyone(report, received)
    assert list(report.failed.values()) == ["InternalServerErrorException (HTTP 500)"] * CONNECTIONS
    assert left == []  # exactly that many attempts: the rule was used up, and no more were made
    assert len(connected) == CONNECTIONS


def test_slow_answers_time_out_and_are_reported(stack, user, cases):
    """Three posts answered after 3 s with a 1 s send timeout: reported as timeouts, the other seven delivered."""
    report, received, _, connected = multicast_through_faults(stack, user, [{"delay_ms": 3000, "times": 3}])
    cases.add(CONNECTIONS)
    assert_accounts_for_everyone(report, received)
    assert report.failed == dict.fromkeys(report.failed, "timeout") and len(report.failed) == 3
    assert len(report.delivered) == 7
    assert len(connected) == CONNECTIONS


def test_a_multicast_meeting_every_fault_at_once_finishes_and_reports_each(stack, user, cases):
    """410, 500, a timeout and 429 in one multicast of ten: 2 gone, 1 failed, 7 delivered (500s and 429s retried)."""
    rules = [
        {"status": 410, "times": 2},
        {"status": 500, "times": 2},
        {"delay_ms": 3000, "times": 1},
        {"status": 429, "times": 3},
    ]
    report, received, _, connected = multicast_through_faults(stack, user, rules)
    cases.add(CONNECTIONS)
    assert_accounts_for_everyone(report, received)
    assert len(report.gone) == 2
    assert list(report.failed.values()) == ["timeout"]
    assert len(report.delivered) == 7
    assert connected == set(report.delivered) | set(report.failed)


def test_an_unreachable_management_api_is_reported_for_every_connection(api_gateway, cases):
    """Nothing listens at the API's endpoint: the multicast finishes, every connection is reported, none is marked."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    ApiGateway.objects.filter(pk=api_gateway.pk).update(api_endpoint=f"ws://127.0.0.1:{closed_port}")
    WebSocketSession.objects.bulk_create(
        WebSocketSession(connection_id=f"down{index:04d}AAAAAA=", channel_name="room-1", api_gateway=api_gateway)
        for index in range(CONNECTIONS)
    )
    report = WebSocketSession.objects.all().send_message(MESSAGE)
    cases.add(CONNECTIONS)
    assert report.delivered == [] and report.gone == []
    assert len(report.failed) == CONNECTIONS
    assert all(reason.startswith("connection error") for reason in report.failed.values())
    assert WebSocketSession.objects.filter(connected=True).count() == CONNECTIONS

"""Unicast, multicast, broadcast and per-user sends through a loopback management API."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.sending import MAX_PAYLOAD_BYTES, PayloadTooLarge

from .conftest import make_gateway, make_sessions

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("aws_settings")]


def test_multicast_reaches_every_connected_session_of_the_channel_once(management_api):
    stub = management_api()
    gateway = make_gateway(stub)
    make_sessions(gateway, 50, channel="general")
    make_sessions(gateway, 5, channel="support", prefix="other")

    report = WebSocketSession.objects.filter(channel_name="general").send_message({"type": "chat", "message": "hi"})

    assert report.ok
    assert sorted(report.delivered) == [f"conn{i:05d}=" for i in range(50)]
    assert stub.received_ids() == sorted(report.delivered)
    assert {body for _, body in stub.received} == {b'{"type":"chat","message":"hi"}'}
    assert stub.bad_signatures == 0


def test_unicast_from_a_session_instance(management_api):
    stub = management_api()
    session = make_sessions(make_gateway(stub), 1)[0]

    report = session.send_message({"type": "reply", "message": "only you"})

    assert report.delivered == [session.connection_id]
    assert json.loads(stub.received[0][1]) == {"type": "reply", "message": "only you"}


def test_broadcast_skips_disconnected_sessions(management_api):
    stub = management_api()
    gateway = make_gateway(stub)
    make_sessions(gateway, 3)
    WebSocketSession.objects.filter(connection_id="conn00001=").update(connected=False)

    report = WebSocketSession.objects.filter(connected=True).send_message({"type": "system"})

    assert sorted(report.delivered) == ["conn00000=", "conn00002="]
    assert stub.received_ids() == ["conn00000=", "conn00002="]


def test_gone_connections_are_marked_disconnected_in_one_update(management_api):
    stub = management_api()
    make_sessions(make_gateway(stub), 10)
    stub.behaviour.gone = {"conn00003=", "conn00007="}

    with CaptureQueriesContext(connection) as queries:
        report = WebSocketSession.objects.all().send_message({"type": "x"})

    assert sorted(report.gone) == ["conn00003=", "conn00007="]
    assert len(report.delivered) == 8
    assert not report.ok
    assert set(WebSocketSession.objects.filter(connected=False).values_list("connection_id", flat=True)) == {
        "conn00003=",
        "conn00007=",
    }
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert len(queries.captured_queries) == 2  # read the targets, mark the gone ones


def test_a_410_during_the_connections_own_connect_does_not_disconnect_it(management_api):
    # API Gateway answers 410 to a send made while $connect is being handled.
    stub = management_api()
    (young,) = make_sessions(make_gateway(stub), 1, age_seconds=0)
    stub.behaviour.gone = {young.connection_id}

    report = young.send_message({"type": "welcome"})

    assert report.gone == [young.connection_id]
    assert WebSocketSession.objects.get(pk=young.pk).connected


def test_throttled_posts_are_retried_until_they_succeed(management_api, settings):
    settings.WEBSOCKETS = {"SEND_THROTTLE_BASE_DELAY_SECONDS": 0.001}
    stub = management_api()
    make_sessions(make_gateway(stub), 3)
    stub.behaviour.throttle_times = {"conn00001=": 2}

    report = WebSocketSession.objects.all().send_message({"type": "x"})

    assert report.ok
    assert stub.attempts["conn00001="] == 3
    assert stub.received_ids() == ["conn00000=", "conn00001=", "conn00002="]


def test_throttling_is_retried_only_within_the_bound(management_api, settings):
    settings.WEBSOCKETS = {"SEND_THROTTLE_BASE_DELAY_SECONDS": 0.001, "SEND_THROTTLE_RETRIES": 2}
    stub = management_api()
    make_sessions(make_gateway(stub), 2)
    stub.behaviour.throttle_times = {"conn00000=": 100}

    report = WebSocketSession.objects.all().send_message({"type": "x"})

    assert stub.attempts["conn00000="] == 3
    assert report.failed == {"conn00000=": "LimitExceededException (HTTP 429)"}
    assert report.delivered == ["conn00001="]
    assert WebSocketSession.objects.get(connection_id="conn00000=").connected


def test_by_default_a_throttled_post_is_retried_five_times(management_api, settings):
    # The documented default of SEND_THROTTLE_RETRIES; only the delays are shortened.
    settings.WEBSOCKETS = {"SEND_THROTTLE_BASE_DELAY_SECONDS": 0.001}
    stub = management_api()
    make_sessions(make_gateway(stub), 1)
    stub.behaviour.throttle_times = {"conn00000=": 100}

    report = WebSocketSession.objects.all().send_message({"type": "x"})

    assert stub.attempts["conn00000="] == 1 + 5
    assert report.failed == {"conn00000=": "LimitExceededException (HTTP 429)"}


def test_other_errors_are_reported_and_do_not_stop_the_multicast(management_api):
    stub = management_api()
    make_sessions(make_gateway(stub), 4)
    stub.behaviour.fail_with = {
        "conn00000=": (500, "InternalServerErrorException"),
        "conn00002=": (403, "ForbiddenException"),
    }

    report = WebSocketSession.objects.all().send_message({"type": "x"})

    assert report.failed == {
        "conn00000=": "InternalServerErrorException (HTTP 500)",
        "conn00002=": "ForbiddenException (HTTP 403)",
    }
    assert sorted(report.delivered) == ["conn00001=", "conn00003="]
    assert WebSocketSession.objects.filter(connected=True).count() == 4


def test_slow_answers_time_out_and_are_reported(management_api, settings):
    settings.WEBSOCKETS = {"SEND_TIMEOUT_SECONDS": 0.2}
    stub = management_api()
    make_sessions(make_gateway(stub), 3)
    stub.behaviour.delay_seconds = 2

    report = WebSocketSession.objects.all().send_message({"type": "x"})

    assert report.failed == {f"conn{i:05d}=": "timeout" for i in range(3)}
    assert report.delivered == []


def test_oversized_payload_is_refused_before_anything_is_sent(management_api):
    stub = management_api()
    make_sessions(make_gateway(stub), 2)

    with pytest.raises(PayloadTooLarge, match="128 KB|131072"):
        WebSocketSession.objects.all().send_message({"blob": "x" * MAX_PAYLOAD_BYTES})

    assert stub.attempts == {}


def test_a_payload_just_under_the_limit_is_sent(management_api):
    stub = management_api()
    make_sessions(make_gateway(stub), 1)
    overhead = len(b'{"blob":""}')

    report = WebSocketSession.objects.all().send_message({"blob": "x" * (MAX_PAYLOAD_BYTES - overhead)})

    assert report.ok
    assert len(stub.received[0][1]) == MAX_PAYLOAD_BYTES


def test_a_multicast_spanning_two_api_gateways_reaches_each_through_its_own_endpoint(management_api):
    first, second = management_api(), management_api(stage="staging")
    make_sessions(make_gateway(first, "first"), 3, channel="general", prefix="a")
    make_sessions(make_gateway(second, "second"), 2, channel="general", prefix="b")

    report = WebSocketSession.objects.filter(channel_name="general").send_message({"type": "x"})

    assert report.ok
    assert first.received_ids() == ["a00000=", "a00001=", "a00002="]
    assert second.received_ids() == ["b00000=", "b00001="]


def test_sends_run_concurrently_within_the_configured_bound(management_api, settings):
    settings.WEBSOCKETS = {"SEND_CONCURRENCY": 8}
    stub = management_api()
    make_sessions(make_gateway(stub), 64)
    stub.behaviour.delay_seconds = 0.05

    report = WebSocketSession.objects.all().send_message({"type": "x"})

    assert report.ok
    assert 1 < stub.max_in_flight <= 8


def test_send_to_user_reaches_every_connection_of_that_user_only(management_api):
    stub = management_api()
    gateway = make_gateway(stub)
    alice = get_user_model().objects.create_user("alice")
    bob = get_user_model().objects.create_user("bob")
    make_sessions(gateway, 2, channel="chat-1", user=alice, prefix="alice")
    make_sessions(gateway, 1, channel="dashboard", user=alice, prefix="alicedash")
    make_sessions(gateway, 2, channel="chat-1", user=bob, prefix="bob")

    report = WebSocketSession.objects.for_user(alice).send_message({"type": "notification"})

    assert sorted(report.delivered) == ["alice00000=", "alice00001=", "alicedash00000="]
    assert stub.received_ids() == sorted(report.delivered)


def test_an_api_gateway_without_an_endpoint_is_reported_not_sent(management_api):
    stub = management_api()
    gateway = make_gateway(stub)
    gateway.api_endpoint = ""
    gateway.save()
    make_sessions(gateway, 1)

    report = WebSocketSession.objects.all().send_message({"type": "x"})

    assert "no endpoint" in report.failed["conn00000="]
    assert stub.attempts == {}

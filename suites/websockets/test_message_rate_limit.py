"""Messages are limited per connection, and per user over all their connections; a
refused message is answered 429 and stores nothing."""

from datetime import timedelta

import pytest
from django.test import override_settings

from django_aws_api_gateway_websockets.models import WebSocketSession

from .conftest import assert_refused, backdate_sessions

pytestmark = pytest.mark.urls("tests.websockets.urls")

LIMITS = {
    "MESSAGE_RATE_LIMIT_MAX_MESSAGES": 5,
    "MESSAGE_RATE_LIMIT_USER_MAX_MESSAGES": 8,
    "MESSAGE_RATE_LIMIT_WINDOW_SECONDS": 10,
}


@pytest.fixture
def connect(make_ws, logged_in_client):
    def open_one():
        ws = make_ws("/t/handlers/", browser=logged_in_client)
        assert ws.connect(channel="general").status_code == 200
        return ws

    return open_one


def statuses(ws, count):
    return [ws.message({"action": "chat_message"}).status_code for _ in range(count)]


def count_of(ws):
    return WebSocketSession.objects.get(connection_id=ws.connection_id).request_count


def test_a_burst_of_500_on_one_connection_counts_only_the_default_limit(connect, settings):
    ws = connect()
    answers = statuses(ws, 500)
    limit = settings.WEBSOCKETS["MESSAGE_RATE_LIMIT_MAX_MESSAGES"]
    assert answers == [200] * limit + [429] * (500 - limit)
    assert count_of(ws) == limit


@override_settings(WEBSOCKETS=LIMITS)
def test_the_refusal_says_why_and_changes_nothing(connect, unchanged):
    ws = connect()
    statuses(ws, 5)
    with unchanged():
        assert_refused(ws.message({"action": "chat_message"}), 429, "too many messages")


@override_settings(WEBSOCKETS=LIMITS)
def test_a_new_window_starts_once_the_old_one_is_over(connect):
    ws = connect()
    assert statuses(ws, 6) == [200] * 5 + [429]
    session = WebSocketSession.objects.get(connection_id=ws.connection_id)
    WebSocketSession.objects.filter(pk=session.pk).update(
        window_started_on=session.window_started_on - timedelta(seconds=11)
    )
    assert statuses(ws, 6) == [200] * 5 + [429]
    assert count_of(ws) == 10


@override_settings(WEBSOCKETS=LIMITS)
def test_a_user_cannot_multiply_the_limit_with_more_connections(connect):
    first, second, third = connect(), connect(), connect()
    # 5 + 3 reach the user's limit of 8; the third connection, fresh, gets nothing.
    assert statuses(first, 5) == [200] * 5
    assert statuses(second, 4) == [200] * 3 + [429]
    assert statuses(third, 1) == [429]


@override_settings(WEBSOCKETS=LIMITS)
def test_heartbeats_do_not_count(connect):
    ws = connect()
    for _ in range(20):
        assert ws.message({"action": "heartbeat"}).status_code == 204
    assert statuses(ws, 5) == [200] * 5


@override_settings(WEBSOCKETS={**LIMITS, "MESSAGE_RATE_LIMIT_ENABLED": False})
def test_the_limit_can_be_switched_off(connect):
    assert statuses(connect(), 20) == [200] * 20


@override_settings(WEBSOCKETS=LIMITS)
def test_a_closed_connection_is_still_410_not_429(connect):
    ws = connect()
    statuses(ws, 5)
    assert ws.disconnect().status_code == 200
    backdate_sessions(WebSocketSession.objects.all(), seconds=1)
    assert_refused(ws.message({"action": "chat_message"}), 410, "connection closed")

"""Connection attempts are limited per client address and per user."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession

from .conftest import assert_refused

pytestmark = pytest.mark.urls("tests.websockets.urls")


def connect_times(ws, count, **kwargs):
    return [ws.connect(**kwargs).status_code for _ in range(count)]


def test_the_class_attribute_limits_attempts_per_address(make_ws):
    ws = make_ws("/t/tight/")  # RATE_LIMIT_MAX_ATTEMPTS = 3
    assert connect_times(ws, 3) == [200, 200, 200]
    sessions = WebSocketSession.objects.count()
    response = ws.connect()
    assert_refused(response, 429, "too many connection attempts")
    assert WebSocketSession.objects.count() == sessions
    assert list(ConnectionRateLimit.objects.order_by("pk").values_list("successful", flat=True)) == [
        True,
        True,
        True,
        False,
    ]


def test_maximum_connection_attempts_allowed_within_the_configured_window_counts_every_attempt(make_ws):
    """Settings document, RATE_LIMIT_MAX_ATTEMPTS: "Maximum connection attempts allowed
    within the configured window". A $connect with an invalid channel, a cross-site
    Origin or a bad token is an attempt too: that is how guessing is slowed down."""
    ws = make_ws("/t/tight-token/")  # RATE_LIMIT_MAX_ATTEMPTS = 3, tokens required
    assert ws.connect(channel="not a channel").status_code == 400
    assert ws.connect(channel="general", origin="https://evil.example.net").status_code == 403
    assert ws.connect(channel="general", token="guessed").status_code == 403
    # The fourth attempt is over the limit, however good it is.
    assert_refused(ws.connect(channel="general"), 429, "too many connection attempts")
    assert list(ConnectionRateLimit.objects.values_list("successful", flat=True)) == [False] * 4
    assert not WebSocketSession.objects.exists()


def test_refused_attempts_keep_counting(make_ws):
    ws = make_ws("/t/tight/")
    assert connect_times(ws, 6) == [200, 200, 200, 429, 429, 429]
    assert ConnectionRateLimit.objects.count() == 6


def test_other_addresses_have_their_own_budget(make_ws):
    assert connect_times(make_ws("/t/tight/", client_ip="198.51.100.1"), 4) == [200, 200, 200, 429]
    assert connect_times(make_ws("/t/tight/", client_ip="198.51.100.2"), 1) == [200]
    assert connect_times(make_ws("/t/tight/", client_ip="2001:db8::1"), 1) == [200]


def test_the_client_address_is_the_last_forwarded_for_entry(make_ws):
    spoofer = make_ws("/t/tight/", client_ip="10.0.0.1, 198.51.100.7")
    assert connect_times(spoofer, 3) == [200, 200, 200]
    # A client that puts fake addresses in front is still 198.51.100.7.
    other_prefix = make_ws("/t/tight/", client_ip="10.9.9.9, 198.51.100.7")
    assert other_prefix.connect().status_code == 429
    assert set(ConnectionRateLimit.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}


def test_attempts_outside_the_window_do_not_count(make_ws):
    ws = make_ws("/t/tight/")
    assert connect_times(ws, 3) == [200, 200, 200]
    ConnectionRateLimit.objects.update(attempt_time=timezone.now() - timedelta(minutes=5, seconds=1))
    assert ws.connect().status_code == 200


@override_settings(WEBSOCKETS={"RATE_LIMIT_MAX_ATTEMPTS": 2})
def test_the_limit_comes_from_the_websockets_setting(make_ws):
    assert connect_times(make_ws("/t/public/"), 3) == [200, 200, 429]
    # A class attribute wins over the setting.
    assert connect_times(make_ws("/t/tight/", client_ip="198.51.100.9"), 4) == [200, 200, 200, 429]


@override_settings(WEBSOCKETS={"RATE_LIMIT_ENABLED": False, "RATE_LIMIT_MAX_ATTEMPTS": 1})
def test_rate_limiting_can_be_switched_off(make_ws):
    assert connect_times(make_ws("/t/public/"), 3) == [200, 200, 200]
    assert not ConnectionRateLimit.objects.exists()


@override_settings(WEBSOCKETS={"RATE_LIMIT_MAX_ATTEMPTS": 2})
def test_a_user_is_limited_across_addresses(api_gateway, logged_in_client, make_ws):
    statuses = []
    for number in range(3):
        ws = make_ws("/ws/", browser=logged_in_client, client_ip=f"198.51.100.{number + 10}")
        statuses.append(ws.connect(channel="general", token=ws.fetch_token()).status_code)
    assert statuses == [200, 200, 429]


@override_settings(WEBSOCKETS={"RATE_LIMIT_MAX_ATTEMPTS": 2})
def test_failed_token_attempts_count_too(ws):
    assert [ws.connect(channel="general", token="guess").status_code for _ in range(2)] == [403, 403]
    token = ws.fetch_token()
    assert_refused(ws.connect(channel="general", token=token), 429)


def test_the_window_default_is_five_minutes(make_ws):
    ws = make_ws("/t/tight/")
    assert connect_times(ws, 3) == [200, 200, 200]
    ConnectionRateLimit.objects.update(attempt_time=timezone.now() - timedelta(minutes=4, seconds=50))
    assert ws.connect().status_code == 429

"""Clean-up never removes what is still in use, whatever the mix of rows and ages.

Each case fills the database with sessions (connected or not), tokens (used or not)
and connection attempts of random ages, clustered around every boundary (AWS's
two-hour maximum connection time, the ages asked for, the token lifetime, the
rate-limit windows), runs the clean-up at a fixed "now" with the published commands'
options (``--token-age`` seconds, ``--rate-limit-age`` days, and our
``--older-than-days`` for sessions), and checks each row against the rules in
``cleanup.py``: a connected session younger than AWS's maximum connection time is
never touched, no token is deleted while it is valid or the token rate limit still
counts it, and no attempt inside a rate-limit window is forgotten.
"""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from django_aws_api_gateway_websockets import cleanup
from django_aws_api_gateway_websockets.conf import ws_setting
from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession, WebSocketToken
from django_aws_api_gateway_websockets.views import websocket_view_classes

from .conftest import fuzz_settings

AREA = "Clean-up"

pytestmark = pytest.mark.urls("tests.reliability.urls")

# AWS closes every WebSocket connection after two hours.
AWS_MAX_CONNECTION_SECONDS = 2 * 60 * 60
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def ages_around(*boundaries_seconds):
    """Ages in seconds: anywhere, or within a few seconds of a boundary."""
    near = [
        st.integers(min_value=max(0, boundary - 3), max_value=boundary + 3).map(float)
        for boundary in boundaries_seconds
    ]
    return st.one_of(st.floats(min_value=0, max_value=30 * 24 * 3600, allow_nan=False), *near)


def limits(older_than_days, token_age, rate_limit_days):
    """How old each kind of row may get before clean-up may remove it."""
    longest_window = max(float(view.RATE_LIMIT_WINDOW_MINUTES) for view in websocket_view_classes())
    return {
        "max_connection": timedelta(seconds=int(ws_setting("MAX_CONNECTION_SECONDS"))),
        "retention": timedelta(days=older_than_days),
        "token": max(
            timedelta(seconds=300 if token_age is None else token_age),
            timedelta(seconds=int(ws_setting("TOKEN_EXPIRY_SECONDS"))),
            timedelta(minutes=float(ws_setting("TOKEN_RATE_LIMIT_WINDOW_MINUTES"))),
        ),
        "attempts": max(timedelta(days=rate_limit_days), timedelta(minutes=longest_window)),
    }


session_rows = st.lists(
    st.tuples(st.booleans(), ages_around(AWS_MAX_CONNECTION_SECONDS, 86400, 7 * 86400)), min_size=1, max_size=8
)
token_rows = st.lists(st.tuples(st.booleans(), ages_around(60, 5 * 60, 3600)), max_size=6)
attempt_rows = st.lists(ages_around(5 * 60, 86400, 7 * 86400), max_size=6)
options = st.fixed_dictionaries(
    {
        "older_than_days": st.sampled_from([0, 1, 7]),
        "token_age": st.sampled_from([None, 0, 60, 300, 3600]),
        "rate_limit_days": st.sampled_from([0, 1, 7]),
    }
)


@fuzz_settings(max_examples=250)
@given(sessions=session_rows, tokens=token_rows, attempts=attempt_rows, chosen=options, dry_run_first=st.booleans())
def test_clean_up_removes_only_what_is_no_longer_in_use(
    api_gateway, user, cases, sessions, tokens, attempts, chosen, dry_run_first
):
    """Rows of random ages around every limit: clean-up removes exactly what its rules allow, never a live session."""
    limit = limits(**chosen)
    assert limit["max_connection"] <= timedelta(seconds=AWS_MAX_CONNECTION_SECONDS)
    with cases.isolated():
        session_ages = {}
        for index, (connected, age) in enumerate(sessions):
            row = WebSocketSession.objects.create(
                connection_id=f"clean{index:04d}AAAA=",
                channel_name="general",
                api_gateway=api_gateway,
                connected=connected,
            )
            age = timedelta(seconds=age)
            stamp = NOW - age
            WebSocketSession.objects.filter(pk=row.pk).update(created_on=stamp, updated_on=stamp)
            session_ages[row.connection_id] = (connected, age, stamp)
        token_ages = {}
        for index, (used, seconds) in enumerate(tokens):
            age = timedelta(seconds=seconds)
            row = WebSocketToken.objects.create(token=f"{index:064d}", user=user, used=used, created_at=NOW - age)
            token_ages[row.pk] = (used, age)
        attempt_ages = {}
        for seconds in attempts:
            age = timedelta(seconds=seconds)
            row = ConnectionRateLimit.objects.create(ip_address="198.51.100.1", attempt_time=NOW - age)
            attempt_ages[row.pk] = age

        if dry_run_first:
            before = sorted(WebSocketSession.objects.values_list("connection_id", "connected", "updated_on"))
            cleanup.clear_websocket_sessions(chosen["older_than_days"], dry_run=True, now=NOW)
            cleanup.cleanup_websocket_tokens(chosen["token_age"], dry_run=True, now=NOW)
            cleanup.cleanup_connection_rate_limits(chosen["rate_limit_days"], dry_run=True, now=NOW)
            assert sorted(WebSocketSession.objects.values_list("connection_id", "connected", "updated_on")) == before
            assert WebSocketToken.objects.count() == len(tokens)
            assert ConnectionRateLimit.objects.count() == len(attempts)
        cleanup.clear_websocket_sessions(chosen["older_than_days"], now=NOW)
        cleanup.cleanup_websocket_tokens(chosen["token_age"], now=NOW)
        cleanup.cleanup_connection_rate_limits(chosen["rate_limit_days"], now=NOW)

        remaining = {row.connection_id: row for row in WebSocketSession.objects.all()}
        for connection_id, (connected, age, stamp) in session_ages.items():
            if connected and age <= limit["max_connection"]:
                # Possibly still open at AWS: untouched.
                row = remaining[connection_id]
                assert (row.connected, row.updated_on) == (True, stamp), (age, row.connected)
            elif connected:
                # Past AWS's maximum: it missed its $disconnect; marked, removed by a later run.
                assert remaining[connection_id].connected is False
                assert remaining[connection_id].updated_on == NOW
            elif age >= limit["retention"]:
                assert connection_id not in remaining
            else:
                assert remaining[connection_id].connected is False
                assert remaining[connection_id].updated_on == stamp
        kept_tokens = set(WebSocketToken.objects.values_list("pk", flat=True))
        for pk, (used, age) in token_ages.items():
            assert (pk in kept_tokens) == (age <= limit["token"]), (used, age)
        kept_attempts = set(ConnectionRateLimit.objects.values_list("pk", flat=True))
        for pk, age in attempt_ages.items():
            assert (pk in kept_attempts) == (age <= limit["attempts"]), age


def test_the_clean_up_commands_run_on_live_data_and_keep_todays_connections(api_gateway, user, cases):
    """The clean-up commands in the deploy scripts' forms, run twice on fresh rows: nothing in use is removed."""
    now = timezone.now()
    live = [
        WebSocketSession.objects.create(
            connection_id=f"live{index:04d}AAAAAA=", channel_name="general", api_gateway=api_gateway
        )
        for index in range(20)
    ]
    WebSocketToken.objects.create(token="f" * 64, user=user, created_at=now)
    ConnectionRateLimit.objects.create(ip_address="198.51.100.1")
    for _ in range(2):
        for command in (
            ["clearWebSocketSessions"],
            ["cleanupWebSocketTokens", "--token-age=300", "--rate-limit-age=7"],
        ):
            call_command(*command, stdout=StringIO())
            cases.add()
    assert WebSocketSession.objects.filter(connected=True).count() == len(live)
    assert WebSocketToken.objects.count() == 1
    assert ConnectionRateLimit.objects.count() == 1

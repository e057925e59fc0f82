"""Scheduled clean-up commands: what they remove, and what they never touch."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from django_aws_api_gateway_websockets.cleanup import longest_rate_limit_window_minutes
from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession, WebSocketToken
from django_aws_api_gateway_websockets.views import WebSocketView

pytestmark = pytest.mark.django_db


def run(command, *args):
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue().strip()


def session(api_gateway, name, *, connected, age):
    created = WebSocketSession.objects.create(
        connection_id=f"{name}AAAAAAAAAAAAAA="[:16],
        channel_name="general",
        api_gateway=api_gateway,
        connected=connected,
    )
    WebSocketSession.objects.filter(pk=created.pk).update(
        created_on=timezone.now() - age, updated_on=timezone.now() - age
    )
    return created.connection_id


@pytest.fixture
def sessions(api_gateway):
    return {
        "young_connected": session(api_gateway, "a", connected=True, age=timedelta(hours=1, minutes=59)),
        "just_connected": session(api_gateway, "b", connected=True, age=timedelta(0)),
        "stale_connected": session(api_gateway, "c", connected=True, age=timedelta(hours=2, minutes=1)),
        "recent_disconnected": session(api_gateway, "d", connected=False, age=timedelta(days=6, hours=23)),
        "old_disconnected": session(api_gateway, "e", connected=False, age=timedelta(days=7, minutes=1)),
    }


def states():
    return dict(WebSocketSession.objects.values_list("connection_id", "connected"))


def test_clear_sessions_closes_stale_and_deletes_old(sessions):
    output = run("clearWebSocketSessions")
    assert output == (
        "Removed 1 disconnected session(s) older than 7 day(s); marked 1 stale connected session(s) disconnected."
    )
    assert states() == {
        sessions["young_connected"]: True,
        sessions["just_connected"]: True,
        sessions["stale_connected"]: False,
        sessions["recent_disconnected"]: False,
    }
    # The stale session is kept for the retention period from now on.
    stale = WebSocketSession.objects.get(connection_id=sessions["stale_connected"])
    assert timezone.now() - stale.updated_on < timedelta(minutes=1)


def test_clear_sessions_never_touches_a_connected_session_younger_than_the_limit(sessions):
    young = WebSocketSession.objects.filter(connected=True).exclude(connection_id=sessions["stale_connected"])
    before = list(young.values_list("connection_id", "connected", "updated_on", "request_count"))
    for _ in range(3):
        run("clearWebSocketSessions")
    assert list(young.values_list("connection_id", "connected", "updated_on", "request_count")) == before


@override_settings(WEBSOCKETS={"MAX_CONNECTION_SECONDS": 600, "DISCONNECTED_SESSION_RETENTION_DAYS": 1})
def test_clear_sessions_follows_the_settings(sessions):
    assert run("clearWebSocketSessions").startswith("Removed 2 disconnected session(s) older than 1 day(s); marked 2")
    assert states() == {
        sessions["just_connected"]: True,
        sessions["young_connected"]: False,
        sessions["stale_connected"]: False,
    }


def test_clear_sessions_dry_run_changes_nothing(sessions):
    before = sorted(WebSocketSession.objects.values_list("connection_id", "connected", "updated_on"))
    output = run("clearWebSocketSessions", "--dry-run")
    assert output.startswith("Would remove 1 disconnected session(s)")
    assert "would mark 1 stale connected session(s)" in output
    assert sorted(WebSocketSession.objects.values_list("connection_id", "connected", "updated_on")) == before


def test_cleanup_tokens_deletes_used_and_expired_ones_past_the_rate_limit_window(user):
    now = timezone.now()

    def token(name, age, used=False):
        return WebSocketToken.objects.create(token=name * 64, user=user, created_at=now - age, used=used)

    # The token rate limit counts 5 minutes (TOKEN_RATE_LIMIT_WINDOW_MINUTES) of tokens.
    kept = [
        token("a", timedelta(0)),
        token("b", timedelta(0), used=True),
        token("c", timedelta(minutes=4, seconds=59)),
    ]
    token("d", timedelta(minutes=5, seconds=1))
    token("e", timedelta(days=1), used=True)
    assert run("cleanupWebSocketTokens", "--dry-run") == "Would remove 2 used or expired WebSocket token(s)."
    assert WebSocketToken.objects.count() == 5
    assert run("cleanupWebSocketTokens") == "Removed 2 used or expired WebSocket token(s)."
    assert sorted(WebSocketToken.objects.values_list("pk", flat=True)) == sorted(t.pk for t in kept)


@override_settings(WEBSOCKETS={"TOKEN_RATE_LIMIT_MAX": 2})
def test_cleanup_does_not_reset_the_token_rate_limit(user):
    assert WebSocketToken.objects.issue(user, "browser") and WebSocketToken.objects.issue(user, "browser")
    WebSocketToken.objects.update(used=True)

    run("cleanupWebSocketTokens")

    assert WebSocketToken.objects.issuing_limited(user)
    assert WebSocketToken.objects.issue(user, "browser") is None


def attempt(age, ip="198.51.100.1"):
    row = ConnectionRateLimit.objects.create(ip_address=ip)
    ConnectionRateLimit.objects.filter(pk=row.pk).update(attempt_time=timezone.now() - age)
    return row.pk


def test_cleanup_rate_limits_deletes_records_past_retention(db):
    keep = [attempt(timedelta(minutes=1)), attempt(timedelta(hours=23, minutes=59))]
    attempt(timedelta(hours=24, minutes=1))
    attempt(timedelta(days=30))
    assert run("cleanupconnectionratelimits", "--dry-run").startswith("Would remove 2 connection attempt record(s)")
    assert ConnectionRateLimit.objects.count() == 4
    assert run("cleanupconnectionratelimits") == "Removed 2 connection attempt record(s) older than 24 hour(s)."
    assert sorted(ConnectionRateLimit.objects.values_list("pk", flat=True)) == sorted(keep)


@override_settings(WEBSOCKETS={"RATE_LIMIT_RETENTION_HOURS": 0})
def test_cleanup_rate_limits_never_removes_attempts_inside_a_window(db):
    class LongWindowView(WebSocketView):
        RATE_LIMIT_WINDOW_MINUTES = 90

    assert longest_rate_limit_window_minutes() >= 90
    inside = attempt(timedelta(minutes=89))
    attempt(timedelta(minutes=91))
    run("cleanupconnectionratelimits")
    assert list(ConnectionRateLimit.objects.values_list("pk", flat=True)) == [inside]
    del LongWindowView

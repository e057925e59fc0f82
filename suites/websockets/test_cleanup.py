"""The scheduled clean-up commands, with the published package's options and meanings.

Projects cron ``cleanupWebSocketTokens --token-age=300 --rate-limit-age=7`` (token age
in seconds, rate-limit age in days: it removes used or expired tokens and rate-limit
records older than that) and ``clearWebSocketSessions`` (it removes disconnected
sessions); these tests are named after those meanings.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

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


def test_clearWebSocketSessions_removes_disconnected_sessions(sessions):
    output = run("clearWebSocketSessions")
    assert output == (
        "Deleted 2 disconnected WebSocket session(s); marked 1 connected session(s) silent for over 7200s disconnected."
    )
    # Connected sessions stay; the one silent past API Gateway's two hours is marked
    # disconnected (its $disconnect was lost) and goes with the next run.
    assert states() == {
        sessions["young_connected"]: True,
        sessions["just_connected"]: True,
        sessions["stale_connected"]: False,
    }
    run("clearWebSocketSessions")
    assert states() == {sessions["young_connected"]: True, sessions["just_connected"]: True}


def test_clearWebSocketSessions_never_touches_a_connected_session_younger_than_two_hours(sessions):
    young = WebSocketSession.objects.filter(connected=True).exclude(connection_id=sessions["stale_connected"])
    before = list(young.values_list("connection_id", "connected", "updated_on", "request_count"))
    for _ in range(3):
        run("clearWebSocketSessions")
    assert list(young.values_list("connection_id", "connected", "updated_on", "request_count")) == before


def test_clearWebSocketSessions_can_keep_recent_disconnected_sessions(sessions):
    assert run("clearWebSocketSessions", "--older-than-days=7").startswith("Deleted 1 disconnected")
    assert sessions["recent_disconnected"] in states()
    assert sessions["old_disconnected"] not in states()


def test_clearWebSocketSessions_dry_run_changes_nothing(sessions):
    before = sorted(WebSocketSession.objects.values_list("connection_id", "connected", "updated_on"))
    output = run("clearWebSocketSessions", "--dry-run")
    assert output.startswith("Would delete 2 disconnected WebSocket session(s); would mark 1")
    assert sorted(WebSocketSession.objects.values_list("connection_id", "connected", "updated_on")) == before


def token(user, name, age, used=False):
    return WebSocketToken.objects.create(token=name * 64, user=user, created_at=timezone.now() - age, used=used)


def test_cleanupWebSocketTokens_token_age_is_in_seconds(user):
    kept = [
        token(user, "a", timedelta(0)),
        token(user, "b", timedelta(seconds=10), used=True),
        token(user, "c", timedelta(minutes=59)),
    ]
    token(user, "d", timedelta(minutes=61))
    token(user, "e", timedelta(days=1), used=True)
    assert run("cleanupWebSocketTokens", "--token-age=3600", "--dry-run").startswith(
        "Would delete 2 WebSocket token(s) older than 3600s"
    )
    assert WebSocketToken.objects.count() == 5
    assert run("cleanupWebSocketTokens", "--token-age=3600").startswith("Deleted 2 WebSocket token(s) older than 3600s")
    assert sorted(WebSocketToken.objects.values_list("pk", flat=True)) == sorted(t.pk for t in kept)


def test_cleanupWebSocketTokens_defaults_to_300_seconds_and_never_deletes_a_valid_token(user):
    kept = token(user, "a", timedelta(seconds=299))
    token(user, "b", timedelta(seconds=301), used=True)
    assert run("cleanupWebSocketTokens").startswith("Deleted 1 WebSocket token(s) older than 300s")
    assert list(WebSocketToken.objects.values_list("pk", flat=True)) == [kept.pk]
    # Asked for less than a token lives, it keeps the valid ones all the same.
    with override_settings(WEBSOCKETS={"TOKEN_EXPIRY_SECONDS": 600}):
        assert run("cleanupWebSocketTokens", "--token-age=10").startswith(
            "Deleted 0 WebSocket token(s) older than 600s"
        )
    assert WebSocketToken.objects.count() == 1


@override_settings(WEBSOCKETS={"TOKEN_RATE_LIMIT_MAX": 2})
def test_cleanupWebSocketTokens_does_not_reset_the_token_rate_limit(user):
    assert WebSocketToken.objects.issue(user, "browser") and WebSocketToken.objects.issue(user, "browser")
    WebSocketToken.objects.update(used=True)

    run("cleanupWebSocketTokens", "--token-age=0")

    assert WebSocketToken.objects.issuing_limited(user)
    assert WebSocketToken.objects.issue(user, "browser") is None


def attempt(age, ip="198.51.100.1"):
    row = ConnectionRateLimit.objects.create(ip_address=ip)
    ConnectionRateLimit.objects.filter(pk=row.pk).update(attempt_time=timezone.now() - age)
    return row.pk


def test_cleanupWebSocketTokens_rate_limit_age_is_in_days_and_defaults_to_seven(db):
    keep = [attempt(timedelta(minutes=1)), attempt(timedelta(days=6, hours=23))]
    attempt(timedelta(days=7, minutes=1))
    attempt(timedelta(days=30))
    assert "and 2 connection rate-limit record(s)" in run("cleanupWebSocketTokens", "--dry-run")
    assert ConnectionRateLimit.objects.count() == 4
    assert "and 2 connection rate-limit record(s) older than 604800s" in run("cleanupWebSocketTokens")
    assert sorted(ConnectionRateLimit.objects.values_list("pk", flat=True)) == sorted(keep)
    assert "and 1 connection rate-limit record(s)" in run("cleanupWebSocketTokens", "--rate-limit-age=1")


def test_cleanupWebSocketTokens_never_removes_attempts_inside_a_rate_limit_window(db):
    class LongWindowView(WebSocketView):
        RATE_LIMIT_WINDOW_MINUTES = 90

    inside = attempt(timedelta(minutes=89))
    attempt(timedelta(minutes=91))
    run("cleanupWebSocketTokens", "--rate-limit-age=0")
    assert list(ConnectionRateLimit.objects.values_list("pk", flat=True)) == [inside]
    del LongWindowView


@pytest.mark.parametrize(
    "arguments", [["--token-age=-1"], ["--rate-limit-age=-1"], ["--token-age=soon"], ["--rate-limit-age=1.5"]]
)
def test_cleanupWebSocketTokens_refuses_bad_options(db, arguments):
    with pytest.raises(CommandError):
        call_command("cleanupWebSocketTokens", *arguments, stdout=StringIO())

"""Tokens: stored and looked up only as digests, short-lived; refusals that say little.

Further security properties are proven elsewhere and listed on the reliability page:
single use and session binding (``tests/websockets/test_connect.py``), one winner
when a token is raced (``test_concurrency.py``), the
token endpoint's CSRF and login requirements (``test_fuzz_token_endpoint.py``), and
hostile text in the chat and notification pages (``tests/e2e/test_chat.py``,
``test_escaping.py``).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_aws_api_gateway_websockets import managers
from django_aws_api_gateway_websockets.conf import ws_setting
from django_aws_api_gateway_websockets.models import WebSocketSession, WebSocketToken
from django_aws_api_gateway_websockets.testing import WebSocketTestClient, fetch_websocket_token

AREA = "Security"

pytestmark = pytest.mark.urls("tests.reliability.urls")


def test_a_token_is_stored_and_looked_up_only_by_its_digest(api_gateway, user, cases):
    """The raw token never reaches the database: it is stored, and looked up on $connect, as its SHA-256."""
    browser = Client()
    browser.force_login(user)
    with CaptureQueriesContext(connection) as issuing:
        token = fetch_websocket_token(browser)
    ws = WebSocketTestClient(api_gateway, browser)
    with CaptureQueriesContext(connection) as connecting:
        assert ws.connect(channel="general", token=token).status_code == 200
    cases.add()
    assert list(WebSocketToken.objects.values_list("token", flat=True)) == [managers.token_digest(token)]
    for queries in (issuing, connecting):
        sql = " ".join(query["sql"] for query in queries.captured_queries)
        assert token not in sql
    assert managers.token_digest(token) in " ".join(query["sql"] for query in connecting.captured_queries)


@pytest.mark.parametrize(
    ("age_seconds", "status"),
    [(0, 200), ("expiry - 1", 200), ("expiry + 1", 403), ("expiry + 3600", 403)],
)
def test_a_token_lives_only_as_long_as_configured(api_gateway, user, age_seconds, status, cases):
    """Tokens at their expiry: accepted just before, refused just after."""
    expiry = int(ws_setting("TOKEN_EXPIRY_SECONDS"))
    age = {"expiry - 1": expiry - 1, "expiry + 1": expiry + 1, "expiry + 3600": expiry + 3600}.get(age_seconds, 0)
    browser = Client()
    browser.force_login(user)
    token = fetch_websocket_token(browser)
    WebSocketToken.objects.update(created_at=timezone.now() - timedelta(seconds=age))
    response = WebSocketTestClient(api_gateway, browser).connect(channel="general", token=token)
    cases.add()
    assert response.status_code == status
    assert WebSocketSession.objects.count() == (1 if status == 200 else 0)


def test_a_refusal_tells_the_caller_no_more_than_a_short_reason(api_gateway, user, cases, caplog):
    """Refused $connects (token, origin, channel): a few words for the caller, the real reason only in the log."""
    browser = Client()
    browser.force_login(user)
    ws = WebSocketTestClient(api_gateway, browser)
    attempts = [
        {"token": "guessed-token", "channel": "general"},
        {"token": fetch_websocket_token(browser), "channel": "general", "origin": "https://evil.example"},
        {"token": fetch_websocket_token(browser), "channel": "x" * 500},
    ]
    for attempt in attempts:
        response = ws.connect(**attempt)
        cases.add()
        assert 400 <= response.status_code < 500
        assert set(response.json()) == {"error"}
        reason = response.json()["error"]
        assert len(reason) < 40
        assert "guessed" not in reason and "evil" not in reason and "xxx" not in reason
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "unknown, already used or expired" in logged
    assert "evil.example" in logged
    assert "500 characters" in logged

"""Tokens: random, stored only as digests, looked up without timing leaks, short-lived.

Further security properties are proven elsewhere and listed on the reliability page:
single use and session binding (``tests/websockets/test_connect.py``), one winner
when a token is raced (``test_concurrency.py`` here and in ``tests/websockets``), the
token endpoint's CSRF and login requirements (``test_fuzz_token_endpoint.py``), and
hostile text in the chat and notification pages (``tests/e2e/test_chat.py``,
``test_escaping.py``).
"""

import base64
import hmac
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

SAMPLE = 2000


def test_tokens_are_unique_unpredictable_and_stored_only_as_digests(user, settings, cases):
    """2,000 tokens: 256 random bits each (every bit position balanced), all distinct, only SHA-256 digests stored."""
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "TOKEN_RATE_LIMIT_MAX": SAMPLE + 1}
    raw = [WebSocketToken.objects.issue(user, "s" * 32)[0] for _ in range(SAMPLE)]
    cases.add(SAMPLE)
    assert len(set(raw)) == SAMPLE
    decoded = [base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)) for token in raw]
    assert {len(value) for value in decoded} == {32}
    # Each of the 256 bit positions is set in about half of the tokens: a counter,
    # a timestamp or a weak generator would leave some positions stuck. (Six standard
    # deviations: a fair generator fails this less than once in a million runs.)
    deviation = 6 * (SAMPLE**0.5) / 2
    for bit in range(256):
        ones = sum((value[bit // 8] >> (bit % 8)) & 1 for value in decoded)
        assert abs(ones - SAMPLE / 2) < deviation, (bit, ones)
    stored = set(WebSocketToken.objects.values_list("token", flat=True))
    assert stored == {managers.token_digest(token) for token in raw}
    assert not stored & set(raw)


def test_a_token_is_looked_up_by_its_digest_and_the_session_compared_in_constant_time(
    api_gateway, user, monkeypatch, cases
):
    """The raw token never reaches the database, and the browser session is compared with hmac.compare_digest."""
    browser = Client()
    browser.force_login(user)
    token = fetch_websocket_token(browser)
    comparisons = []
    compare_digest = hmac.compare_digest

    def recording_compare(a, b):
        comparisons.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(managers.hmac, "compare_digest", recording_compare)
    ws = WebSocketTestClient(api_gateway, browser)
    with CaptureQueriesContext(connection) as queries:
        assert ws.connect(channel="general", token=token).status_code == 200
    cases.add()
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert token not in sql
    assert managers.token_digest(token) in sql
    session_key = browser.cookies["sessionid"].value.encode()
    assert comparisons == [(session_key, session_key)]


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

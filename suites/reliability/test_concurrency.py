"""Races on PostgreSQL: requests that really run at the same moment, each in its own
thread with its own database connection, as several Django instances behind API
Gateway do. On SQLite the same requests run one after another (its test database
takes one writer) and the same outcome is asserted.

Tokens raced by many connects, rate-limit bursts per address and per user, messages
racing a disconnect, API Gateway retrying a connect, and token requests racing the
token limit.
"""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test import Client, override_settings

from django_aws_api_gateway_websockets.conf import ws_setting
from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession, WebSocketToken
from django_aws_api_gateway_websockets.testing import WebSocketTestClient, fetch_websocket_token
from tests.records import make_api_gateway

from .views import TightTokenView

AREA = "Concurrency"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.reliability.urls")]


def run_together(count, work):
    """``work(i)`` for i in range(count): all at once on PostgreSQL, in turn elsewhere."""
    results = [None] * count
    if connection.vendor != "postgresql":
        for index in range(count):
            results[index] = work(index)
        return results
    barrier = threading.Barrier(count)
    errors = []

    def thread(index):
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # reported below, in the test's own thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=thread, args=(index,)) for index in range(count)]
    for started in threads:
        started.start()
    for started in threads:
        started.join(timeout=60)
    assert not errors, errors
    assert not any(started.is_alive() for started in threads)
    return results


def browser_of(user):
    browser = Client()
    browser.force_login(user)
    return browser


def session_cookie(browser):
    return {name: morsel.value for name, morsel in browser.cookies.items()}


def test_five_tokens_each_raced_by_six_connects_open_exactly_five_connections(user, cases):
    """Five tokens, each presented by six concurrent $connects (30 at once): exactly one connect per token succeeds."""
    gateway = make_api_gateway()
    browser = browser_of(user)
    tokens = [fetch_websocket_token(browser) for _ in range(5)]
    cookies = session_cookie(browser)

    def connect(index):
        ws = WebSocketTestClient(gateway, client_ip=f"198.51.100.{index + 1}")
        return ws.connect(channel="general", token=tokens[index % 5], cookies=cookies).status_code

    statuses = run_together(30, connect)
    cases.add(len(statuses))
    assert sorted(statuses) == [200] * 5 + [403] * 25
    assert WebSocketSession.objects.filter(user=user, connected=True).count() == 5
    assert WebSocketToken.objects.filter(used=True).count() == 5
    assert ConnectionRateLimit.objects.filter(successful=True).count() == 5


def test_one_users_burst_from_many_addresses_never_passes_the_per_user_limit(user, cases):
    """Twelve concurrent token-carrying $connects of one user from twelve addresses, limit 5: at most 5 admitted."""
    gateway = make_api_gateway()
    browser = browser_of(user)
    tokens = [fetch_websocket_token(browser) for _ in range(12)]
    cookies = session_cookie(browser)

    def connect(index):
        ws = WebSocketTestClient(gateway, base_path="/tight/", client_ip=f"203.0.113.{index + 1}")
        return ws.connect(channel="general", token=tokens[index], cookies=cookies).status_code

    statuses = run_together(12, connect)
    cases.add(len(statuses))
    admitted = statuses.count(200)
    assert admitted <= TightTokenView.RATE_LIMIT_MAX_ATTEMPTS
    assert statuses.count(429) == 12 - admitted
    assert WebSocketSession.objects.count() == admitted
    # Single use means a single presentation: refused or not, every token is spent.
    assert WebSocketToken.objects.filter(used=False).count() == 0
    if connection.vendor != "postgresql":
        assert admitted == TightTokenView.RATE_LIMIT_MAX_ATTEMPTS


def test_a_burst_of_many_users_from_one_address_never_passes_the_per_address_limit(cases):
    """Twenty users behind one address connect at once with valid tokens, limit 5: at most 5 admitted."""
    gateway = make_api_gateway()
    users = [get_user_model().objects.create_user(f"crowd{index}") for index in range(20)]
    credentials = []
    for member in users:
        browser = browser_of(member)
        credentials.append((fetch_websocket_token(browser), session_cookie(browser)))

    def connect(index):
        token, cookies = credentials[index]
        ws = WebSocketTestClient(gateway, base_path="/tight/", client_ip="192.0.2.44")
        return ws.connect(channel="general", token=token, cookies=cookies).status_code

    statuses = run_together(20, connect)
    cases.add(len(statuses))
    admitted = statuses.count(200)
    assert admitted <= TightTokenView.RATE_LIMIT_MAX_ATTEMPTS
    assert statuses.count(429) == 20 - admitted
    assert WebSocketSession.objects.count() == admitted
    assert ConnectionRateLimit.objects.filter(ip_address="192.0.2.44").count() == 20


def test_messages_racing_a_disconnect_are_counted_exactly_when_accepted(cases):
    """Eight threads of ten messages on one connection racing its $disconnect: the count equals the accepted ones."""
    gateway = make_api_gateway()
    ws = WebSocketTestClient(gateway, base_path="/fuzz/")
    assert ws.connect(channel="general").status_code == 200

    def work(index):
        sender = WebSocketTestClient(gateway, base_path="/fuzz/")
        statuses = []
        for n in range(10):
            if index == 0 and n == 5:
                statuses.append(("disconnect", sender.disconnect(connection_id=ws.connection_id).status_code))
            statuses.append(
                ("message", sender.message({"action": "quiet"}, connection_id=ws.connection_id).status_code)
            )
        return statuses

    results = [item for statuses in run_together(8, work) for item in statuses]
    cases.add(len(results))
    messages = [status for kind, status in results if kind == "message"]
    assert [status for kind, status in results if kind == "disconnect"] == [200]
    # 429: past the connection's message rate limit, which also counts only accepted ones.
    assert set(messages) <= {204, 410, 429}
    session = WebSocketSession.objects.get()
    assert session.connected is False
    assert session.request_count == messages.count(204)
    # Sent after the disconnect in its own thread: refused, whatever the others did.
    assert results[6] == ("message", 410)


@override_settings(WEBSOCKETS={"MESSAGE_RATE_LIMIT_MAX_MESSAGES": 10, "MESSAGE_RATE_LIMIT_USER_MAX_MESSAGES": 1000})
def test_a_burst_of_concurrent_messages_on_one_connection_never_passes_its_limit(cases):
    """Eight threads of twenty messages on one connection, limit 10: exactly 10 accepted and counted, the rest 429."""
    gateway = make_api_gateway()
    ws = WebSocketTestClient(gateway, base_path="/fuzz/")
    assert ws.connect(channel="general").status_code == 200

    def work(index):
        sender = WebSocketTestClient(gateway, base_path="/fuzz/")
        return [sender.message({"action": "quiet"}, connection_id=ws.connection_id).status_code for _ in range(20)]

    statuses = [status for thread in run_together(8, work) for status in thread]
    cases.add(len(statuses))
    assert sorted(statuses) == [204] * 10 + [429] * 150
    assert WebSocketSession.objects.get().request_count == 10


def test_api_gateway_retrying_one_connect_opens_one_session(cases):
    """Fifteen concurrent $connects of one connection id (a retried handshake): one session, the rest 409."""
    gateway = make_api_gateway()
    connection_id = "RetRiEdCoNnEcT1="

    def connect(index):
        ws = WebSocketTestClient(gateway, base_path="/fuzz/", client_ip=f"198.51.100.{index + 1}")
        return ws.connect(channel="general", connection_id=connection_id).status_code

    statuses = run_together(15, connect)
    cases.add(len(statuses))
    assert sorted(statuses) == [200] + [409] * 14
    assert WebSocketSession.objects.get().connection_id == connection_id
    assert ConnectionRateLimit.objects.filter(successful=True).count() == 1


def test_concurrent_token_requests_never_pass_the_token_limit(user, cases):
    """Forty concurrent token requests of one logged-in browser, limit 30: at most 30 tokens issued, the rest 429."""
    browser = browser_of(user)
    limit = int(ws_setting("TOKEN_RATE_LIMIT_MAX"))

    def ask(index):
        client = Client()
        client.cookies["sessionid"] = browser.cookies["sessionid"].value
        return client.post("/websockets/token/").status_code

    statuses = run_together(limit + 10, ask)
    cases.add(len(statuses))
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) == WebSocketToken.objects.filter(user=user).count()
    assert statuses.count(200) <= limit
    if connection.vendor != "postgresql":
        assert statuses.count(200) == limit

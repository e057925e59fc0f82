"""Races that only a real database can settle.

On PostgreSQL the requests really run at the same moment, in threads, each on its
own database connection (this is what several Django instances behind API Gateway
do). SQLite takes one writer at a time, so there the same requests run one after
another and the same outcome is asserted.
"""

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession, WebSocketToken
from django_aws_api_gateway_websockets.testing import WebSocketTestClient
from tests.records import make_api_gateway

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.websockets.urls")]


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


def test_one_token_opens_exactly_one_connection_when_twenty_race(user):
    gateway = make_api_gateway()
    browser = Client()
    browser.force_login(user)
    token = WebSocketTestClient(gateway, browser).fetch_token()
    cookies = {"sessionid": browser.cookies["sessionid"].value}

    def connect(index):
        ws = WebSocketTestClient(gateway, client_ip=f"198.51.100.{index + 1}")
        return ws.connect(channel="general", token=token, cookies=cookies).status_code

    statuses = run_together(20, connect)
    assert sorted(statuses) == [200] + [403] * 19
    assert WebSocketSession.objects.count() == 1
    assert WebSocketSession.objects.get().user == user
    assert WebSocketToken.objects.get().used is True


def test_a_burst_from_one_address_never_admits_more_than_the_limit(transactional_db):
    gateway = make_api_gateway()

    def connect(index):
        return WebSocketTestClient(gateway, base_path="/t/tight/").connect().status_code

    statuses = run_together(20, connect)  # TightLimitView: RATE_LIMIT_MAX_ATTEMPTS = 3
    admitted = statuses.count(200)
    assert admitted <= 3
    assert statuses.count(429) == 20 - admitted
    assert WebSocketSession.objects.count() == admitted
    assert ConnectionRateLimit.objects.count() == 20
    assert ConnectionRateLimit.objects.filter(successful=True).count() == admitted
    if connection.vendor != "postgresql":
        assert admitted == 3  # one after another, exactly the first three get in


def test_concurrent_messages_on_one_connection_lose_no_count(transactional_db):
    gateway = make_api_gateway()
    ws = WebSocketTestClient(gateway, base_path="/t/handlers/")
    assert ws.connect(channel="general").status_code == 200

    def send_ten(index):
        sender = WebSocketTestClient(gateway, base_path="/t/handlers/")
        return [
            sender.message({"action": "quiet", "n": n}, connection_id=ws.connection_id).status_code for n in range(10)
        ]

    results = run_together(10, send_ten)
    assert all(status == 204 for statuses in results for status in statuses)
    assert WebSocketSession.objects.get().request_count == 100

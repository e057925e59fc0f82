"""Which failures a sender tries again, how long it waits before, and that a send
never waits longer than its bound."""

import asyncio
import random
import time

from .conftest import OK, reset

SERVER_ERROR = (
    b"HTTP/1.1 500 Internal Server Error\r\nx-amzn-ErrorType: InternalServerErrorException\r\nContent-Length: 0\r\n\r\n"
)
THROTTLED = b"HTTP/1.1 429 Too Many Requests\r\nx-amzn-ErrorType: LimitExceededException\r\nContent-Length: 0\r\n\r\n"


def first_attempt_answers(first):
    """A script: each connection id's first request gets ``first``, later ones 200."""
    seen = set()

    async def script(request, writer):
        if request.connection_id in seen:
            writer.write(OK)
        else:
            seen.add(request.connection_id)
            writer.write(first)
        return "keep"

    return script


def test_a_500_is_retried(sender, raw_server, signer):
    server = raw_server(first_attempt_answers(SERVER_ERROR))

    report = sender.send(server.endpoint(), ["a=", "b="], signer)

    assert report.delivered == ["a=", "b="]
    assert [r.connection_id for r in server.requests] == ["a%3D", "a%3D", "b%3D", "b%3D"]


def test_a_500_that_persists_fails_after_the_retries(sender, raw_server, signer):
    async def script(request, writer):
        writer.write(SERVER_ERROR)
        return "keep"

    server = raw_server(script)
    report = sender.send(server.endpoint(), ["a="], signer, retries=2)

    assert report.failed == {"a=": "InternalServerErrorException (HTTP 500)"}
    assert len(server.requests) == 3


def test_a_429_is_retried_after_a_jittered_delay(sender, raw_server, signer, monkeypatch):
    delays = []
    real_uniform = random.uniform

    def uniform(low, high):
        delays.append((low, high))
        return real_uniform(low, high)

    monkeypatch.setattr(random, "uniform", uniform)
    server = raw_server(first_attempt_answers(THROTTLED))

    report = sender.send(server.endpoint(), ["a=", "b="], signer, throttle_base_delay=0.02)

    assert report.delivered == ["a=", "b="]
    assert len(server.requests) == 4
    # Full jitter: anywhere between no wait and the backoff step.
    assert delays == [(0, 0.02), (0, 0.02)]


def test_the_retries_of_many_throttled_posts_are_spread_out(sender, raw_server, signer):
    arrivals = {}
    seen = set()

    async def script(request, writer):
        if request.connection_id in seen:
            arrivals[request.connection_id] = time.monotonic()
            writer.write(OK)
        else:
            seen.add(request.connection_id)
            writer.write(THROTTLED)
        return "keep"

    server = raw_server(script)
    ids = [f"c{i}=" for i in range(40)]
    report = sender.send(server.endpoint(), ids, signer, concurrency=40, throttle_base_delay=0.4)

    assert sorted(report.delivered) == sorted(ids)
    times = sorted(arrivals.values())
    # Not in lockstep: the retries arrive over a good part of the 0.4 s window.
    assert times[-1] - times[0] > 0.15


def test_a_connection_reset_before_any_answer_is_retried_on_a_fresh_connection(sender, raw_server, signer):
    async def script(request, writer):
        if request.number == 1:
            reset(writer)
            return "leave"
        writer.write(OK)
        return "keep"

    server = raw_server(script)
    report = sender.send(server.endpoint(), ["a="], signer)

    assert report.delivered == ["a="]
    assert server.connections == 2


def test_a_connection_closed_before_any_answer_is_retried(sender, raw_server, signer):
    async def script(request, writer):
        if request.number == 1:
            return "close"
        writer.write(OK)
        return "keep"

    server = raw_server(script)
    report = sender.send(server.endpoint(), ["a="], signer)

    assert report.delivered == ["a="]


def test_an_answer_that_is_not_http_is_a_failure_not_retried(sender, raw_server, signer):
    async def script(request, writer):
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        return "close"

    server = raw_server(script)
    report = sender.send(server.endpoint(), ["x="], signer)

    assert "malformed answer" in report.failed["x="]
    assert len(server.requests) == 1


def test_nothing_listening_is_a_reported_failure(sender, signer):
    report = sender.send("http://127.0.0.1:9/production", ["x="], signer)
    assert report.failed["x="].startswith("connection error")


def test_a_server_that_never_answers_is_a_failure_within_the_bound(sender, raw_server, signer):
    async def script(request, writer):
        await asyncio.sleep(60)
        return "keep"

    server = raw_server(script)
    started = time.monotonic()
    report = sender.send(server.endpoint(), ["x="], signer, timeout_seconds=5, max_wait_seconds=0.5)
    elapsed = time.monotonic() - started

    assert list(report.failed) == ["x="]
    assert "timeout" in report.failed["x="]
    assert elapsed < 2


def test_posts_left_when_the_bound_passes_are_failed_without_being_sent(sender, raw_server, signer):
    async def script(request, writer):
        await asyncio.sleep(60)
        return "keep"

    server = raw_server(script)
    ids = ["a=", "b=", "c=", "d=", "e="]
    started = time.monotonic()
    report = sender.send(server.endpoint(), ids, signer, timeout_seconds=0.2, max_wait_seconds=0.5)
    elapsed = time.monotonic() - started

    assert sorted(report.failed) == ids
    assert elapsed < 0.9
    assert len(server.requests) <= 3


def test_the_timeout_also_bounds_opening_the_connection(sender, signer, tls):
    # A listener that accepts TCP and never speaks TLS.
    import socket

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        started = time.monotonic()
        report = sender.send(f"https://127.0.0.1:{port}/production", ["x="], signer, timeout_seconds=0.3)

    assert report.failed == {"x=": "timeout"}
    assert time.monotonic() - started < 2

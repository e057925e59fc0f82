"""What a sender makes of the bytes a server writes back: interim answers, late and
extra answers, the three ways a body ends, unread bytes on an idle connection."""

import asyncio
import logging

import pytest

from .conftest import OK

GONE = b"HTTP/1.1 410 Gone\r\nx-amzn-ErrorType: GoneException\r\nContent-Length: 0\r\n\r\n"
FORBIDDEN = b"HTTP/1.1 403 Forbidden\r\nx-amzn-ErrorType: ForbiddenException\r\nContent-Length: 2\r\n\r\n{}"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def test_connections_are_kept_alive_across_posts_and_sends(sender, raw_server, signer):
    async def script(request, writer):
        writer.write(OK)
        return "keep"

    server = raw_server(script)
    first = sender.send(server.endpoint(), [f"a{i}=" for i in range(30)], signer, concurrency=3)
    second = sender.send(server.endpoint(), [f"b{i}=" for i in range(30)], signer, concurrency=3)

    assert len(first.delivered) == len(second.delivered) == 30
    assert server.connections <= 3


def test_100_continue_then_410_is_gone(sender, raw_server, signer):
    # The interim answer, then the final one a moment later: the post is gone, and the
    # next post gets its own answer.
    async def script(request, writer):
        if request.connection_id == "a%3D":
            writer.write(CONTINUE)
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(GONE)
        else:
            writer.write(OK)
        return "keep"

    server = raw_server(script)
    report = sender.send(server.endpoint(), ["a=", "b="], signer)

    assert report.gone == ["a="]
    assert report.delivered == ["b="]
    assert report.failed == {}


def test_100_continue_then_200_is_delivered(sender, raw_server, signer):
    async def script(request, writer):
        if request.connection_id == "a%3D":
            writer.write(CONTINUE)
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(OK)
        else:
            writer.write(FORBIDDEN)
        return "keep"

    server = raw_server(script)
    report = sender.send(server.endpoint(), ["a=", "b="], signer)

    assert report.delivered == ["a="]
    assert report.failed == {"b=": "ForbiddenException (HTTP 403)"}


def test_a_late_extra_answer_is_never_taken_for_the_next_posts(sender, raw_server, signer):
    # The server answers the first post, then writes a second answer nobody asked for
    # while the connection sits idle in the pool.
    async def script(request, writer):
        writer.write(OK)
        if request.number == 1:

            async def late():
                await asyncio.sleep(0.05)
                writer.write(GONE)

            asyncio.ensure_future(late())  # noqa: RUF006 - the server's loop owns it
        return "keep"

    server = raw_server(script)
    first = sender.send(server.endpoint(), ["a="], signer)
    asyncio.run(asyncio.sleep(0.3))
    second = sender.send(server.endpoint(), ["b="], signer)

    assert first.delivered == ["a="]
    assert second.delivered == ["b="]
    assert second.gone == []
    assert server.connections == 2  # the connection that got the extra answer was discarded


def test_an_extra_answer_in_the_same_segment_discards_the_connection(sender, raw_server, signer):
    async def script(request, writer):
        writer.write(OK + GONE if request.number == 1 else OK)
        return "keep"

    server = raw_server(script)
    report = sender.send(server.endpoint(), ["a=", "b="], signer)

    assert report.delivered == ["a=", "b="]
    assert server.connections == 2


def test_a_close_delimited_body_is_read_to_the_close(sender, raw_server, signer, caplog):
    # No Content-Length, no chunking: the body ends when the server closes. With or
    # without "Connection: close", the answer's body is all of it, and the next post
    # goes on a fresh connection.
    for connection_header in (b"Connection: close\r\n", b""):

        async def script(request, writer, connection_header=connection_header):
            if request.connection_id.startswith("first"):
                writer.write(b"HTTP/1.1 403 Forbidden\r\nx-amzn-ErrorType: ForbiddenException\r\n")
                writer.write(connection_header + b'\r\n{"message":')
                await writer.drain()
                await asyncio.sleep(0.05)
                writer.write(b'"Forbidden"}')
                return "close"
            writer.write(OK)
            return "keep"

        server = raw_server(script)
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger=sender.module.__name__):
            report = sender.send(server.endpoint(), ["first=", "second="], signer)

        assert report.failed == {"first=": "ForbiddenException (HTTP 403)"}, connection_header
        assert report.delivered == ["second="], connection_header
        assert '{"message":"Forbidden"}' in caplog.text, connection_header
        assert server.connections == 2


def test_a_chunked_body_is_read_whatever_the_segments(sender, raw_server, signer, caplog):
    # Chunk extensions and a trailer, written in pieces that split the size lines and
    # the CRLFs; the connection stays usable after the last chunk.
    pieces = [
        b"HTTP/1.1 403 Forbidden\r\nx-amzn-ErrorType: ForbiddenException\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"c;ext=1\r",
        b'\n{"message":"\r',
        b'\nb\r\nForbidden"}\r\n0\r\nX-Trailer: ',
        b"yes\r\n\r\n",
    ]

    async def script(request, writer):
        if request.connection_id == "a%3D":
            for piece in pieces:
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.01)
        else:
            writer.write(OK)
        return "keep"

    server = raw_server(script)
    with caplog.at_level(logging.DEBUG, logger=sender.module.__name__):
        report = sender.send(server.endpoint(), ["a=", "b="], signer)

    assert report.failed == {"a=": "ForbiddenException (HTTP 403)"}
    assert report.delivered == ["b="]
    assert '{"message":"Forbidden"}' in caplog.text
    assert server.connections == 1


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_an_idle_connection_with_unread_bytes_is_not_reused(sender, raw_server, signer, tls, scheme):
    # Noise, or the start of an answer, arrives on a pooled connection between two sends.
    for noise in (b"\r\nnoise\r\n\r\n", b"HTTP/1.1 20"):
        connections_before = 0

        async def script(request, writer, noise=noise):
            writer.write(OK)
            if request.number == 1:
                await writer.drain()
                await asyncio.sleep(0.05)
                writer.write(noise)
            return "keep"

        server = raw_server(script, ssl_context=tls if scheme == "https" else None)
        first = sender.send(server.endpoint(), ["a="], signer)
        asyncio.run(asyncio.sleep(0.3))
        connections_before = server.connections
        second = sender.send(server.endpoint(), ["b="], signer)

        assert first.delivered == ["a="], noise
        assert second.delivered == ["b="], (noise, second.failed)
        assert server.connections == connections_before + 1, noise


def test_closing_sends_delete_with_no_body_and_a_204_counts_as_closed(sender, raw_server, signer):
    async def script(request, writer):
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        return "keep"

    server = raw_server(script)
    report = sender.send(server.endpoint("prod"), ["R1kmxc2VNjMCFIA="], signer, data=b"", method="DELETE")
    assert report.delivered == ["R1kmxc2VNjMCFIA="]
    [request] = server.requests
    assert request.head.startswith(b"DELETE /prod/@connections/R1kmxc2VNjMCFIA%3D HTTP/1.1\r\n")
    assert request.header("Content-Length") == "0"
    assert request.body == b""


def test_connections_idle_for_too_long_are_closed_instead_of_reused(sender, raw_server, signer, monkeypatch):
    async def script(request, writer):
        writer.write(OK)
        return "keep"

    server = raw_server(script)
    sender.send(server.endpoint(), ["a="], signer)
    sender.send(server.endpoint(), ["b="], signer)
    assert server.connections == 1
    monkeypatch.setattr(sender.module, "IDLE_SECONDS", -1)
    sender.send(server.endpoint(), ["c="], signer)
    assert server.connections == 2

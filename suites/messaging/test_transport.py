"""The sender's small HTTP/1.1 client against raw servers on 127.0.0.1: keep-alive,
servers that close idle connections, chunked and close-delimited answers, TLS with
the CA bundle boto3 would use, and answers that are not HTTP."""

import asyncio
import socket
import ssl
import threading

import pytest
import trustme
from botocore.credentials import Credentials

from django_aws_api_gateway_websockets.sending.signing import RequestSigner
from django_aws_api_gateway_websockets.sending.transport import SendOptions, post_to_connections

OPTIONS = SendOptions(concurrency=4, timeout_seconds=2, throttle_retries=2, throttle_base_delay=0.001)
SIGNER = RequestSigner(Credentials("key", "secret").get_frozen_credentials(), "eu-west-1")


class RawServer:
    """A TCP server on 127.0.0.1 whose answer to each request is chosen by a test."""

    def __init__(self, answer, ssl_context=None):
        self.answer = answer  # (request number, request bytes) -> (bytes to write, close afterwards)
        self.ssl_context = ssl_context
        self.requests = []
        self.connections = 0
        self.handlers = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _handle(self, reader, writer):
        self.connections += 1
        self.handlers.add(asyncio.current_task())
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(
                    next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")).split(
                        b":"
                    )[1]
                )
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                reply, close = self.answer(len(self.requests), head)
                writer.write(reply)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self.handlers.discard(asyncio.current_task())

    def start(self):
        self.thread.start()

        async def serve():
            self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.ssl_context)
            return self.server.sockets[0].getsockname()[1]

        self.port = asyncio.run_coroutine_threadsafe(serve(), self.loop).result(5)
        return self

    def stop(self):
        async def shutdown():
            self.server.close()
            for handler in list(self.handlers):
                handler.cancel()
            await asyncio.gather(*self.handlers, return_exceptions=True)
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def raw_server():
    servers = []

    def start(answer, ssl_context=None):
        server = RawServer(answer, ssl_context).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def test_connections_are_kept_alive_across_posts_and_sends(raw_server):
    server = raw_server(lambda n, head: (OK, False))
    endpoint = f"http://127.0.0.1:{server.port}/production"

    first = post_to_connections(endpoint, [f"a{i}=" for i in range(20)], b"{}", SIGNER, OPTIONS)
    second = post_to_connections(endpoint, [f"b{i}=" for i in range(20)], b"{}", SIGNER, OPTIONS)

    assert len(first.delivered) == len(second.delivered) == 20
    assert server.connections <= OPTIONS.concurrency
    assert server.requests[0].startswith(b"POST /production/@connections/a0%3D HTTP/1.1\r\n")


def test_a_server_that_closed_an_idle_connection_gets_the_post_on_a_new_one(raw_server):
    # Every connection serves one request and then closes, like a server whose
    # keep-alive timeout ran out between two sends.
    server = raw_server(lambda n, head: (OK, True))
    endpoint = f"http://127.0.0.1:{server.port}/production"

    post_to_connections(endpoint, ["first="], b"{}", SIGNER, OPTIONS)
    result = post_to_connections(endpoint, ["second="], b"{}", SIGNER, OPTIONS)

    assert result.delivered == ["second="]
    assert result.failed == {}


def test_chunked_and_connection_close_answers_are_read(raw_server):
    answers = [
        b"HTTP/1.1 410 Gone\r\nx-amzn-ErrorType: GoneException\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'd\r\n{"message":""\r\n1\r\n}\r\n0\r\n\r\n',
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 403 Forbidden\r\nx-amzn-ErrorType: ForbiddenException:http://internal.amazon.com/\r\n"
        b'Content-Length: 23\r\n\r\n{"message":"Forbidden"}',
    ]
    server = raw_server(lambda n, head: (answers[n - 1], n == 2))
    endpoint = f"http://127.0.0.1:{server.port}/production"
    sequential = SendOptions(concurrency=1, timeout_seconds=2, throttle_retries=0, throttle_base_delay=0)

    result = post_to_connections(endpoint, ["gone=", "ok=", "forbidden="], b"{}", SIGNER, sequential)

    assert result.gone == ["gone="]
    assert result.delivered == ["ok="]
    assert result.failed == {"forbidden=": "ForbiddenException (HTTP 403)"}


def test_an_answer_that_is_not_http_is_a_reported_failure(raw_server):
    server = raw_server(lambda n, head: (b"SSH-2.0-OpenSSH\r\n\r\n", True))

    result = post_to_connections(f"http://127.0.0.1:{server.port}/production", ["x="], b"{}", SIGNER, OPTIONS)

    assert "malformed answer" in result.failed["x="]


def test_nothing_listening_is_a_reported_failure():
    result = post_to_connections("http://127.0.0.1:9/production", ["x="], b"{}", SIGNER, OPTIONS)
    assert result.failed["x="].startswith("connection error")


def test_the_timeout_also_bounds_opening_the_connection():
    # A listener that accepts TCP and never speaks TLS: the handshake would wait for
    # asyncio's own 60 s unless the send's timeout covers opening the connection.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        options = SendOptions(concurrency=1, timeout_seconds=0.3, throttle_retries=0, throttle_base_delay=0)

        result = post_to_connections(f"https://127.0.0.1:{port}/production", ["x="], b"{}", SIGNER, options)

    assert result.failed == {"x=": "timeout"}


def test_https_uses_the_aws_ca_bundle(raw_server, tmp_path, monkeypatch):
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    first, second = (raw_server(lambda n, head: (OK, False), ssl_context=context) for _ in range(2))

    untrusted = post_to_connections(f"https://127.0.0.1:{first.port}/production", ["x="], b"{}", SIGNER, OPTIONS)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    # A pool reads the bundle when it is made, on the first send to its origin.
    trusted = post_to_connections(f"https://127.0.0.1:{second.port}/production", ["y="], b"{}", SIGNER, OPTIONS)

    assert "connection error" in untrusted.failed["x="]
    assert trusted.delivered == ["y="]


def test_connections_idle_for_too_long_are_closed_instead_of_reused(raw_server, monkeypatch):
    from django_aws_api_gateway_websockets.sending import transport

    server = raw_server(lambda n, head: (OK, False))
    endpoint = f"http://127.0.0.1:{server.port}/production"
    sequential = SendOptions(concurrency=1, timeout_seconds=2, throttle_retries=0, throttle_base_delay=0)

    post_to_connections(endpoint, ["a="], b"{}", SIGNER, sequential)
    post_to_connections(endpoint, ["b="], b"{}", SIGNER, sequential)
    assert server.connections == 1
    monkeypatch.setattr(transport, "IDLE_SECONDS", -1)
    post_to_connections(endpoint, ["c="], b"{}", SIGNER, sequential)
    assert server.connections == 2

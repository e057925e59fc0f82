"""Fixtures for the sending transport's tests: the transport, a scripted raw HTTP
server on 127.0.0.1 (it writes exactly the bytes each case needs), a CONNECT proxy and a
TLS authority (``trustme``)."""

import asyncio
import dataclasses
import socket
import ssl
import struct
import threading

import pytest
import trustme
from botocore.credentials import Credentials

from django_aws_api_gateway_websockets.sending import transport
from django_aws_api_gateway_websockets.sending.signing import RequestSigner

PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
                   "ALL_PROXY", "REQUEST_METHOD", "AWS_CA_BUNDLE")  # fmt: skip


class Sender:
    """One sender module, with options filtered to the fields its SendOptions has."""

    def __init__(self, name, module):
        self.name = name
        self.module = module

    def options(self, **overrides):
        values = {
            "concurrency": 1,
            "timeout_seconds": 2.0,
            "throttle_retries": 2,
            "throttle_base_delay": 0.001,
            "retries": 2,
            "max_wait_seconds": 10.0,
        }
        values.update(overrides)
        names = {f.name for f in dataclasses.fields(self.module.SendOptions)}
        return self.module.SendOptions(**{k: v for k, v in values.items() if k in names})

    def send(self, endpoint, connection_ids, signer, data=b'{"m":1}', method="POST", **options):
        return self.module.post_to_connections(
            endpoint, connection_ids, data, signer, self.options(**options), method=method
        )


@pytest.fixture
def sender():
    return Sender("transport", transport)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No proxy or CA bundle from the machine's environment leaks into a test."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def signer():
    return RequestSigner(Credentials("AKIDEXAMPLE", "secret").get_frozen_credentials(), "eu-west-1")


# ------------------------------------------------------------------- servers


class LoopThread:
    """An event loop in a thread, for the servers (the senders have loops of their own)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout=10):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self):
        async def cancel_all():
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@dataclasses.dataclass
class Request:
    connection: int  # 1 for the server's first connection, ...
    on_connection: int  # 1 for a connection's first request, ...
    number: int  # 1 for the server's first request, ...
    head: bytes
    body: bytes

    @property
    def path(self):
        return self.head.split(b" ")[1].decode()

    @property
    def connection_id(self):
        return self.path.rsplit("/", 1)[1]

    def header(self, name):
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode()
        return None


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def reset(writer):
    """Close the connection with a TCP RST, not a FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class RawServer:
    """A server on 127.0.0.1 that writes exactly what its script says.

    ``script(request, writer)`` is a coroutine function called for each request read;
    it writes the answer bytes itself (``writer.write``, ``await asyncio.sleep``, ...)
    and returns ``"keep"`` to read the next request on the connection, ``"close"`` to
    close it, or ``"leave"`` when it has already closed or reset it."""

    def __init__(self, threads, script, ssl_context=None):
        self.threads = threads
        self.script = script
        self.ssl_context = ssl_context
        self.requests = []
        self.connections = 0

    async def _handle(self, reader, writer):
        self.connections += 1
        connection, on_connection = self.connections, 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                on_connection += 1
                request = Request(connection, on_connection, len(self.requests) + 1, head, body)
                self.requests.append(request)
                action = await self.script(request, writer)
                await writer.drain()
                if action != "keep":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, asyncio.CancelledError):
            # The client went away, or the test is over and the server's tasks are cancelled.
            return
        if action == "close":
            writer.close()

    def start(self):
        async def serve():
            self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.ssl_context)
            return self.server.sockets[0].getsockname()[1]

        self.port = self.threads.run(serve())
        return self

    def endpoint(self, stage="production"):
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}/{stage}"

    def stop(self):
        async def shutdown():
            self.server.close()

        self.threads.run(shutdown())


class ConnectProxy:
    """A tiny HTTP proxy on 127.0.0.1 that only tunnels (CONNECT) and records where to."""

    def __init__(self, threads):
        self.threads = threads
        self.tunnels = []
        self.heads = []

    async def _handle(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        self.heads.append(head)
        method, target = head.split(b" ")[:2]
        if method != b"CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            writer.close()
            return
        host, port = target.decode().rsplit(":", 1)
        self.tunnels.append(target.decode())
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")

        async def pipe(source, sink):
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def start(self):
        async def serve():
            self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            return self.server.sockets[0].getsockname()[1]

        self.port = self.threads.run(serve())
        return self


@pytest.fixture
def server_threads():
    threads = LoopThread()
    yield threads
    threads.stop()


@pytest.fixture
def raw_server(server_threads):
    started = []

    def start(script, ssl_context=None):
        server = RawServer(server_threads, script, ssl_context).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def connect_proxy(server_threads):
    return ConnectProxy(server_threads).start()


@pytest.fixture(scope="session")
def authority():
    return trustme.CA()


@pytest.fixture
def tls(authority, tmp_path, monkeypatch):
    """A server-side TLS context for 127.0.0.1, trusted by the senders through AWS_CA_BUNDLE."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    return context

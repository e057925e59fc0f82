"""Posting one payload to many connections through API Gateway's management API.

A multicast is thousands of tiny, identical POSTs to one host. A general HTTP client
spends most of its time on objects and options a management API call never needs,
so this module speaks just enough HTTP/1.1 itself: each of ``concurrency`` workers
owns one keep-alive connection (TLS for https), writes a pre-formatted request and
reads back only the status, the body length and ``x-amzn-ErrorType``. The work runs
on one asyncio loop in a background thread, whose connections stay open between
sends; Django code calls :func:`post_to_connections` synchronously.

The sender connects directly to the endpoint (no HTTP proxy), as API Gateway's
management API is reached from a VPC through NAT or an ``execute-api`` VPC endpoint.
"""

import asyncio
import atexit
import logging
import os
import random
import ssl
import threading
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from botocore.httpsession import get_cert_path

from .signing import payload_sha256

logger = logging.getLogger(__name__)


@dataclass
class SendReport:
    """What happened to one send: who got it, who is gone, and who failed and why."""

    delivered: list = field(default_factory=list)
    gone: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)

    @property
    def ok(self):
        return not self.gone and not self.failed

    @property
    def attempted(self):
        return len(self.delivered) + len(self.gone) + len(self.failed)

    def __bool__(self):
        return self.ok


@dataclass(frozen=True)
class SendOptions:
    concurrency: int
    timeout_seconds: float
    throttle_retries: int
    throttle_base_delay: float


class _LoopThread:
    """An event loop in a daemon thread, owned by one process (forks start afresh)."""

    def __init__(self):
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.pools = {}
        self.thread = threading.Thread(target=self.loop.run_forever, name="websocket-sender", daemon=True)
        self.thread.start()

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def pool(self, origin):
        pool = self.pools.get(origin)
        if pool is None:
            pool = self.pools[origin] = _Pool(origin)
        return pool

    async def _close_pools(self):
        for pool in self.pools.values():
            pool.close()

    def close(self):
        if self.loop.is_running():
            try:
                self.run(self._close_pools())
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)


_loop_lock = threading.Lock()
_loop_thread = None


def _get_loop_thread():
    global _loop_thread
    with _loop_lock:
        if _loop_thread is None or _loop_thread.pid != os.getpid():
            _loop_thread = _LoopThread()
        return _loop_thread


@atexit.register
def _shutdown():
    if _loop_thread is not None and _loop_thread.pid == os.getpid():
        _loop_thread.close()


def post_to_connections(endpoint, connection_ids, data, signer, options, report=None, method="POST"):
    """POST ``data`` to each connection id at ``endpoint`` (or, with ``method="DELETE"``
    and no data, close each connection); returns ``report`` (a new :class:`SendReport`
    by default) with the outcome of each added."""
    report = SendReport() if report is None else report
    worker = _get_loop_thread()
    return worker.run(_post_all(worker, endpoint, connection_ids, data, signer, options, report, method))


# ----------------------------------------------------------------- HTTP/1.1 client


class ConnectionFailed(Exception):
    """The connection broke or the answer was not HTTP."""

    def __init__(self, message, answered=False):
        super().__init__(message)
        # False when nothing came back: a reused keep-alive connection that the server
        # had already closed, which is safe to try again on a fresh connection.
        self.answered = answered


@dataclass(frozen=True)
class Answer:
    status: int
    error_type: str
    body: bytes


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection with at most one request in flight."""

    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.waiter = None
        self.closed = False
        self.reused = False
        self.idle_since = 0.0

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionFailed(f"connection lost ({exc or 'closed'})", bool(self.buffer)))

    def data_received(self, data):
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        try:
            answer = self._parse()
        except (ValueError, IndexError) as exc:
            self.waiter.set_exception(ConnectionFailed(f"malformed answer: {exc}", answered=True))
            return
        if answer is not None:
            self.waiter.set_result(answer)

    def _parse(self):
        """An Answer once the whole response is buffered, else None."""
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        lines = bytes(self.buffer[:head_end]).decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        if not version.startswith("HTTP/1."):
            raise ValueError(f"status line {lines[0][:80]!r}")
        length, chunked, close, error_type = 0, False, version == "HTTP/1.0", ""
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif name == "connection":
                close = value.strip().lower() == "close"
            elif name == "x-amzn-errortype":
                error_type = value.strip().split(":")[0]
        body_start = head_end + 4
        if chunked:
            body, end = _dechunk(self.buffer, body_start)
            if body is None:
                return None
        else:
            end = body_start + length
            if len(self.buffer) < end:
                return None
            body = bytes(self.buffer[body_start:end])
        del self.buffer[:end]
        if close:
            self.closed = True
            self.transport.close()
        return Answer(int(status), error_type, body)

    async def request(self, raw):
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        try:
            return await self.waiter
        finally:
            self.waiter = None


def _dechunk(buffer, position):
    """(body, end) of a complete chunked body starting at ``position``, else (None, 0)."""
    body = bytearray()
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None, 0
        size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", line_end)
            return (bytes(body), trailer_end + 4) if trailer_end >= 0 else (None, 0)
        chunk_start = line_end + 2
        if len(buffer) < chunk_start + size + 2:
            return None, 0
        body += buffer[chunk_start : chunk_start + size]
        position = chunk_start + size + 2


# An idle keep-alive connection older than this is closed rather than reused: servers
# drop idle connections after a while, and a process should not hold hundreds of
# sockets between rare sends.
IDLE_SECONDS = 30


class _Pool:
    """Idle keep-alive connections to one origin (scheme, host and port)."""

    def __init__(self, origin):
        parts = urlsplit(origin)
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = None
        if parts.scheme == "https":
            # The CA bundle botocore would use (AWS_CA_BUNDLE wins, as in boto3).
            self.ssl = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or get_cert_path(True))
        self.idle = []

    async def acquire(self):
        loop = asyncio.get_running_loop()
        while self.idle:
            connection = self.idle.pop()
            if connection.closed:
                continue
            if loop.time() - connection.idle_since > IDLE_SECONDS:
                self.discard(connection)
                continue
            connection.reused = True
            return connection
        _, connection = await loop.create_connection(
            _Connection, self.host, self.port, ssl=self.ssl, server_hostname=self.host if self.ssl else None
        )
        return connection

    def release(self, connection):
        if connection.closed or connection.buffer:
            connection.transport.close()
        else:
            connection.idle_since = asyncio.get_running_loop().time()
            self.idle.append(connection)

    def discard(self, connection):
        connection.closed = True
        connection.transport.close()

    def close(self):
        for connection in self.idle:
            connection.transport.close()
        self.idle.clear()


async def _exchange(pool, raw):
    """Send one request and read its answer, retrying once on a fresh connection
    when a reused one turns out to have been closed by the server."""
    for _ in range(2):
        connection = await pool.acquire()
        try:
            answer = await connection.request(raw)
        except ConnectionFailed as failure:
            pool.discard(connection)
            if connection.reused and not failure.answered:
                continue
            raise
        except BaseException:
            pool.discard(connection)
            raise
        pool.release(connection)
        return answer
    raise ConnectionFailed("the server closed the connection again")


# ------------------------------------------------------------------ the batch


class _Endpoint:
    """The parts of one management endpoint's URLs that every post shares."""

    def __init__(self, endpoint):
        parts = urlsplit(endpoint.rstrip("/"))
        self.host = parts.netloc
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.path = f"{parts.path}/@connections/"
        self.canonical_path = quote(self.path, safe="/~")

    def path_and_canonical_uri(self, connection_id):
        # The id is sent percent-encoded; SigV4 encodes the sent path once more.
        encoded_id = quote(connection_id, safe="")
        return self.path + encoded_id, self.canonical_path + quote(encoded_id, safe="~")


async def _post_all(worker, endpoint, connection_ids, data, signer, options, report, method):
    target = _Endpoint(endpoint)
    pool = worker.pool(target.origin)
    payload_hash = payload_sha256(data)
    body_part = f"Content-Length: {len(data)}\r\n\r\n".encode() + data
    pending = iter(connection_ids)

    # A fixed set of workers pulls from one iterator: concurrency stays bounded
    # without a task per connection.
    async def work():
        for connection_id in pending:
            path, canonical_uri = target.path_and_canonical_uri(connection_id)
            outcome = await _post_with_retries(
                pool, method, target.host, path, canonical_uri, body_part, signer, payload_hash, options
            )
            if outcome is None:
                report.delivered.append(connection_id)
            elif outcome == "gone":
                report.gone.append(connection_id)
            else:
                report.failed[connection_id] = outcome

    workers = min(options.concurrency, len(connection_ids))
    await asyncio.gather(*(work() for _ in range(workers)))
    return report


async def _post_with_retries(pool, method, host, path, canonical_uri, body_part, signer, payload_hash, options):
    """None when delivered, "gone" for GoneException, else a short failure reason."""
    attempt = 0
    while True:
        headers = signer.headers_for(method, host, canonical_uri, "", payload_hash)
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        raw = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{head}".encode() + body_part
        try:
            # One deadline for the whole attempt: opening a connection (TCP, then TLS)
            # can hang as long as waiting for the answer.
            async with asyncio.timeout(options.timeout_seconds):
                answer = await _exchange(pool, raw)
        except TimeoutError:
            return "timeout"
        except (ConnectionFailed, OSError) as exc:
            return f"connection error: {exc}"
        if answer.status < 300:
            return None
        if answer.status == 410:
            return "gone"
        if answer.status == 429 and attempt < options.throttle_retries:
            # Full jitter keeps many throttled sends from retrying in lockstep.
            delay = random.uniform(0, options.throttle_base_delay * (2**attempt))  # noqa: S311
            attempt += 1
            await asyncio.sleep(delay)
            continue
        logger.debug("post to %s failed: %s %s", path, answer.status, answer.body[:200])
        if answer.error_type:
            return f"{answer.error_type} (HTTP {answer.status})"
        return f"HTTP {answer.status}"

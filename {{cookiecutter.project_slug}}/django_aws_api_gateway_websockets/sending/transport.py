"""Posting one payload to many connections through API Gateway's management API (and
closing connections: ``DELETE``), with a small HTTP/1.1 client of its own.

A multicast is thousands of tiny, identical POSTs to one host. A general HTTP client
spent most of a send's CPU on machinery these calls never need: measured against an
``aiohttp`` session over TLS with API Gateway's latency, this client sends about three
times the messages a second on a seventh of the CPU (``bench/README.md``, "Choosing the
sender"). It speaks just enough HTTP/1.1, and speaks it strictly:

* interim ``1xx`` answers are skipped: the post's answer is the final one;
* bodies framed by ``Content-Length``, by ``Transfer-Encoding: chunked`` or by the
  server closing the connection are all read to their end;
* a connection is reused only when its last answer ended exactly where the bytes it
  received ended and nothing arrived while it sat idle; anything else (bytes beyond
  the answer, a late second answer, ``Connection: close``, an answer framed by the
  close) discards it, so a stray answer can never be read as another post's;
* ``HTTPS_PROXY`` / ``HTTP_PROXY`` and ``NO_PROXY`` are read from the environment as
  urllib reads them (``getproxies`` and ``proxy_bypass``): an ``https`` endpoint is
  reached through a ``CONNECT`` tunnel, an ``http`` one with absolute-form requests;
* 429, 5xx and connection failures before any byte of an answer are retried with
  full-jitter exponential backoff; a timed-out attempt is not (the endpoint may have
  taken the post), and neither is anything else;
* each attempt is bounded by ``timeout_seconds`` (opening the connection, TLS and
  the proxy tunnel included) and the whole send by ``max_wait_seconds``: posts still
  unanswered then are reported failed, never waited for.

The work runs on one asyncio loop in a background thread whose connections stay open
between sends; Django code calls :func:`post_to_connections` synchronously. Only the
standard library is used, plus botocore's CA bundle (``AWS_CA_BUNDLE`` wins, as in boto3).
"""

import asyncio
import atexit
import base64
import logging
import os
import random
import ssl
import threading
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

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
    # One attempt: opening the connection (TCP, proxy tunnel, TLS), the request, the answer.
    timeout_seconds: float
    # Retries of a post answered 429 (throttled).
    throttle_retries: int
    # Backoff base: retry n waits a random time in [0, min(cap, base * 2**n)] (full jitter).
    throttle_base_delay: float
    # Retries of a post answered 5xx, or whose connection failed before any answer.
    retries: int = 2
    # The whole call: posts not finished by then are reported failed.
    max_wait_seconds: float = 60.0
    max_backoff_seconds: float = 5.0


def post_to_connections(endpoint, connection_ids, data, signer, options, report=None, method="POST"):
    """POST ``data`` to each connection id at ``endpoint`` (or, with ``method="DELETE"``
    and no data, close each connection); returns ``report`` (a new :class:`SendReport`
    by default) with the outcome of each added."""
    report = SendReport() if report is None else report
    worker = _get_loop_thread()
    return worker.run(_post_all(worker, endpoint, list(connection_ids), data, signer, options, report, method))


# ------------------------------------------------------------- the loop thread


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

    def pool(self, route):
        pool = self.pools.get(route)
        if pool is None:
            pool = self.pools[route] = _Pool(route)
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


# ----------------------------------------------------------------- HTTP/1.1


class ConnectionFailed(Exception):
    """The connection broke or the answer was not HTTP."""

    def __init__(self, message, answered=False, retryable=True):
        super().__init__(message)
        # False when not one byte of an answer came back: the post may be tried again.
        self.answered = answered
        # False for failures another attempt would only repeat (a proxy refusing the tunnel).
        self.retryable = retryable and not answered


class MalformedAnswer(ValueError):
    """The bytes received are not an HTTP/1.1 answer this client accepts."""


@dataclass(frozen=True)
class Answer:
    status: int
    error_type: str
    body: bytes


# Limits on what a server may send back to one post; management API answers are tiny.
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
_NO_BODY_STATUSES = frozenset((204, 304))


@dataclass
class _Head:
    status: int
    error_type: str
    framing: str  # "length", "chunked" or "close"
    length: int
    keep_alive: bool


def _parse_head(raw, tunnel=False):
    """The status and framing of an answer from its head (status line and fields)."""
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if version not in ("HTTP/1.1", "HTTP/1.0") or len(code) != 3 or not code.isdigit() or rest[3:4] not in ("", " "):
        raise MalformedAnswer(f"status line {lines[0][:80]!r}")
    status = int(code)
    lengths, codings, connection, error_type = set(), [], [], ""
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or name[0] in " \t":
            raise MalformedAnswer(f"header line {line[:80]!r}")
        name = name.lower()
        value = value.strip(" \t")
        if name == "content-length":
            lengths.update(part.strip() for part in value.split(","))
        elif name == "transfer-encoding":
            codings += [part.strip().lower() for part in value.split(",") if part.strip()]
        elif name == "connection":
            connection += [part.strip().lower() for part in value.split(",")]
        elif name == "x-amzn-errortype":
            error_type = value.split(":")[0]
    keep_alive = "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
    if (100 <= status < 200) or status in _NO_BODY_STATUSES or (tunnel and 200 <= status < 300):
        return _Head(status, error_type, "length", 0, keep_alive)
    if codings:
        # Transfer-Encoding wins over Content-Length; a final coding other than chunked
        # is delimited by the close (RFC 9112, 6.3). Either way a server that sent both
        # is not to be trusted with another request.
        keep_alive = keep_alive and not lengths
        if codings[-1] == "chunked":
            return _Head(status, error_type, "chunked", 0, keep_alive)
        return _Head(status, error_type, "close", 0, False)
    if lengths:
        if len(lengths) != 1 or not next(iter(lengths)).isdigit():
            raise MalformedAnswer(f"Content-Length {sorted(lengths)!r}")
        length = int(next(iter(lengths)))
        if length > MAX_BODY_BYTES:
            raise MalformedAnswer(f"a {length}-byte body")
        return _Head(status, error_type, "length", length, keep_alive)
    return _Head(status, error_type, "close", 0, False)


def _dechunk(buffer):
    """(body, end) of a complete chunked body at the start of ``buffer``, else (None, 0)."""
    body = bytearray()
    position = 0
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            if len(buffer) - position > 1024:
                raise MalformedAnswer("chunk size line too long")
            return None, 0
        size_text = bytes(buffer[position:line_end]).split(b";")[0].strip(b" \t")
        if not size_text or size_text.strip(b"0123456789abcdefABCDEF"):
            raise MalformedAnswer(f"chunk size {size_text[:20]!r}")
        size = int(size_text, 16)
        if len(body) + size > MAX_BODY_BYTES:
            raise MalformedAnswer(f"a chunked body over {MAX_BODY_BYTES} bytes")
        if size == 0:
            # Trailer fields, if any, then the empty line.
            if buffer[line_end : line_end + 4] == b"\r\n\r\n":
                return bytes(body), line_end + 4
            trailer_end = buffer.find(b"\r\n\r\n", line_end)
            if trailer_end < 0:
                if len(buffer) - line_end > MAX_HEAD_BYTES:
                    raise MalformedAnswer("trailer too long")
                return None, 0
            return bytes(body), trailer_end + 4
        chunk_start = line_end + 2
        chunk_end = chunk_start + size
        if len(buffer) < chunk_end + 2:
            return None, 0
        if buffer[chunk_end : chunk_end + 2] != b"\r\n":
            raise MalformedAnswer("chunk not followed by CRLF")
        body += buffer[chunk_start:chunk_end]
        position = chunk_end + 2


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection with at most one request in flight."""

    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.waiter = None
        self.head = None  # the final answer's head, while its body is being read
        self.received = False  # any byte of an answer to the request in flight
        self.tunnel = False  # the request in flight is a CONNECT
        self.closed = False
        self.reusable = True
        self.reused = False
        self.idle_since = 0.0

    # asyncio.Protocol

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if self.waiter is None or self.waiter.done():
            # Bytes nobody asked for (a late or extra answer, noise): whatever they
            # are, the next request's answer could not be told from them.
            logger.debug("discarding a connection that received %d unrequested bytes", len(data))
            self.discard()
            return
        self.received = True
        self.buffer += data
        try:
            answer = self._parse()
        except MalformedAnswer as exc:
            self.discard()
            self.waiter.set_exception(ConnectionFailed(f"malformed answer: {exc}", answered=True))
            return
        if answer is not None:
            if self.buffer:
                # More bytes than the answer: a second answer, or garbage.
                self.reusable = False
            self.waiter.set_result(answer)

    def eof_received(self):
        return False  # close our side too; connection_lost follows

    def connection_lost(self, exc):
        self.closed = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self.head is not None and self.head.framing == "close":
            # A body delimited by the close has ended: the answer is complete.
            head, self.head = self.head, None
            waiter.set_result(Answer(head.status, head.error_type, bytes(self.buffer[:MAX_BODY_BYTES])))
            self.buffer.clear()
            return
        waiter.set_exception(ConnectionFailed(f"connection lost ({exc or 'closed'})", answered=self.received))

    # the answer

    def _parse(self):
        """The final Answer once it is complete in the buffer, else None."""
        while self.head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD_BYTES:
                    raise MalformedAnswer("head too long")
                return None
            head = _parse_head(bytes(self.buffer[:end]), tunnel=self.tunnel)
            del self.buffer[: end + 4]
            if head.status == 101:
                raise MalformedAnswer("101 Switching Protocols")
            if head.status >= 200:
                self.head = head
            # else an interim 1xx answer: the final one follows.
        head = self.head
        if head.framing == "length":
            if len(self.buffer) < head.length:
                return None
            body = bytes(self.buffer[: head.length])
            del self.buffer[: head.length]
        elif head.framing == "chunked":
            body, end = _dechunk(self.buffer)
            if body is None:
                return None
            del self.buffer[:end]
        else:
            if len(self.buffer) > MAX_BODY_BYTES:
                raise MalformedAnswer("body too long")
            return None  # until the server closes
        self.head = None
        if not head.keep_alive:
            self.reusable = False
        return Answer(head.status, head.error_type, body)

    async def exchange(self, raw, tunnel=False):
        self.waiter = asyncio.get_running_loop().create_future()
        self.received = False
        self.tunnel = tunnel
        self.transport.write(raw)
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def discard(self):
        self.closed = True
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


# An idle keep-alive connection older than this is closed rather than reused: servers
# drop idle connections after a while, and a process should not hold hundreds of
# sockets between rare sends.
IDLE_SECONDS = 30


@dataclass(frozen=True)
class _Route:
    """How to reach one origin: directly, or through one proxy."""

    scheme: str
    host: str
    port: int
    proxy: str = ""  # http://[user:password@]host:port, or "" for none

    @property
    def authority(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def _route_for(scheme, host, port):
    """The route urllib would take to ``scheme://host:port`` (proxy variables of the
    environment: ``https_proxy``, ``http_proxy``, ``no_proxy``, either case)."""
    proxy = urllib.request.getproxies().get(scheme, "")
    if proxy and urllib.request.proxy_bypass(host):
        proxy = ""
    if proxy and "://" not in proxy:
        proxy = f"http://{proxy}"
    return _Route(scheme, host, port, proxy)


class _Pool:
    """Idle keep-alive connections along one route."""

    def __init__(self, route):
        self.route = route
        self.ssl = None
        if route.scheme == "https":
            # The CA bundle botocore would use (AWS_CA_BUNDLE wins, as in boto3).
            self.ssl = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or get_cert_path(True))
        self.proxy = urlsplit(route.proxy) if route.proxy else None
        self.proxy_authorization = ""
        if self.proxy is not None and self.proxy.username is not None:
            credentials = f"{unquote(self.proxy.username)}:{unquote(self.proxy.password or '')}".encode()
            self.proxy_authorization = f"Proxy-Authorization: Basic {base64.b64encode(credentials).decode()}\r\n"
        # Through a plain proxy an http request names its origin (absolute form).
        self.target_prefix = f"http://{route.authority}" if self.proxy is not None and self.ssl is None else ""
        self.idle = []

    async def acquire(self):
        loop = asyncio.get_running_loop()
        while self.idle:
            connection = self.idle.pop()
            if connection.closed or connection.buffer:
                connection.discard()
                continue
            if loop.time() - connection.idle_since > IDLE_SECONDS:
                connection.discard()
                continue
            connection.reused = True
            return connection
        return await self._open()

    async def _open(self):
        loop = asyncio.get_running_loop()
        route = self.route
        if self.proxy is None:
            _, connection = await loop.create_connection(
                _Connection, route.host, route.port, ssl=self.ssl, server_hostname=route.host if self.ssl else None
            )
            return connection
        if self.proxy.scheme != "http" or not self.proxy.hostname:
            raise ConnectionFailed(f"unsupported proxy {self.proxy.scheme}://{self.proxy.hostname}", retryable=False)
        transport, connection = await loop.create_connection(_Connection, self.proxy.hostname, self.proxy.port or 80)
        if self.ssl is None:
            return connection
        try:
            await self._tunnel(connection)
            connection.transport = await loop.start_tls(transport, connection, self.ssl, server_hostname=route.host)
        except BaseException:
            connection.discard()
            raise
        return connection

    async def _tunnel(self, connection):
        authority = self.route.authority
        request = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{self.proxy_authorization}\r\n"
        try:
            answer = await connection.exchange(request.encode(), tunnel=True)
        except ConnectionFailed as failure:
            raise ConnectionFailed(f"proxy: {failure}") from None
        if not 200 <= answer.status < 300:
            raise ConnectionFailed(f"proxy refused the tunnel: HTTP {answer.status}", retryable=False)
        if connection.buffer:
            raise ConnectionFailed("proxy: unexpected bytes after the tunnel was opened", retryable=False)
        # The proxy's own framing says nothing about the connection inside the tunnel.
        connection.reusable = True

    def release(self, connection):
        if connection.closed or not connection.reusable or connection.buffer:
            connection.discard()
        else:
            connection.idle_since = asyncio.get_running_loop().time()
            self.idle.append(connection)

    def close(self):
        for connection in self.idle:
            connection.discard()
        self.idle.clear()


async def _exchange(pool, raw):
    """Send one request and read its answer, once more on a fresh connection when a
    reused one turns out to have been closed by the server before answering."""
    while True:
        connection = await pool.acquire()
        try:
            answer = await connection.exchange(raw)
        except ConnectionFailed as failure:
            connection.discard()
            if connection.reused and not failure.answered:
                continue
            raise
        except BaseException:
            connection.discard()
            raise
        pool.release(connection)
        return answer


# ------------------------------------------------------------------ the batch


class _Endpoint:
    """The parts of one management endpoint's URLs that every post shares."""

    def __init__(self, endpoint):
        parts = urlsplit(endpoint.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint: {endpoint!r}")
        self.scheme = parts.scheme
        self.hostname = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        default_port = self.port == (443 if parts.scheme == "https" else 80)
        bracketed = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        # The Host field, as sent and as signed: the port only when it is not the default.
        self.host = bracketed if default_port else f"{bracketed}:{self.port}"
        self.path = f"{parts.path}/@connections/"
        self.canonical_path = quote(self.path, safe="/~")

    def path_and_canonical_uri(self, connection_id):
        # The id is sent percent-encoded; SigV4 encodes the sent path once more.
        encoded_id = quote(connection_id, safe="")
        return self.path + encoded_id, self.canonical_path + quote(encoded_id, safe="~")


async def _post_all(worker, endpoint, connection_ids, data, signer, options, report, method):
    target = _Endpoint(endpoint)
    pool = worker.pool(_route_for(target.scheme, target.hostname, target.port))
    payload_hash = payload_sha256(data)
    body_part = f"Content-Length: {len(data)}\r\n\r\n".encode() + data
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.max_wait_seconds
    pending = iter(connection_ids)

    # A fixed set of workers pulls from one iterator: concurrency stays bounded
    # without a task per connection.
    async def work():
        for connection_id in pending:
            if loop.time() >= deadline:
                report.failed[connection_id] = f"not sent: the send's {options.max_wait_seconds} s bound had passed"
                continue
            path, canonical_uri = target.path_and_canonical_uri(connection_id)
            outcome = await _post_with_retries(
                pool, method, target.host, path, canonical_uri, body_part, signer, payload_hash, options, deadline
            )
            if outcome is None:
                report.delivered.append(connection_id)
            elif outcome == "gone":
                report.gone.append(connection_id)
            else:
                report.failed[connection_id] = outcome

    workers = min(max(1, options.concurrency), len(connection_ids))
    await asyncio.gather(*(work() for _ in range(workers)))
    return report


async def _post_with_retries(
    pool, method, host, path, canonical_uri, body_part, signer, payload_hash, options, deadline
):
    """None when delivered, "gone" for GoneException, else a short failure reason."""
    loop = asyncio.get_running_loop()
    throttled = errors = 0
    request_line = f"{method} {pool.target_prefix}{path} HTTP/1.1\r\nHost: {host}\r\n"
    while True:
        headers = signer.headers_for(method, host, canonical_uri, "", payload_hash)
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        raw = (request_line + head).encode() + body_part
        attempt_deadline = min(loop.time() + options.timeout_seconds, deadline)
        try:
            # One deadline for the whole attempt: opening a connection (TCP, the proxy's
            # tunnel, then TLS) can hang as long as waiting for the answer.
            async with asyncio.timeout_at(attempt_deadline):
                answer = await _exchange(pool, raw)
        except TimeoutError:
            return "timeout"
        except ssl.SSLCertVerificationError as exc:
            return f"TLS error: {exc.verify_message or exc}"
        except (ConnectionFailed, OSError) as exc:
            reason = f"connection error: {exc}"
            retry = (not isinstance(exc, ConnectionFailed) or exc.retryable) and errors < options.retries
            if not retry:
                return reason
            errors += 1
        else:
            if answer.status < 300:
                return None
            if answer.status == 410:
                return "gone"
            reason = f"{answer.error_type} (HTTP {answer.status})" if answer.error_type else f"HTTP {answer.status}"
            if answer.status == 429 and throttled < options.throttle_retries:
                throttled += 1
            elif answer.status >= 500 and errors < options.retries:
                errors += 1
            else:
                logger.debug("post to %s failed: %s %s", path, answer.status, answer.body[:200])
                return reason
        # Full jitter keeps many failed posts from retrying in lockstep.
        ceiling = min(options.max_backoff_seconds, options.throttle_base_delay * 2 ** (throttled + errors - 1))
        delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret
        if loop.time() + delay >= deadline:
            return f"{reason}; no time left to retry within the send's {options.max_wait_seconds} s bound"
        await asyncio.sleep(delay)

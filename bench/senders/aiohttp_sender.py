"""Posting one payload to many connections through API Gateway's management API,
with aiohttp's client (candidate (a) of issue 15).

One ``aiohttp.ClientSession`` per process (on one asyncio loop in a background thread,
re-created after a fork) carries every send; Django code calls
:func:`post_to_connections` synchronously. The session has

* a bounded ``TCPConnector`` (``limit`` = the send's concurrency), whose keep-alive
  connections stay open between sends; a pooled connection that received bytes while
  idle (a late or extra answer) is closed instead of being handed to the next post;
* ``trust_env=True``: ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` are honoured
  (``CONNECT`` tunnels for https), as urllib reads them. aiohttp (3.14) then looks up
  the proxy and reads ``~/.netrc`` (or ``$NETRC``) for every request, each in a worker
  thread; a netrc entry for the management host would clash with the SigV4
  ``Authorization`` header and fail the post. ``TRUST_ENV = False`` instead reads the
  same variables once per send with urllib and hands the proxy to each request
  (measured as a variant in ``bench/sender_tls.py``);
* a ``DummyCookieJar`` (no cookies kept) and no automatic decompression;
* the CA bundle botocore would use (``AWS_CA_BUNDLE`` wins, as in boto3).

Retries: 429, 5xx and connection failures before an answer arrived are retried with
full-jitter exponential backoff; a timed-out attempt is not (the endpoint may have
taken the post). Each attempt is bounded by ``timeout_seconds`` and the whole send by
``max_wait_seconds``: posts still unanswered then are reported failed.

Requests are signed by the caller's ``RequestSigner`` (the app's ``sending.signing``) for the
exact path and ``Host`` that aiohttp sends.
"""

import asyncio
import atexit
import base64
import hashlib
import logging
import os
import random
import ssl
import threading
import urllib.request
from urllib.parse import quote, urlsplit

import aiohttp
from botocore.httpsession import get_cert_path
from yarl import URL

from . import vendored_transport

logger = logging.getLogger(__name__)


# The same report and options as the app's transport, so that the bench hands both the same.
_transport, _signing = vendored_transport()
SendReport = _transport.SendReport
SendOptions = _transport.SendOptions


def post_to_connections(endpoint, connection_ids, data, signer, options, report=None):
    """POST ``data`` to each connection id at ``endpoint``; returns ``report`` (a new
    :class:`SendReport` by default) with the outcome of each added."""
    report = SendReport() if report is None else report
    worker = _get_loop_thread()
    return worker.run(_post_all(worker, endpoint, list(connection_ids), data, signer, options, report))


# An idle keep-alive connection older than this is closed rather than reused.
IDLE_SECONDS = 30

# True: aiohttp's trust_env finds the proxy for each request. False: the proxy
# variables are read once per send (urllib's getproxies and proxy_bypass, as aiohttp
# itself reads them) and passed to each request; ~/.netrc is not read.
TRUST_ENV = True


class _ByteCount:
    """Bytes a pooled connection's protocol received in all, and when last released."""

    __slots__ = ("received", "at_release")

    def __init__(self):
        self.received = 0
        self.at_release = 0


class _CheckedConnector(aiohttp.TCPConnector):
    """A connector that never hands out a pooled connection that received bytes
    while it sat idle.

    aiohttp reuses an idle connection whenever its socket is open. A late second
    answer that arrived meanwhile would be waiting in it, parsed, for the next post to
    take as its own; the first bytes of one would be glued to the next real answer.
    So each connection counts the bytes it receives (a wrapper on its protocol's
    ``data_received``), the count is noted when aiohttp puts it back in the pool
    (``_release``, the one private method overridden here, unchanged through aiohttp
    3.9 to 3.14), and a connection whose count moved since is closed, not reused."""

    async def connect(self, *args, **kwargs):
        while True:
            connection = await super().connect(*args, **kwargs)
            protocol = connection.protocol
            if protocol is None:
                return connection
            count = getattr(protocol, "_sender_bytes", None)
            if count is None:
                _count_bytes(protocol)
                return connection
            if count.received == count.at_release and not protocol.should_close:
                return connection
            logger.debug("discarding a pooled connection that received bytes while idle")
            connection.close()

    def _release(self, key, protocol, *args, **kwargs):
        count = getattr(protocol, "_sender_bytes", None)
        if count is not None:
            count.at_release = count.received
        super()._release(key, protocol, *args, **kwargs)


def _count_bytes(protocol):
    count = protocol._sender_bytes = _ByteCount()
    receive = protocol.data_received

    def data_received(data):
        count.received += len(data)
        receive(data)

    # Transports look the method up on each call, so the instance attribute wins.
    protocol.data_received = data_received


class _LoopThread:
    """An event loop in a daemon thread with its sessions, owned by one process."""

    def __init__(self):
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.sessions = {}
        self.thread = threading.Thread(target=self.loop.run_forever, name="websocket-sender", daemon=True)
        self.thread.start()

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def session(self, concurrency):
        """The session for sends with this bound, made on first use; a change of
        ``AWS_CA_BUNDLE`` gets a session of its own."""
        cafile = os.environ.get("AWS_CA_BUNDLE") or get_cert_path(True)
        key = (concurrency, cafile, TRUST_ENV)
        session = self.sessions.get(key)
        if session is None or session.closed:
            connector = _CheckedConnector(
                limit=concurrency,
                limit_per_host=0,
                ssl=ssl.create_default_context(cafile=cafile),
                keepalive_timeout=IDLE_SECONDS,
            )
            session = self.sessions[key] = aiohttp.ClientSession(
                connector=connector,
                trust_env=TRUST_ENV,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                # PostToConnection carries raw bytes, as botocore sends them: no Content-Type.
                skip_auto_headers=("Content-Type",),
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return session

    async def _close_sessions(self):
        for session in self.sessions.values():
            await session.close()

    def close(self):
        if self.loop.is_running():
            try:
                self.run(self._close_sessions())
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


# ------------------------------------------------------------------ the batch


def _proxy_for(scheme, hostname):
    """(proxy URL, proxy headers) for one send, from the environment, or (None, None)."""
    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(hostname):
        return None, None
    url = URL(proxy if "://" in proxy else f"http://{proxy}")
    if url.user is None:
        return url, None
    credentials = base64.b64encode(f"{url.user}:{url.password or ''}".encode()).decode()
    return url.with_user(None), {"Proxy-Authorization": f"Basic {credentials}"}


class _Endpoint:
    """The parts of one management endpoint's URLs that every post shares."""

    def __init__(self, endpoint):
        parts = urlsplit(endpoint.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint: {endpoint!r}")
        self.scheme = parts.scheme
        self.hostname = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        default_port = port == (443 if parts.scheme == "https" else 80)
        bracketed = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        # The Host field, as sent and as signed: the port only when it is not the default.
        self.host = bracketed if default_port else f"{bracketed}:{port}"
        self.origin = f"{parts.scheme}://{self.host}"
        self.path = f"{parts.path}/@connections/"
        self.canonical_path = quote(self.path, safe="/~")

    def url_and_canonical_uri(self, connection_id):
        # The id is sent percent-encoded (yarl must not re-quote it: encoded=True);
        # SigV4 encodes the sent path once more.
        encoded_id = quote(connection_id, safe="")
        url = URL(self.origin + self.path + encoded_id, encoded=True)
        return url, self.canonical_path + quote(encoded_id, safe="~")


async def _post_all(worker, endpoint, connection_ids, data, signer, options, report):
    target = _Endpoint(endpoint)
    session = worker.session(max(1, options.concurrency))
    proxy = (None, None) if TRUST_ENV else _proxy_for(target.scheme, target.hostname)
    payload_hash = hashlib.sha256(data).hexdigest()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.max_wait_seconds
    pending = iter(connection_ids)

    async def work():
        for connection_id in pending:
            if loop.time() >= deadline:
                report.failed[connection_id] = f"not sent: the send's {options.max_wait_seconds} s bound had passed"
                continue
            url, canonical_uri = target.url_and_canonical_uri(connection_id)
            outcome = await _post_with_retries(
                session, target.host, url, canonical_uri, data, signer, payload_hash, options, deadline, proxy
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


async def _post_with_retries(session, host, url, canonical_uri, data, signer, payload_hash, options, deadline, proxy):
    """None when delivered, "gone" for GoneException, else a short failure reason."""
    loop = asyncio.get_running_loop()
    throttled = errors = 0
    while True:
        headers = signer.headers_for("POST", host, canonical_uri, "", payload_hash)
        headers["Host"] = host
        timeout = aiohttp.ClientTimeout(total=max(0.001, min(options.timeout_seconds, deadline - loop.time())))
        try:
            async with session.post(
                url, data=data, headers=headers, timeout=timeout, proxy=proxy[0], proxy_headers=proxy[1]
            ) as response:
                status = response.status
                error_type = response.headers.get("x-amzn-ErrorType", "").split(":")[0]
                try:
                    body = await response.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    # The status is in; the body only ever serves the log.
                    body = f"<body not read: {exc!r}>".encode()
        except TimeoutError:
            return "timeout"
        except aiohttp.ClientConnectorCertificateError as exc:
            return f"TLS error: {exc.certificate_error}"
        except aiohttp.ClientHttpProxyError as exc:
            return f"proxy refused the tunnel: HTTP {exc.status}"
        except aiohttp.ClientResponseError as exc:
            # Bytes came back, but not an HTTP answer: not retried.
            return f"malformed answer: {exc.message}"
        except aiohttp.ClientError as exc:
            # Nothing of an answer came back: the connection failed, or never opened.
            reason = f"connection error: {exc!r}"
            if errors >= options.retries:
                return reason
            errors += 1
        else:
            if status < 300:
                return None
            if status == 410:
                return "gone"
            reason = f"{error_type} (HTTP {status})" if error_type else f"HTTP {status}"
            if status == 429 and throttled < options.throttle_retries:
                throttled += 1
            elif status >= 500 and errors < options.retries:
                errors += 1
            else:
                logger.debug("post to %s failed: %s %s", url, status, body[:200])
                return reason
        # Full jitter keeps many failed posts from retrying in lockstep.
        ceiling = min(options.max_backoff_seconds, options.throttle_base_delay * 2 ** (throttled + errors - 1))
        delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret
        if loop.time() + delay >= deadline:
            return f"{reason}; no time left to retry within the send's {options.max_wait_seconds} s bound"
        await asyncio.sleep(delay)

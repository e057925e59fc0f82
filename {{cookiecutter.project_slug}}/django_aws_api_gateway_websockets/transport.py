"""Posting one payload to many connections through API Gateway's management API.

One background thread runs an asyncio loop with a pooled aiohttp session, so
connections to each endpoint are reused across sends and a multicast runs with
bounded concurrency instead of one blocking request after another. Django code
calls :func:`post_to_connections` synchronously; it waits for the whole batch.
"""

import asyncio
import atexit
import logging
import os
import random
import threading
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

from .sigv4 import payload_sha256

logger = logging.getLogger(__name__)


@dataclass
class BatchResult:
    delivered: list = field(default_factory=list)
    gone: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)


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
        self.session = None
        self.session_limit = 0
        self.thread = threading.Thread(target=self.loop.run_forever, name="websocket-sender", daemon=True)
        self.thread.start()

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    async def get_session(self, concurrency):
        if self.session is None or self.session.closed or self.session_limit < concurrency:
            if self.session is not None and not self.session.closed:
                await self.session.close()
            connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, ttl_dns_cache=300)
            # Management API answers are tiny; skip aiohttp's cookie jar and auto headers.
            self.session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), skip_auto_headers=["User-Agent"]
            )
            self.session_limit = concurrency
        return self.session

    async def _close(self):
        if self.session is not None and not self.session.closed:
            await self.session.close()

    def close(self):
        if self.loop.is_running():
            try:
                self.run(self._close())
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


def connection_url(endpoint, connection_id):
    return f"{endpoint.rstrip('/')}/@connections/{quote(connection_id, safe='')}"


def post_to_connections(endpoint, connection_ids, data, signer, options):
    """POST ``data`` to each connection id at ``endpoint``; returns a BatchResult."""
    worker = _get_loop_thread()
    return worker.run(_post_all(worker, endpoint, connection_ids, data, signer, options))


class _Endpoint:
    """The parts of one management endpoint's URLs that every post shares."""

    def __init__(self, endpoint):
        parts = urlsplit(endpoint.rstrip("/"))
        self.host = parts.netloc
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.path = f"{parts.path}/@connections/"
        self.canonical_path = quote(self.path, safe="/~")

    def url_and_canonical_uri(self, connection_id):
        encoded_id = quote(connection_id, safe="")
        # encoded=True: send the path exactly as signed (aiohttp would turn %3D back into =).
        url = URL(f"{self.origin}{self.path}{encoded_id}", encoded=True)
        return url, self.canonical_path + quote(encoded_id, safe="~")


async def _post_all(worker, endpoint, connection_ids, data, signer, options):
    session = await worker.get_session(options.concurrency)
    target = _Endpoint(endpoint)
    payload_hash = payload_sha256(data)
    timeout = aiohttp.ClientTimeout(total=options.timeout_seconds)
    result = BatchResult()
    pending = iter(connection_ids)

    # A fixed set of workers pulls from one iterator: concurrency stays bounded
    # without a task (and a semaphore wait) per connection.
    async def work():
        for connection_id in pending:
            url, canonical_uri = target.url_and_canonical_uri(connection_id)
            outcome = await _post_with_retries(
                session, url, target.host, canonical_uri, data, signer, payload_hash, timeout, options
            )
            if outcome is None:
                result.delivered.append(connection_id)
            elif outcome == "gone":
                result.gone.append(connection_id)
            else:
                result.failed[connection_id] = outcome

    workers = min(options.concurrency, len(connection_ids))
    await asyncio.gather(*(work() for _ in range(workers)))
    return result


async def _post_with_retries(session, url, host, canonical_uri, data, signer, payload_hash, timeout, options):
    """None when delivered, "gone" for GoneException, else a short failure reason."""
    attempt = 0
    while True:
        headers = signer.headers_for("POST", host, canonical_uri, "", payload_hash)
        try:
            async with session.post(url, data=data, headers=headers, timeout=timeout) as response:
                status = response.status
                if status < 300:
                    return None
                error_type = response.headers.get("x-amzn-ErrorType", "").split(":")[0]
                body = await response.read()
        except TimeoutError:
            return "timeout"
        except aiohttp.ClientError as exc:
            return f"connection error: {type(exc).__name__}"
        if status == 410:
            return "gone"
        if status == 429 and attempt < options.throttle_retries:
            # Full jitter keeps many throttled sends from retrying in lockstep.
            delay = random.uniform(0, options.throttle_base_delay * (2**attempt))  # noqa: S311
            attempt += 1
            await asyncio.sleep(delay)
            continue
        reason = error_type or f"HTTP {status}"
        logger.debug("post to %s failed: %s %s", url, reason, body[:200])
        return f"{reason} (HTTP {status})" if error_type else reason

"""Broadcasts that outgrow one request: sending through a task queue (Celery).

``WebSocketSession.objects.filter(...).send_message(payload, background=True)`` returns
at once with a :class:`~..models.BackgroundSend`, whose ``report()`` fills in as the
work is done:

1. the call checks and encodes the payload, stores it with the recipients' query (not
   the recipients: evaluating them is the slow part) and queues a planning task once the
   current transaction commits;
2. the planning task walks the connected recipients by primary key and cuts them into
   chunks of ``BACKGROUND_SEND_CHUNK_SIZE`` sessions, queuing one task per chunk as soon
   as it is cut;
3. each chunk task posts with the app's own sender (concurrent, throttling retried),
   marks gone sessions disconnected, and records its counts.

Delivery is at least once: the tasks are acknowledged only when done
(``acks_late``) and handed back to the queue if their worker dies
(``reject_on_worker_lost``), so a chunk a dead worker had begun is sent again, whole,
by another: no recipient is lost, and only that chunk's recipients may get the message
twice. A chunk already done is never sent again.

All workers together respect one request rate (API Gateway's account-level limit is
10,000 requests a second per region, shared by everything): a token bucket in Redis,
``BACKGROUND_SEND_RATE_LIMIT`` posts a second with bursts of
``BACKGROUND_SEND_BURST``, taken ``RATE_LIMIT_BATCH`` posts at a time.
"""

import logging
import pickle
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac

from ..conf import ws_setting
from ..request_checks import short_hash
from .fanout import encode_payload, send_to_sessions

logger = logging.getLogger(__name__)

# Posts taken from the shared bucket at once: small enough to spread the rate evenly
# over the workers, large enough that the bucket is not asked for every post.
RATE_LIMIT_BATCH = 100
# Failed connections a chunk keeps with their reason, for the report.
FAILURES_KEPT = 20
# The stored recipients' query is sealed with an HMAC of the SECRET_KEY: unpickling
# runs code, so a row written by anyone who could write the table but not the code
# (a leaked database password, an SQL injection elsewhere) must never be unpickled.
SEAL_SALT = "django_aws_api_gateway_websockets.background_send.recipients"
SEAL_BYTES = 32  # a SHA-256 digest


@dataclass
class BackgroundReport:
    """How a background send went so far: ``total`` recipients when it was planned,
    and the outcome of those whose chunk is done."""

    total: int = 0
    planned: bool = False
    chunks: int = 0
    chunks_done: int = 0
    delivered: int = 0
    gone: int = 0
    failed: int = 0
    failures: dict = field(default_factory=dict)

    @property
    def done(self):
        return self.planned and self.chunks_done == self.chunks

    @property
    def accounted_for(self):
        return self.delivered + self.gone + self.failed


def start(sessions, payload):
    """Store a background send of ``payload`` to the connected sessions of the queryset
    ``sessions`` and queue its planning; returns the ``BackgroundSend``."""
    from ..models import BackgroundSend

    tasks = celery_tasks()

    data = encode_payload(payload)
    send = BackgroundSend.objects.record(sessions, data, max(1, int(ws_setting("BACKGROUND_SEND_CHUNK_SIZE"))))
    transaction.on_commit(lambda: tasks.plan_background_send.delay(str(send.pk)))
    return send


def celery_tasks():
    """The app's Celery tasks, or a clear error before anything is stored when Celery is
    not installed."""
    try:
        from .. import tasks
    except ModuleNotFoundError as missing:
        if missing.name != "celery":
            raise
        raise ImproperlyConfigured(
            "send_message(..., background=True) needs Celery: install it and define a Celery app "
            "(a project baked with background_sends=celery has both)."
        ) from None
    return tasks


def sealed_query(sessions):
    """The query of the queryset ``sessions``, pickled and sealed for storage."""
    if sessions.query.is_sliced:
        raise TypeError(
            "A background send takes a queryset without a slice: the recipients are walked "
            "in chunks by primary key, so filter them instead of slicing."
        )
    data = pickle.dumps(sessions.query)
    return _seal(data, settings.SECRET_KEY) + data


def unsealed_query(sealed):
    """The query that :func:`sealed_query` stored, once its seal is checked against the
    current ``SECRET_KEY`` or one of ``SECRET_KEY_FALLBACKS`` (so a key rotation does not
    strand sends in flight); ``SuspiciousOperation`` for anything else."""
    sealed = bytes(sealed)
    seal, data = sealed[:SEAL_BYTES], sealed[SEAL_BYTES:]
    for key in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        if constant_time_compare(seal, _seal(data, key)):
            return pickle.loads(data)  # noqa: S301 - sealed by sealed_query() with our own key
    raise SuspiciousOperation("A background send's recipients are not sealed with this site's SECRET_KEY.")


def _seal(data, key):
    return salted_hmac(SEAL_SALT, data, secret=key, algorithm="sha256").digest()


def recipients_of(send):
    """The connected sessions the send goes to, in primary key order."""
    from ..models import WebSocketSession

    sessions = WebSocketSession.objects.all()
    sessions.query = unsealed_query(send.recipients)
    return sessions.filter(connected=True).order_by("pk")


def plan(send_id):
    """Cut the send's recipients into chunks, yielding each chunk's index as it is cut,
    so that its task can be queued while the rest is still being cut.

    Safe to run again (a planning task handed back after its worker died): it yields the
    chunks cut but not yet queued, then goes on from the last one cut."""
    from ..models import BackgroundSend, BackgroundSendChunk

    send = BackgroundSend.objects.get(pk=send_id)
    existing = list(send.chunks.order_by("index"))
    yield from (chunk.index for chunk in existing if not chunk.queued)
    if send.planned:
        return
    recipients = recipients_of(send)
    after = existing[-1].last_pk if existing else None
    index = len(existing)
    while True:
        batch = recipients.filter(pk__gt=after) if after is not None else recipients
        pks = list(batch.values_list("pk", flat=True)[: send.chunk_size])
        if not pks:
            break
        BackgroundSendChunk.objects.create(send=send, index=index, first_pk=pks[0], last_pk=pks[-1], size=len(pks))
        yield index
        after, index = pks[-1], index + 1
    total = sum(send.chunks.values_list("size", flat=True))
    BackgroundSend.objects.filter(pk=send.pk).update(planned=True, total=total)
    logger.info("Background send %s: %d recipient(s) in %d chunk(s)", send.pk, total, index)


def queue_chunks(send_id, enqueue):
    """Plan the send and ``enqueue(send_id, index)`` each chunk once. A chunk is marked
    queued right after, so a planning task run again queues only what was not; at
    worst (the worker dies between the two) one chunk is queued twice, which delivery
    at least once allows."""
    from ..models import BackgroundSendChunk

    for index in plan(send_id):
        enqueue(send_id, index)
        BackgroundSendChunk.objects.filter(send_id=send_id, index=index).update(queued=True)


def run_chunk(send_id, index, bucket=None):
    """Send one chunk and record its outcome; nothing when it is done already."""
    from ..models import BackgroundSendChunk, WebSocketSession

    chunk = BackgroundSendChunk.objects.select_related("send").get(send_id=send_id, index=index)
    if chunk.done:
        return chunk
    BackgroundSendChunk.objects.filter(pk=chunk.pk).update(attempts=chunk.attempts + 1)
    send = chunk.send
    in_chunk = recipients_of(send).filter(pk__gte=chunk.first_pk, pk__lte=chunk.last_pk)
    payload = bytes(send.payload)
    bucket = bucket if bucket is not None else shared_bucket()
    if bucket is None:
        # No shared rate: the whole chunk is one send (SEND_CONCURRENCY posts in flight).
        reports = [send_to_sessions(in_chunk, encoded=payload)]
    else:
        # A shared rate: each batch of posts waits for its tokens first.
        pks = list(in_chunk.values_list("pk", flat=True))
        reports = []
        for start_at in range(0, len(pks), RATE_LIMIT_BATCH):
            batch = pks[start_at : start_at + RATE_LIMIT_BATCH]
            bucket.take(len(batch))
            reports.append(send_to_sessions(WebSocketSession.objects.filter(pk__in=batch), encoded=payload))
    delivered = sum(len(report.delivered) for report in reports)
    failed = sum(len(report.failed) for report in reports)
    posted = sum(report.attempted for report in reports)
    failures = {}
    for report in reports:
        for connection_id, reason in list(report.failed.items())[: FAILURES_KEPT - len(failures)]:
            failures[short_hash(connection_id)] = reason
    # Sessions no longer connected when the chunk ran were not posted to: they count
    # as gone, with those API Gateway answered 410 for, so that the report accounts for
    # every planned recipient.
    gone = chunk.size - posted + sum(len(report.gone) for report in reports)
    BackgroundSendChunk.objects.filter(pk=chunk.pk).update(
        delivered=delivered, gone=gone, failed=failed, failures=failures, done=True
    )
    logger.info(
        "Background send %s, chunk %d: %d delivered, %d gone, %d failed", send_id, index, delivered, gone, failed
    )
    return chunk


def report_of(send):
    send.refresh_from_db(fields=["planned", "total"])
    chunks = list(send.chunks.all())
    report = BackgroundReport(total=send.total, planned=send.planned, chunks=len(chunks))
    for chunk in chunks:
        if chunk.done:
            report.chunks_done += 1
            report.delivered += chunk.delivered
            report.gone += chunk.gone
            report.failed += chunk.failed
            report.failures.update(chunk.failures)
    return report


# -------------------------------------------------------------- the shared rate


# Reserve ``want`` tokens at the bucket's rate, with Redis's own clock; answer how long
# the caller must wait before using them (0 when the bucket had them).
TAKE_TOKENS = """
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate) - want
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], 3600)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


class TokenBucket:
    """One request rate shared by every worker: tokens in Redis, taken atomically.

    The key is the same for every project on that Redis by default: API Gateway's limit
    is per account and region, not per project."""

    def __init__(self, client, rate, burst, key="django_aws_api_gateway_websockets:send-rate", sleep=time.sleep):
        self.client = client
        self.rate = float(rate)
        self.burst = float(burst)
        self.key = key
        self.sleep = sleep
        self._take = client.register_script(TAKE_TOKENS)

    def take(self, count):
        """Wait until ``count`` posts may go out at the shared rate; returns the wait."""
        wait = float(self._take(keys=[self.key], args=[self.rate, self.burst, count]))
        if wait > 0:
            self.sleep(wait)
        return wait


def shared_bucket():
    """The bucket of ``BACKGROUND_SEND_RATE_LIMIT`` (None: no shared limit), in the
    Redis of ``BACKGROUND_SEND_REDIS_URL``, else of the Celery broker when it is Redis."""
    rate = ws_setting("BACKGROUND_SEND_RATE_LIMIT")
    if not rate:
        return None
    url = ws_setting("BACKGROUND_SEND_REDIS_URL") or getattr(settings, "CELERY_BROKER_URL", "") or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            "BACKGROUND_SEND_RATE_LIMIT needs a Redis to share the rate between workers: set "
            "WEBSOCKETS['BACKGROUND_SEND_REDIS_URL'] (the broker is not Redis)."
        )
    import redis

    burst = ws_setting("BACKGROUND_SEND_BURST") or rate
    return TokenBucket(redis.Redis.from_url(url), rate, burst)

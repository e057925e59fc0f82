"""Background sends: ``send_message(payload, background=True)`` handed to Celery tasks.

The tasks run in the test's own process here (the test settings' eager mode), against
the loopback management API; a real worker killed mid-broadcast is
``tests/reliability/test_background_worker_faults.py``'s subject. Projects baked
without Celery get a clear error instead.
"""

import importlib.util
import pickle
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.core.management import call_command
from django.utils import timezone

from django_aws_api_gateway_websockets.models import BackgroundSend, BackgroundSendChunk, WebSocketSession
from django_aws_api_gateway_websockets.sending import PayloadTooLarge, background

from .conftest import make_gateway, make_sessions

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("aws_settings")]

needs_celery = pytest.mark.skipif(importlib.util.find_spec("celery") is None, reason="baked without Celery")
MESSAGE = {"type": "broadcast", "text": "to everyone"}


@pytest.fixture
def chunks_of(settings):
    def set_chunk_size(size):
        settings.WEBSOCKETS = {**settings.WEBSOCKETS, "BACKGROUND_SEND_CHUNK_SIZE": size}

    return set_chunk_size


@needs_celery
def test_a_background_send_reaches_every_connected_session_in_chunks_and_reports_it(management_api, chunks_of):
    stub = management_api()
    gateway = make_gateway(stub)
    make_sessions(gateway, 25, channel="all")
    make_sessions(gateway, 3, channel="elsewhere", prefix="other")
    WebSocketSession.objects.filter(connection_id="conn00007=").update(connected=False)
    chunks_of(10)

    send = WebSocketSession.objects.filter(channel_name="all").send_message(MESSAGE, background=True)

    assert isinstance(send, BackgroundSend)
    assert stub.received_ids() == sorted(f"conn{i:05d}=" for i in range(25) if i != 7)
    assert {body for _, body in stub.received} == {b'{"type":"broadcast","text":"to everyone"}'}
    report = BackgroundSend.objects.get(pk=send.pk).report()
    assert (report.done, report.total, report.chunks, report.chunks_done) == (True, 24, 3, 3)
    assert (report.delivered, report.gone, report.failed) == (24, 0, 0)
    assert sorted(send.chunks.values_list("size", flat=True)) == [4, 10, 10]


@needs_celery
def test_gone_and_failing_sessions_are_marked_and_reported_like_a_direct_send(management_api, chunks_of, settings):
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "SEND_RETRIES": 0}
    stub = management_api()
    make_sessions(make_gateway(stub), 12)
    stub.behaviour.gone = {"conn00002=", "conn00011="}
    stub.behaviour.fail_with = {"conn00005=": (500, "InternalServerErrorException")}
    chunks_of(5)

    send = WebSocketSession.objects.all().send_message(MESSAGE, background=True)

    report = send.report()
    assert (report.delivered, report.gone, report.failed, report.accounted_for) == (9, 2, 1, 12)
    assert len(report.failures) == 1
    (reason,) = report.failures.values()
    assert "500" in reason
    disconnected = WebSocketSession.objects.filter(connected=False).values_list("connection_id", flat=True)
    assert sorted(disconnected) == ["conn00002=", "conn00011="]


@needs_celery
def test_sessions_that_disconnect_before_their_chunk_runs_count_as_gone_and_are_not_posted(management_api):
    from django_aws_api_gateway_websockets.sending import background

    stub = management_api()
    make_sessions(make_gateway(stub), 6)
    send = BackgroundSend.objects.record(WebSocketSession.objects.all(), b'{"type":"late"}', 6)
    assert list(background.plan(send.pk)) == [0]
    WebSocketSession.objects.filter(connection_id__in=["conn00001=", "conn00004="]).update(connected=False)

    background.run_chunk(send.pk, 0)

    assert stub.received_ids() == ["conn00000=", "conn00002=", "conn00003=", "conn00005="]
    report = send.report()
    assert (report.total, report.delivered, report.gone, report.accounted_for) == (6, 4, 2, 6)


@needs_celery
def test_a_redelivered_chunk_task_sends_no_finished_chunk_again(management_api):
    """What acks_late means for a task a worker finished but could not acknowledge."""
    from django_aws_api_gateway_websockets.sending import background

    stub = management_api()
    make_sessions(make_gateway(stub), 7)
    send = BackgroundSend.objects.record(WebSocketSession.objects.all(), b'{"type":"once"}', 3)
    assert list(background.plan(send.pk)) == [0, 1, 2]
    background.run_chunk(send.pk, 0)
    background.run_chunk(send.pk, 0)
    assert len(stub.received) == 3
    assert BackgroundSendChunk.objects.get(send=send, index=0).attempts == 1


@needs_celery
def test_a_planning_task_run_again_queues_only_what_was_not_queued_and_cuts_no_chunk_twice(management_api):
    """A planning task whose worker died half-way is handed to another worker."""
    from django_aws_api_gateway_websockets.sending import background

    make_sessions(make_gateway(management_api()), 10)
    send = BackgroundSend.objects.record(WebSocketSession.objects.all(), b'{"type":"once"}', 3)
    queued = []
    # The first worker queued chunk 0, had cut chunk 1 when it died.
    planning = background.plan(send.pk)
    assert next(planning) == 0
    BackgroundSendChunk.objects.filter(send=send, index=0).update(queued=True)
    assert next(planning) == 1
    planning.close()

    background.queue_chunks(send.pk, lambda send_id, index: queued.append(index))
    assert queued == [1, 2, 3]
    background.queue_chunks(send.pk, lambda send_id, index: queued.append(index))
    assert queued == [1, 2, 3]
    pks = list(WebSocketSession.objects.order_by("pk").values_list("pk", flat=True))
    chunks = BackgroundSendChunk.objects.filter(send=send).order_by("index")
    assert [(chunk.first_pk, chunk.last_pk, chunk.size) for chunk in chunks] == [
        (pks[0], pks[2], 3),
        (pks[3], pks[5], 3),
        (pks[6], pks[8], 3),
        (pks[9], pks[9], 1),
    ]
    assert BackgroundSend.objects.get(pk=send.pk).total == 10


@needs_celery
def test_the_payload_is_checked_when_the_send_is_asked_for_and_nothing_is_stored(management_api):
    make_sessions(make_gateway(management_api()), 2)
    with pytest.raises(PayloadTooLarge):
        WebSocketSession.objects.all().send_message({"text": "x" * 200_000}, background=True)
    with pytest.raises(TypeError):
        WebSocketSession.objects.all().send_message({"not json": object()}, background=True)
    assert not BackgroundSend.objects.exists()


@needs_celery
def test_recipients_written_by_anyone_but_the_app_are_never_unpickled_and_nothing_is_sent(management_api):
    # Someone who can write the table but does not know the SECRET_KEY (a leaked
    # database password) stores a pickle that would run code when loaded.
    stub = management_api()
    make_sessions(make_gateway(stub), 3)
    send = WebSocketSession.objects.all().send_message(MESSAGE, background=True)
    stub.received.clear()
    hostile = pickle.dumps(_RunsCodeWhenUnpickled())
    forged = BackgroundSend.objects.create(payload=send.payload, recipients=b"\0" * 32 + hostile, chunk_size=10)

    queued = []
    with pytest.raises(SuspiciousOperation):
        background.queue_chunks(str(forged.pk), lambda send_id, index: queued.append(index))
    with pytest.raises(SuspiciousOperation):
        background.unsealed_query(send.recipients[:32] + hostile)

    assert _RunsCodeWhenUnpickled.ran == []
    assert queued == []
    assert stub.received == []
    assert not forged.chunks.exists()


class _RunsCodeWhenUnpickled:
    ran = []

    def __reduce__(self):
        return (_RunsCodeWhenUnpickled.ran.append, ("code ran",))


@needs_celery
def test_a_send_sealed_with_the_previous_secret_key_still_goes_out_after_a_rotation(management_api, settings):
    stub = management_api()
    make_sessions(make_gateway(stub), 4)
    sealed = background.sealed_query(WebSocketSession.objects.filter(connected=True))

    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    sessions = WebSocketSession.objects.all()
    sessions.query = background.unsealed_query(sealed)
    assert sessions.count() == 4

    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(SuspiciousOperation):
        background.unsealed_query(sealed)


@needs_celery
def test_a_sliced_queryset_is_refused_clearly_and_nothing_is_stored(management_api):
    stub = management_api()
    make_sessions(make_gateway(stub), 3)
    with pytest.raises(TypeError, match="without a slice"):
        WebSocketSession.objects.order_by("pk")[:2].send_message(MESSAGE, background=True)
    assert not BackgroundSend.objects.exists()
    assert stub.received == []


@needs_celery
def test_a_send_with_no_connected_recipient_is_done_at_once(management_api):
    stub = management_api()
    make_sessions(make_gateway(stub), 2)
    send = WebSocketSession.objects.filter(channel_name="nobody").send_message(MESSAGE, background=True)
    report = send.report()
    assert (report.done, report.total, report.chunks) == (True, 0, 0)
    assert stub.received == []


@pytest.fixture
def redis_bucket(settings):
    """``redis_bucket(rate, burst)``: a token bucket under a key of this test's own."""
    import redis

    from django_aws_api_gateway_websockets.sending.background import TokenBucket

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    key = f"test-bucket-{uuid.uuid4()}"
    waits = []
    yield lambda rate, burst: (TokenBucket(client, rate, burst, key=key, sleep=waits.append), waits)
    client.delete(key)


@needs_celery
def test_workers_share_one_request_rate_through_the_token_bucket_in_redis(redis_bucket):
    # Two workers' buckets: one key, so one rate (100 posts a second, bursts of 50).
    first, waits = redis_bucket(100, 50)
    second, _ = redis_bucket(100, 50)
    assert first.take(30) == 0
    assert second.take(20) == 0
    # The burst is spent: 40 more posts are 0.4 s of the shared rate away.
    wait = first.take(40)
    assert 0.3 < wait <= 0.4
    # And what the first took is owed by the second too.
    assert second.take(10) > wait
    assert len(waits) == 2


@needs_celery
def test_a_chunk_takes_its_posts_from_the_bucket_in_batches(management_api, redis_bucket):
    from django_aws_api_gateway_websockets.sending import background

    stub = management_api()
    make_sessions(make_gateway(stub), 250)
    send = BackgroundSend.objects.record(WebSocketSession.objects.all(), b'{"type":"paced"}', 250)
    list(background.plan(send.pk))
    # One post a second: what refills while the test runs is a rounding error.
    bucket, waits = redis_bucket(1, 100)

    background.run_chunk(send.pk, 0, bucket=bucket)

    assert len(stub.received) == 250
    # 100 from the burst at once; the next 100 are 100 s of the rate away, the last 50
    # another 50 s (the test's bucket records the waits instead of sleeping them).
    assert len(waits) == 2
    assert 99 < waits[0] <= 100 and 149 < waits[1] <= 150


@needs_celery
def test_a_shared_rate_needs_a_redis(settings):
    from django_aws_api_gateway_websockets.sending.background import shared_bucket

    settings.CELERY_BROKER_URL = "sqs://"
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "BACKGROUND_SEND_RATE_LIMIT": 500, "BACKGROUND_SEND_REDIS_URL": None}
    with pytest.raises(ImproperlyConfigured, match="BACKGROUND_SEND_REDIS_URL"):
        shared_bucket()
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "BACKGROUND_SEND_RATE_LIMIT": None}
    assert shared_bucket() is None


@needs_celery
def test_finished_background_sends_are_cleared_a_day_later_unfinished_ones_are_kept(management_api, capsys):
    make_sessions(make_gateway(management_api()), 2)
    finished = WebSocketSession.objects.all().send_message(MESSAGE, background=True)
    unfinished = BackgroundSend.objects.record(WebSocketSession.objects.all(), b"{}", 1)
    BackgroundSend.objects.update(created_on=timezone.now() - timedelta(days=2))

    call_command("clearWebSocketSessions")

    assert list(BackgroundSend.objects.values_list("pk", flat=True)) == [unfinished.pk]
    assert not BackgroundSendChunk.objects.filter(send_id=finished.pk).exists()
    assert "Deleted 1 finished background send(s)." in capsys.readouterr().out


@pytest.mark.skipif(importlib.util.find_spec("celery") is not None, reason="Celery is installed")
def test_without_celery_a_background_send_is_refused_clearly_and_nothing_is_stored(management_api):
    make_sessions(make_gateway(management_api()), 2)
    with pytest.raises(ImproperlyConfigured, match="needs Celery"):
        WebSocketSession.objects.all().send_message(MESSAGE, background=True)
    assert not BackgroundSend.objects.exists()

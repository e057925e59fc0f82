"""A Celery worker killed in the middle of a background broadcast.

Real workers (``python -m celery -A config worker``, Redis as the broker, the test
database) send to the loopback management API, which answers each post after a
delay, so a chunk is always in flight when the worker is killed (SIGKILL: no clean-up
of any kind). Afterwards every session has received the message, only the killed
chunk's sessions may have received it twice (at least once, never more than that
chunk), and the send's report accounts for every recipient.
"""

import importlib.util
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from django_aws_api_gateway_websockets.models import BackgroundSend, WebSocketSession
from tests.messaging.conftest import aws_settings, make_gateway, make_sessions, management_api  # noqa: F401

AREA = "Background sends"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("aws_settings"),
    pytest.mark.skipif(importlib.util.find_spec("celery") is None, reason="baked without Celery"),
]

SESSIONS = 1200
CHUNK_SIZE = 100
# Long enough that a chunk is caught in flight, short enough for a quick test.
ANSWER_DELAY_SECONDS = 0.15
# A task a vanished worker had taken becomes visible again after this long.
VISIBILITY_TIMEOUT_SECONDS = 2
WAIT_SECONDS = 60


def database_url():
    """The test database, for the worker processes."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return f"postgres://{database['USER']}{password}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"


class Workers:
    """Celery workers of the project on one queue of their own; each is stopped by PID."""

    def __init__(self, queue, log_dir):
        self.queue = queue
        self.log_dir = log_dir
        self.processes = []

    def start(self, name):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_SECONDS),
        }
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork", "--concurrency", "1"]
        command += ["--queues", self.queue, "--hostname", f"{name}@{self.queue}", "--loglevel", "INFO"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        log = (self.log_dir / f"{name}.log").open("w")
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=settings.BASE_DIR
        )
        self.processes.append(process)
        return process

    def kill(self, process, whole_worker):
        """SIGKILL the worker and its pool process, or only the pool process."""
        if whole_worker:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        else:
            for child in children_of(process.pid):
                os.kill(child, signal.SIGKILL)

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def logs(self):
        return "\n".join(path.read_text()[-3000:] for path in sorted(self.log_dir.glob("*.log")))


def children_of(pid):
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def wait_until(predicate, workers, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {WAIT_SECONDS} s\n{workers.logs()}")
        time.sleep(0.01)


@pytest.fixture
def workers(tmp_path):
    from config.celery import app

    queue = f"test-background-{uuid.uuid4().hex[:12]}"
    started = Workers(queue, tmp_path)
    # The test's own process queues the planning task: on that queue, for real.
    eager, default_queue = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    yield started
    app.conf.task_always_eager, app.conf.task_default_queue = eager, default_queue
    started.stop()


@pytest.mark.parametrize("whole_worker", [False, True], ids=["its pool process", "the whole worker"])
def test_a_worker_killed_mid_broadcast_loses_no_recipient_and_repeats_only_its_chunk(
    management_api,  # noqa: F811
    workers,
    settings,
    cases,
    whole_worker,
):
    """Kill a worker (SIGKILL) while it sends a chunk: the broadcast still reaches everyone."""
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "BACKGROUND_SEND_CHUNK_SIZE": CHUNK_SIZE}
    stub = management_api()
    stub.behaviour.delay_seconds = ANSWER_DELAY_SECONDS
    make_sessions(make_gateway(stub), SESSIONS, channel="everyone")
    first = workers.start("first")

    send = WebSocketSession.objects.filter(channel_name="everyone").send_message({"type": "news"}, background=True)

    # Two chunks answered and the third in flight: the worker dies holding it.
    wait_until(lambda: len(stub.received) >= 2 * CHUNK_SIZE and stub.in_flight > 0, workers, "a chunk in flight")
    workers.kill(first, whole_worker)
    if whole_worker:
        # A replacement, started once the dead worker's task is visible again.
        time.sleep(VISIBILITY_TIMEOUT_SECONDS + 0.5)
        workers.start("replacement")
    wait_until(lambda: send.report().done, workers, "every chunk done")
    cases.add(SESSIONS)

    received = Counter(connection_id for connection_id, _ in stub.received)
    assert set(received) == set(WebSocketSession.objects.values_list("connection_id", flat=True))
    twice = [connection_id for connection_id, count in received.items() if count > 1]
    assert len(twice) <= CHUNK_SIZE
    assert max(received.values()) == 2
    report = BackgroundSend.objects.get(pk=send.pk).report()
    assert (report.total, report.delivered, report.gone, report.failed) == (SESSIONS, SESSIONS, 0, 0)
    attempts = Counter(send.chunks.values_list("attempts", flat=True))
    assert attempts == {1: SESSIONS // CHUNK_SIZE - 1, 2: 1}

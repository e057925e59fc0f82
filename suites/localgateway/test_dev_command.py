"""``manage.py dev`` (``make dev``) as a developer runs it: a real subprocess on free ports,
stopped by its PID. Its banner ends with the demo logins and nothing follows it unless
``--verbose``; a busy port stops it before anything starts."""

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import aiohttp
import pytest
from django.apps import apps
from django.conf import settings
from yarl import URL

from localdev.local_api import DEMO_USERS
from localdev.ports import is_free
from localdev.worker import background_worker_arguments

from .support import WAIT_SECONDS, run

STARTUP_SECONDS = 90
BANNER_HEADING = "Local development is running. Press Ctrl-C to stop everything."
# The banner's last line: the last demo user's login.
READY_LINE = f"{DEMO_USERS[-1][0]} / {DEMO_USERS[-1][1]}"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DevServer:
    """One ``manage.py dev`` process, its output collected line by line."""

    def __init__(self, env, *options):
        self.lines = []
        self._queue = queue.Queue()
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter and manage.py
            [sys.executable, "manage.py", "dev", *options],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, text, timeout=STARTUP_SECONDS):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if line is None:
                raise AssertionError("manage.py dev exited early:\n" + "\n".join(self.lines))
            if line:
                self.lines.append(line)
            if text in line:
                return line
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} from manage.py dev:\n" + "\n".join(self.lines))

    def output(self):
        return "\n".join(self.lines)

    def banner(self):
        """The lines from the banner's heading to the last line read so far."""
        return self.lines[self.lines.index(BANNER_HEADING) :]

    def child_pids(self):
        """The gateway, runserver and every app's background command (e.g. a producer)."""
        return sorted({int(pid) for pid in re.findall(r"\bpid (\d+)", self.output())})

    def interrupt(self):
        """Ctrl-C; returns the exit status."""
        self.process.send_signal(signal.SIGINT)
        status = self.process.wait(60)
        while (line := self._queue.get(timeout=WAIT_SECONDS)) is not None:
            self.lines.append(line)
        return status

    def kill_everything(self):
        """Last resort when a test failed half-way: nothing may outlive the test."""
        pids = self.child_pids()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def _dev_refusing_to_start(dev_env):
    """Run ``manage.py dev`` that is expected to stop before starting anything."""
    return subprocess.run(  # noqa: S603 - our interpreter and manage.py
        [sys.executable, "manage.py", "dev"],
        cwd=settings.BASE_DIR,
        env=dev_env,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def dev_env(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_SECRET_KEY": "dev-command-test-secret",
        "WEBSOCKET_GATEWAY_SECRET": "dev-command-test-gateway-secret-0123456789abcdef",
        "DJANGO_DEBUG": "True",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
        "DJANGO_PORT": str(_free_port()),
        "LOCAL_GATEWAY_PORT": str(_free_port()),
        "LOCAL_GATEWAY_STATE_FILE": str(tmp_path / "gateway-state.json"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOWED_HOSTS", None)
    return env


@pytest.fixture
def start_dev(dev_env):
    started = []

    def start(*options):
        server = DevServer(dev_env, *options)
        started.append(server)
        server.wait_for_line(READY_LINE)
        return server

    yield start
    for server in started:
        server.kill_everything()


async def _log_in_and_ping(site, gateway_url):
    """As a browser: log in as the demo user, fetch a token, connect, ping."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(f"{site}/accounts/login/") as page:
            assert page.status == 200
        csrf = jar.filter_cookies(URL(site))["csrftoken"].value
        login = {"username": "demo", "password": "demo-password", "csrfmiddlewaretoken": csrf}
        async with session.post(f"{site}/accounts/login/", data=login, allow_redirects=False) as answer:
            assert answer.status == 302
        csrf = jar.filter_cookies(URL(site))["csrftoken"].value
        async with session.post(f"{site}/websockets/token/", headers={"X-CSRFToken": csrf}) as answer:
            assert answer.status == 200
            token = (await answer.json())["token"]
        # The cookie jar sends the session cookie to the gateway's host too, like a browser.
        websocket = await session.ws_connect(f"{gateway_url}?ws_token={token}", headers={"Origin": site})
        await websocket.send_str('{"action": "ping"}')
        pong = await websocket.receive_json(timeout=WAIT_SECONDS)
        await websocket.close()
        return pong


def test_make_dev_runs_the_stack_idempotently_and_stops_cleanly(start_dev, dev_env):
    site = f"http://127.0.0.1:{dev_env['DJANGO_PORT']}"
    gateway_url = f"ws://127.0.0.1:{dev_env['LOCAL_GATEWAY_PORT']}/local"

    first = start_dev()
    output = first.output()
    assert f"Site:       {site}/" in output
    assert f"WebSocket:  {gateway_url} " in output
    assert "demo / demo-password" in output
    api_id = re.search(r"\(API (\w+), stage local\)", output).group(1)
    assert "created route $connect" in output

    assert run(_log_in_and_ping(site, gateway_url)) == {"type": "pong", "channel": "default"}
    children = first.child_pids()
    background = sum(len(getattr(config, "dev_commands", None) or ()) for config in apps.get_app_configs())
    worker = 1 if background_worker_arguments() else 0
    # The gateway, runserver, e.g. the dashboard's producer, and the Celery worker of background sends.
    assert len(children) == 2 + background + worker
    assert first.interrupt() == 0
    assert "Stopped." in first.output()
    assert not any(_running(pid) for pid in children)

    second = start_dev()
    assert "already up to date, nothing changed" in second.output()
    assert f"(API {api_id}, stage local)" in second.output()
    assert run(_log_in_and_ping(site, gateway_url)) == {"type": "pong", "channel": "default"}
    children = second.child_pids()
    assert second.interrupt() == 0
    assert not any(_running(pid) for pid in children)


def _each_step_once(output):
    """The provisioning steps, each printed once (not logged and then summed up again)."""
    steps = [line.strip() for line in output.splitlines() if line.startswith("  created route ")]
    assert steps, output
    return all(output.count(step) == 1 for step in steps)


def test_the_banner_ends_with_the_logins_and_nothing_follows_it(start_dev, dev_env):
    """What stays on screen after make dev: the banner, its last lines the demo logins.
    A user logging in, a page, a socket and its message log nothing (runserver's request
    lines, the gateway's connection lines and the dashboard producer's pushes are off)."""
    site = f"http://127.0.0.1:{dev_env['DJANGO_PORT']}"
    gateway_url = f"ws://127.0.0.1:{dev_env['LOCAL_GATEWAY_PORT']}/local"
    server = start_dev()
    assert _each_step_once(server.output())
    banner = server.banner()
    read_by_then = len(server.lines)
    logins = [f"{username} / {password}" for username, password, _ in DEMO_USERS]
    assert banner[-len(logins) - 1] == "Log in as:"
    assert [line.split("  (")[0].strip() for line in banner[-len(logins) :]] == logins
    assert any(line.startswith("  Site:") for line in banner)
    assert "make dev VERBOSE=1" in "\n".join(banner)

    assert run(_log_in_and_ping(site, gateway_url)) == {"type": "pong", "channel": "default"}
    children = server.child_pids()
    assert server.interrupt() == 0
    after_banner = server.lines[read_by_then:]
    assert after_banner, "make dev said nothing when it stopped"
    assert all(line.startswith("Stopping ") or line == "Stopped." for line in after_banner), after_banner
    assert not any(_running(pid) for pid in children)


def test_verbose_shows_requests_and_the_gateway_again(start_dev, dev_env):
    site = f"http://127.0.0.1:{dev_env['DJANGO_PORT']}"
    gateway_url = f"ws://127.0.0.1:{dev_env['LOCAL_GATEWAY_PORT']}/local"
    server = start_dev("--verbose")
    assert _each_step_once(server.output())
    assert f"Local API Gateway on http://127.0.0.1:{dev_env['LOCAL_GATEWAY_PORT']}" in server.output()
    assert "every request and connection is logged" in server.output()
    assert run(_log_in_and_ping(site, gateway_url)) == {"type": "pong", "channel": "default"}
    server.wait_for_line('"POST /websockets/token/ HTTP/1.1" 200')
    server.wait_for_line("opened on /local")
    children = server.child_pids()
    assert server.interrupt() == 0
    assert not any(_running(pid) for pid in children)


@pytest.mark.parametrize("busy_setting", ["DJANGO_PORT", "LOCAL_GATEWAY_PORT", "both"])
def test_a_busy_port_is_named_and_nothing_starts(dev_env, tmp_path, busy_setting):
    """Something already listens on a port make dev needs: it stops at once, before
    migrating or starting anything, naming the port, its setting and the fix."""
    settings_names = ["DJANGO_PORT", "LOCAL_GATEWAY_PORT"] if busy_setting == "both" else [busy_setting]
    with contextlib.ExitStack() as stack:
        for name in settings_names:
            listener = stack.enter_context(socket.socket())
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", int(dev_env[name])))
            listener.listen()
        completed = _dev_refusing_to_start(dev_env)
    assert completed.returncode == 1
    for name in settings_names:
        assert f"Port {dev_env[name]} ({name}, " in completed.stderr
        assert "is already in use" in completed.stderr
    assert re.search(r"DJANGO_PORT=\d+ LOCAL_GATEWAY_PORT=\d+ make dev", completed.stderr), completed.stderr
    # Nothing started: no child, no database, both ports free again once the test's
    # listeners are closed.
    assert "Started" not in completed.stdout
    assert "Database migrated" not in completed.stdout
    assert not (tmp_path / "dev.sqlite3").exists()
    assert is_free(int(dev_env["DJANGO_PORT"])) and is_free(int(dev_env["LOCAL_GATEWAY_PORT"]))


@pytest.mark.skipif(background_worker_arguments() is None, reason="baked without background sends")
def test_make_dev_names_a_missing_celery_broker_before_starting_anything(dev_env):
    dead_port = _free_port()
    dev_env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{dead_port}/0"
    finished = _dev_refusing_to_start(dev_env)
    assert finished.returncode == 1
    assert f"The Celery broker at 127.0.0.1:{dead_port} (CELERY_BROKER_URL) does not answer" in finished.stderr
    assert "Database migrated." not in finished.stdout
    assert not os.path.exists(dev_env["LOCAL_GATEWAY_STATE_FILE"])

"""``make bench``: bake the default project and measure it against the published package.

One run, on this machine, in this order:

1. bake time (median of several bakes), then the time from a fresh bake to a passing
   generated test suite (``make install`` + ``make test`` of the bake);
2. a throwaway venv with ``django-aws-api-gateway-websockets==4.1.0`` ("theirs") and
   the same Django, gunicorn and psycopg versions as the bake's venv ("ours");
3. SQL statements per ``$connect`` / message / ``$disconnect``, for both, on SQLite
   and PostgreSQL;
4. fan-out through the local gateway to 10, 100 and 1,000 real WebSocket clients,
   plain and with a 20 ms delay on every management-API answer, interleaving ours and
   theirs; the gateway's raw capacity (bare aiohttp loop) and relay rate; then the
   1,000-session multicast against a bare endpoint that only answers (``endpoint.py``);
5. callback throughput: ``wrk`` POSTing messages to gunicorn (2 sync workers each),
   on SQLite and PostgreSQL, interleaved.

Writes ``bench/results/latest.json`` and ``bench/results/latest.md`` and prints the
table. Everything runs on 127.0.0.1; every process it starts is stopped by its PID.

    .venv/bin/python bench/run.py [--runs 5] [--skip-suite] [--no-postgres]
"""

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchsite.secret import GATEWAY_SECRET

BENCH = Path(__file__).resolve().parent
TEMPLATE = BENCH.parent
WORK = BENCH / ".work"
RESULTS = BENCH / "results"
DEV_BIN = Path(sys.executable).parent

PUBLISHED = "django-aws-api-gateway-websockets==4.1.0"
SIZES = (10, 100, 1000)
STAGE = "bench"
CALLBACK_API_ID = "benchapi01"
CALLBACK_SESSIONS = 100
WRK_SECONDS = 3
RELAY_CONNECTIONS = 10
RELAY_MESSAGES_EACH = 300
RAW_CONCURRENCY = 200  # the same bound as our sender's SEND_CONCURRENCY default
DELAY_MS = 20

GOALS = {
    "fanout_1000_delay_ratio": 10.0,
    "fanout_1000_plain_ratio": 5.0,
    "fanout_1000_plain_share_of_raw": 0.5,
    "callback_ratio": 1.5,
    "queries_per_message_max": 2,
    "relay_rate_min": 2000.0,
}

_started = []  # (name, Popen) of every long-lived process, stopped in reverse order


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------ processes


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(name, args, **kwargs):
    process = subprocess.Popen(args, **kwargs)  # noqa: S603 - our own commands
    _started.append((name, process))
    return process


def stop(process, timeout=15):
    """Stop one process we started, by its PID: SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    with contextlib.suppress(Exception):
        if process.stdin:
            process.stdin.close()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def stop_all():
    while _started:
        _name, process = _started.pop()
        stop(process)


def run(args, **kwargs):
    kwargs.setdefault("check", True)
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    try:
        return subprocess.run(args, **kwargs)  # noqa: S603 - our own commands
    except subprocess.CalledProcessError as error:
        sys.stderr.write(f"command failed: {' '.join(map(str, args))}\n{error.stdout}\n{error.stderr}\n")
        raise


def wait_for_http(url, timeout=30, ok=lambda status: status < 500):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                if ok(response.status):
                    return
        except urllib.error.HTTPError as error:
            if ok(error.code):
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def http_json(url, data=None, method=None, timeout=120):
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
        text = response.read()
    return json.loads(text) if text else None


def process_cpu_seconds(pid):
    """User + system CPU seconds of a process so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds(parent_pid):
    """CPU seconds of the live child processes of ``parent_pid`` (gunicorn's workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent_pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def in_parallel(calls, workers=2):
    """Run the callables two at a time (this is a 2-core machine); their results in order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ----------------------------------------------------------- implementations


class Impl:
    """How to run one implementation: its python, its import path, its env."""

    def __init__(self, name, venv, extra_path=()):
        self.name = name
        self.venv = Path(venv)
        self.python = self.venv / "bin" / "python"
        self.path = [str(BENCH), *map(str, extra_path)]

    def env(self, database_url, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
        env.update(
            BENCH_IMPL=self.name,
            BENCH_DATABASE_URL=database_url,
            DJANGO_SETTINGS_MODULE="benchsite.settings",
            PYTHONPATH=os.pathsep.join(self.path),
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.update(extra)
        return env

    def worker(self, database_url, *args):
        result = run([self.python, BENCH / "impl_worker.py", *args], env=self.env(database_url), cwd=WORK)
        return json.loads(result.stdout.strip().splitlines()[-1])


class Databases:
    """Fresh SQLite files and PostgreSQL databases for each purpose, dropped at the end.

    PostgreSQL is administered with psycopg from the bake's venv (``admin_python``).
    """

    def __init__(self, postgres_url, admin_python):
        self.postgres_url = postgres_url
        self.admin_python = admin_python
        self.created = []
        self.postgres_error = None
        if postgres_url:
            try:
                self._admin("SELECT 1")
            except Exception as error:  # noqa: BLE001 - reported in the results
                self.postgres_error = f"{type(error).__name__}: {error}".strip()
        else:
            self.postgres_error = "disabled with --no-postgres"

    @property
    def vendors(self):
        return ["sqlite"] + ([] if self.postgres_error else ["postgresql"])

    def _admin(self, *statements):
        code = (
            "import sys, psycopg\n"
            "with psycopg.connect(sys.argv[1], autocommit=True, connect_timeout=5) as connection:\n"
            "    for statement in sys.argv[2:]:\n"
            "        connection.execute(statement)\n"
        )
        result = run([self.admin_python, "-c", code, self.postgres_url, *statements], check=False)
        if result.returncode != 0:
            raise RuntimeError((result.stderr.strip().splitlines() or ["psycopg failed"])[-1])

    def fresh(self, vendor, purpose, impl):
        name = f"bench_{purpose}_{impl}"
        if vendor == "sqlite":
            path = WORK / "db" / f"{name}.sqlite3"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.unlink(missing_ok=True)
            return f"sqlite:///{path}"
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
        self.created.append(name)
        base = self.postgres_url.rsplit("/", 1)[0]
        return f"{base}/{name}"

    def prepare(self, impls):
        """One migrated database per engine and implementation, shared by every part
        (each part writes its own rows). Both implementations migrate at once."""
        self.urls = {}
        for vendor in self.vendors:
            for impl in impls:
                self.urls[(vendor, impl.name)] = self.fresh(vendor, "main", impl.name)
        in_parallel([lambda i=impl, u=url: i.worker(u, "migrate") for (_v, name), url in self.urls.items()
                     for impl in impls if impl.name == name])  # fmt: skip

    def url(self, vendor, impl):
        return self.urls[(vendor, impl.name)]

    def drop_all(self):
        for name in self.created:
            with contextlib.suppress(Exception):
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


# -------------------------------------------------------------------- machine


def machine_info(ours, theirs):
    def lscpu_field(name):
        with contextlib.suppress(Exception):
            for line in run(["lscpu"]).stdout.splitlines():
                if line.split(":")[0].strip() == name:
                    return line.split(":", 1)[1].strip()
        return None

    memory = None
    with contextlib.suppress(Exception):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"

    def versions(impl, names):
        code = (
            "import importlib.metadata as m, json, sys\n"
            "out = {}\n"
            "for n in sys.argv[1:]:\n"
            "    try: out[n] = m.version(n)\n"
            "    except m.PackageNotFoundError: out[n] = None\n"
            "print(json.dumps(out))"
        )
        return json.loads(run([impl.python, "-c", code, *names]).stdout)

    common = ["Django", "gunicorn", "psycopg", "aiohttp", "boto3", "botocore"]
    wrk_version = None
    if shutil.which("wrk"):
        wrk_version = (run(["wrk", "-v"], check=False).stdout or "").split("\n")[0].strip() or None
    return {
        "cpu": lscpu_field("Model name"),
        "cores": os.cpu_count(),
        "threads_per_core": lscpu_field("Thread(s) per core"),
        "memory": memory,
        "kernel": platform.release(),
        "python": run([ours.python, "-c", "import sys; print(sys.version.split()[0])"]).stdout.strip(),
        "ours": versions(ours, common),
        "theirs": versions(theirs, [*common, "django-aws-api-gateway-websockets"]),
        "wrk": wrk_version,
    }


# ----------------------------------------------------------------- bake times


def measure_bakes(samples):
    durations = []
    with tempfile.TemporaryDirectory(prefix="bench-bake-") as scratch:
        for index in range(samples):
            started = time.perf_counter()
            run([DEV_BIN / "cookiecutter", "--no-input", "-o", f"{scratch}/{index}", TEMPLATE])
            durations.append(time.perf_counter() - started)
    return durations


def fresh_bake_to_green(skip_suite):
    """Bake into .work/bake, install it, run its own suite; time each step."""
    bake_root = WORK / "bake"
    shutil.rmtree(bake_root, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BENCH_", "DATABASE_URL"))}
    env["PATH"] = f"{DEV_BIN}{os.pathsep}{env.get('PATH', '')}"  # uv, as `make install` expects
    timings = {}
    started = time.perf_counter()
    run([DEV_BIN / "cookiecutter", "--no-input", "-o", bake_root, TEMPLATE], env=env)
    timings["bake_seconds"] = time.perf_counter() - started
    project = bake_root / "realtime_site"
    step = time.perf_counter()
    run(["make", "install"], cwd=project, env=env)
    timings["install_seconds"] = time.perf_counter() - step
    if skip_suite:
        timings["suite"] = "skipped (--skip-suite)"
        return project, timings
    step = time.perf_counter()
    suite = run(["make", "test"], cwd=project, env=env, check=False)
    timings["suite_seconds"] = time.perf_counter() - step
    timings["fresh_bake_to_green_seconds"] = time.perf_counter() - started
    output = suite.stdout + suite.stderr
    (WORK / "generated-suite.log").write_text(output)
    summary = re.findall(r"=+ (.*(?:passed|failed).*) in [\d.]+s", output)
    node = re.findall(r"^# (pass|fail) (\d+)$", output, re.MULTILINE)
    timings["suite_passed"] = suite.returncode == 0
    timings["suite_summary"] = "; ".join(summary + [f"node {k} {v}" for k, v in node])
    return project, timings


def ensure_theirs(ours):
    """The throwaway venv of the published package, with our Django/gunicorn/psycopg versions."""
    venv = WORK / "theirs-venv"
    pins = machine_pins(ours)
    wanted = [PUBLISHED, *(f"{name}=={version}" for name, version in pins.items() if version)]
    marker = venv / ".bench-installed"
    if marker.exists() and marker.read_text() == "\n".join(wanted):
        return Impl("theirs", venv)
    shutil.rmtree(venv, ignore_errors=True)
    uv = shutil.which("uv", path=str(DEV_BIN)) or shutil.which("uv")
    if uv:
        run([uv, "venv", "--quiet", "--python", ours.python, venv])
        run([uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python", *wanted])
    else:
        run([sys.executable, "-m", "venv", venv])
        run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", *wanted])
    marker.write_text("\n".join(wanted))
    return Impl("theirs", venv)


def machine_pins(ours):
    code = (
        "import importlib.metadata as m, json\n"
        "names = ['Django', 'gunicorn', 'psycopg', 'psycopg-binary']\n"
        "out = {}\n"
        "for n in names:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    return json.loads(run([ours.python, "-c", code]).stdout)


# ------------------------------------------------------------------ queries


def measure_queries(impls, databases):
    results = {}
    for vendor in databases.vendors:
        results[vendor] = {}
        for impl in impls:
            answer = impl.worker(databases.url(vendor, impl), "queries")
            results[vendor][impl.name] = {
                name: {"queries": r["queries"], "status": r["status"], "sql": r["sql"]}
                for name, r in answer["results"].items()
            }
    return results


# ------------------------------------------------------------------ fan-out


class Sender:
    """A long-lived ``impl_worker.py serve`` process: one JSON line per send."""

    def __init__(self, impl, database_url, gateway_origin):
        self.impl = impl
        self.process = start(
            f"sender-{impl.name}",
            [impl.python, BENCH / "impl_worker.py", "serve"],
            env=impl.env(database_url, BENCH_GATEWAY_ORIGIN=gateway_origin),
            cwd=WORK,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = json.loads(self.process.stdout.readline())
        if not ready.get("ready"):
            raise RuntimeError(f"{impl.name} sender did not start: {ready}")

    def send(self, channel, seq):
        self.process.stdin.write(json.dumps({"op": "send", "channel": channel, "seq": seq}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.impl.name} sender exited")
        return json.loads(line)


class FanoutRig:
    """The local gateway, the clients and one sender per implementation."""

    def __init__(self, ours, theirs, databases):
        self.ours, self.theirs = ours, theirs
        self.databases = databases
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.received = {}  # group -> frames each client of the group should have by now
        self.seq = 0

    def start(self, project):
        log(f"fan-out: local gateway on {self.origin}")
        self.gateway = start(
            "gateway",
            [
                self.ours.python,
                "manage.py",
                "localgateway",
                "--port",
                str(self.port),
                "--fault-endpoint",
                "--idle-timeout",
                "3600",
            ],
            cwd=project,
            env={**self.ours.env("sqlite:///unused"), "DJANGO_SETTINGS_MODULE": "config.settings.test"},
            stdout=subprocess.DEVNULL,
            stderr=open(WORK / "gateway.log", "w"),  # noqa: SIM115 - closed with the process
        )
        wait_for_http(f"{self.origin}/@local/health")
        self.farm = start(
            "clients",
            [self.ours.python, BENCH / "clients.py"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(WORK / "clients.log", "w"),  # noqa: SIM115
            text=True,
            cwd=WORK,
        )
        self.farm_url = f"http://127.0.0.1:{json.loads(self.farm.stdout.readline())['port']}"
        self.api_id = self.provision()
        groups = {f"fan{size}": size for size in SIZES}
        log(f"fan-out: opening {sum(groups.values())} WebSocket clients")
        self.ids = http_json(
            f"{self.farm_url}/control/open", {"url": f"ws://127.0.0.1:{self.port}/{STAGE}", "groups": groups}
        )["groups"]
        self.received = dict.fromkeys(self.ids, 0)
        ids_file = WORK / "fanout-ids.json"
        ids_file.write_text(json.dumps(self.ids))
        self.ids_file = ids_file
        impls = (self.ours, self.theirs)
        seed = ["seed", "--api-id", self.api_id, "--api-endpoint", f"ws://127.0.0.1:{self.port}",
                "--stage", STAGE, "--groups", str(ids_file)]  # fmt: skip
        in_parallel([lambda i=impl: i.worker(self.databases.url("sqlite", i), *seed) for impl in impls])
        self.senders = {impl.name: Sender(impl, self.databases.url("sqlite", impl), self.origin) for impl in impls}

    def provision(self):
        answer = run(
            [self.ours.python, BENCH / "provision_api.py", self.origin, f"{self.farm_url}/connect", STAGE], cwd=WORK
        )
        return json.loads(answer.stdout)["api_id"]

    def set_delay(self, delay_ms):
        http_json(f"{self.origin}/@local/faults", method="DELETE")
        if delay_ms:
            http_json(
                f"{self.origin}/@local/faults",
                {"plane": "management", "operation": "PostToConnection", "delay_ms": delay_ms},
            )

    def verify(self, group, count=1):
        """Every client of ``group`` got exactly ``count`` more frames."""
        self.received[group] += count
        answer = http_json(f"{self.farm_url}/control/wait?group={group}&each={self.received[group]}&timeout=15")
        return answer

    def gateway_cpu(self):
        return process_cpu_seconds(self.gateway.pid)

    def clients_cpu(self):
        return process_cpu_seconds(self.farm.pid)

    def send(self, impl_name, group):
        self.seq += 1
        gateway_before, clients_before = self.gateway_cpu(), self.clients_cpu()
        answer = self.senders[impl_name].send(group, self.seq)
        gateway_after = self.gateway_cpu()
        check = self.verify(group)
        clients_after = self.clients_cpu()
        size = len(self.ids[group])
        ok = check["ok"] and answer["delivered"] == size
        return {
            "rate": size / answer["elapsed"],
            "elapsed": answer["elapsed"],
            "sender_cpu_ms_per_message": 1000 * answer["cpu"] / size,
            "gateway_cpu_ms_per_message": (
                1000 * (gateway_after - gateway_before) / size if gateway_before is not None else None
            ),
            # Includes the clients' polling while the delivery check waits: an upper bound.
            "clients_cpu_ms_per_message": (
                1000 * (clients_after - clients_before) / size if clients_before is not None else None
            ),
            "delivered": answer["delivered"],
            "verified": ok,
            "short": check["short"],
            "over": check["over"],
        }

    def raw(self, group, repeat=1, client="minimal"):
        gateway_before = self.gateway_cpu()
        answer = json.loads(
            run(
                [
                    self.ours.python,
                    BENCH / "rawpost.py",
                    "--endpoint",
                    f"{self.origin}/{STAGE}",
                    "--ids-file",
                    str(self.ids_file),
                    "--group",
                    group,
                    "--repeat",
                    str(repeat),
                    "--concurrency",
                    str(RAW_CONCURRENCY),
                    "--client",
                    client,
                ],
                cwd=WORK,
            ).stdout
        )
        check = self.verify(group, repeat)
        gateway_after = self.gateway_cpu()
        stats = http_json(f"{self.farm_url}/control/stats")
        return {
            "rate": answer["posts"] / answer["elapsed"],
            "posts": answer["posts"],
            "gateway_cpu_ms_per_message": (
                1000 * (gateway_after - gateway_before) / answer["posts"] if gateway_before is not None else None
            ),
            "verified": answer["ok"] and check["ok"],
            # Server to client: from the first post to the last frame at a client.
            "relay_rate": answer["posts"] / (stats["last_frame"] - answer["started"]),
        }


class EndpointRig:
    """Both senders against ``endpoint.py``: a management endpoint that only answers."""

    def __init__(self, fanout_rig, databases):
        self.fanout = fanout_rig
        self.databases = databases
        self.process = None
        self.senders = {}

    def start(self, delay_ms):
        self.stop()
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        self.process = start(
            f"endpoint-{delay_ms}",
            [self.fanout.ours.python, BENCH / "endpoint.py", "--port", str(port), "--delay-ms", str(delay_ms)],
            cwd=WORK,
        )
        wait_for_http(f"{origin}/health")
        seed = ["seed", "--api-id", f"endpoint{port}", "--api-endpoint", f"ws://127.0.0.1:{port}",
                "--stage", STAGE, "--groups", str(self.fanout.ids_file)]  # fmt: skip
        impls = (self.fanout.ours, self.fanout.theirs)
        urls = {impl.name: self.databases.fresh("sqlite", f"endpoint{delay_ms}", impl.name) for impl in impls}
        in_parallel([lambda i=impl: i.worker(urls[i.name], "migrate") for impl in impls])
        in_parallel([lambda i=impl: i.worker(urls[i.name], *seed) for impl in impls])
        self.senders = {impl.name: Sender(impl, urls[impl.name], origin) for impl in impls}
        self.origin = origin

    def send(self, impl_name, group):
        answer = self.senders[impl_name].send(group, 0)
        size = len(self.fanout.ids[group])
        return {
            "rate": size / answer["elapsed"],
            "delivered": answer["delivered"],
            "verified": answer["delivered"] == size,
        }

    def raw(self, group):
        answer = json.loads(
            run(
                [
                    self.fanout.ours.python,
                    BENCH / "rawpost.py",
                    "--endpoint",
                    f"{self.origin}/{STAGE}",
                    "--ids-file",
                    str(self.fanout.ids_file),
                    "--group",
                    group,
                    "--concurrency",
                    str(RAW_CONCURRENCY),
                    "--client",
                    "minimal",
                ],  # fmt: skip
                cwd=WORK,
            ).stdout
        )
        return {"rate": answer["posts"] / answer["elapsed"], "verified": answer["ok"]}

    def stop(self):
        for sender in self.senders.values():
            stop(sender.process)
        self.senders = {}
        if self.process is not None:
            stop(self.process)
            self.process = None


def measure_endpoint_fanout(rig, runs):
    """The 1,000-session multicast against the bare endpoint, plain and delayed."""
    group = "fan1000"
    results = {}
    try:
        for mode, delay in (("plain", 0), ("delay20", DELAY_MS)):
            rig.start(delay)
            for name in ("ours", "theirs"):
                rig.send(name, group)  # warm-up, not recorded
            entry = {"ours": [], "theirs": [], "ratio": [], "raw": []}
            for index in range(runs):
                order = ("ours", "theirs") if index % 2 == 0 else ("theirs", "ours")
                samples = {name: rig.send(name, group) for name in order}
                for name in order:
                    entry[name].append(samples[name])
                entry["ratio"].append(samples["ours"]["rate"] / samples["theirs"]["rate"])
                entry["raw"].append(rig.raw(group))
            log(
                f"endpoint fan-out {mode}: 1000 -> ours {median([s['rate'] for s in entry['ours']]):.0f}/s, "
                f"theirs {median([s['rate'] for s in entry['theirs']]):.0f}/s"
            )
            results[mode] = entry
    finally:
        rig.stop()
    return results


def measure_fanout(rig, runs):
    results = {"plain": {}, "delay20": {}}
    group_names = {size: f"fan{size}" for size in SIZES}
    log("fan-out: warm-up (each sender once per size, not recorded)")
    for size in SIZES:
        for name in ("ours", "theirs"):
            rig.send(name, group_names[size])
    relay = []
    for mode, delay in (("plain", 0), ("delay20", DELAY_MS)):
        rig.set_delay(delay)
        mode_results = {str(size): {"ours": [], "theirs": [], "ratio": []} for size in SIZES}
        mode_results["raw_1000"] = []
        mode_results["raw_1000_aiohttp"] = []
        for index in range(runs):
            order = ("ours", "theirs") if index % 2 == 0 else ("theirs", "ours")
            for size in SIZES:
                samples = {name: rig.send(name, group_names[size]) for name in order}
                entry = mode_results[str(size)]
                for name in order:
                    entry[name].append(samples[name])
                entry["ratio"].append(samples["ours"]["rate"] / samples["theirs"]["rate"])
            mode_results["raw_1000"].append(rig.raw(group_names[1000]))
            mode_results["raw_1000_aiohttp"].append(rig.raw(group_names[1000], client="aiohttp"))
            if mode == "plain":
                relay.append(rig.raw(group_names[RELAY_CONNECTIONS], repeat=RELAY_MESSAGES_EACH))
            log(
                f"fan-out {mode} run {index + 1}/{runs}: 1000 -> ours "
                f"{mode_results['1000']['ours'][-1]['rate']:.0f}/s, theirs "
                f"{mode_results['1000']['theirs'][-1]['rate']:.0f}/s, raw {mode_results['raw_1000'][-1]['rate']:.0f}/s"
            )
        results[mode] = mode_results
    rig.set_delay(0)
    results["relay"] = relay
    return results


# ---------------------------------------------------------------- callbacks


def callback_ids():
    # AWS-shaped: 16 characters of base64 ending in '='.
    return [f"Cb{index:013d}=" for index in range(CALLBACK_SESSIONS)]


def callback_headers():
    """What API Gateway sends with a message, as both packages check it (the published
    one also wants X-Real-Ip); each request adds its own ``Connectionid``."""
    return {
        "Content-Type": "application/json",
        "User-Agent": f"AmazonAPIGateway_{CALLBACK_API_ID}",
        "X-Amzn-Apigateway-Api-Id": CALLBACK_API_ID,
        "X-Amzn-Trace-Id": "Root=1-67891233-abcdef012345678912345678",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        "X-Real-Ip": "203.0.113.7",
        "X-Gateway-Secret": GATEWAY_SECRET,
    }


def write_lua():
    ids = ", ".join(f'"{cid}"' for cid in callback_ids())
    headers = "\n".join(f'wrk.headers["{name}"] = "{value}"' for name, value in callback_headers().items())
    path = WORK / "callback.lua"
    path.write_text(
        f"""-- POST one message per request to /ws/default, rotating over the seeded sessions.
-- Headers satisfy both packages (the published one also wants X-Real-Ip).
local ids = {{{ids}}}
local index = 0
wrk.method = "POST"
wrk.body = '{{"action":"bench","text":"hello from wrk"}}'
{headers}

request = function()
  index = index % #ids + 1
  wrk.headers["Connectionid"] = ids[index]
  return wrk.format(nil, "/ws/default")
end
"""
    )
    return path


def ensure_wrk():
    if shutil.which("wrk"):
        return "wrk"
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing wrk (apt-get install -y wrk)")
        result = run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
        if result.returncode != 0:
            run(["apt-get", "update", "-qq"], check=False)
            run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
    return "wrk" if shutil.which("wrk") else None


WRK_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(port, seconds, lua):
    output = run(
        ["wrk", "-t1", "-c4", f"-d{seconds}s", "--latency", "--timeout", "10s", "-s", str(lua),
         f"http://127.0.0.1:{port}"],
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {p: float(v) * UNITS[u] for p, v, u in WRK_LATENCY.findall(output)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return {
        "rps": rps,
        "p50_ms": latency.get("50"),
        "p99_ms": latency.get("99"),
        "requests": requests,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else None,
    }


def run_python_load(port, seconds, _lua):
    """Fallback when wrk is missing: 4 threads, each a closed loop of POSTs."""
    import http.client

    body = json.dumps({"action": "bench", "text": "hello from python"}).encode()
    ids = callback_ids()
    latencies, bad = [], [0]
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()

    def loop(offset):
        index = offset
        while time.perf_counter() < deadline:
            index = (index + 1) % len(ids)
            headers = {**callback_headers(), "Connectionid": ids[index]}
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("POST", "/ws/default", body=body, headers=headers)
            status = connection.getresponse().status
            connection.close()
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                if status >= 300:
                    bad[0] += 1

    threads = [threading.Thread(target=loop, args=(n * 25,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50_ms": latencies[len(latencies) // 2] if latencies else None,
        "p99_ms": latencies[int(len(latencies) * 0.99)] if latencies else None,
        "requests": len(latencies),
        "non_2xx": bad[0],
        "socket_errors": None,
    }


def start_gunicorn(impl, database_url):
    port = free_port()
    process = start(
        f"gunicorn-{impl.name}",
        [impl.venv / "bin" / "gunicorn", "benchsite.wsgi:application", "--workers", "2", "--worker-class", "sync",
         "--bind", f"127.0.0.1:{port}", "--chdir", str(BENCH), "--log-level", "error"],
        env=impl.env(database_url),
        cwd=WORK,
        stdout=subprocess.DEVNULL,
        stderr=open(WORK / f"gunicorn-{impl.name}.log", "a"),  # noqa: SIM115
    )  # fmt: skip
    # A probe message must be accepted before the clock starts.
    deadline = time.monotonic() + 30
    while True:
        try:
            probe = run_python_probe(port)
            if probe < 300:
                break
            raise RuntimeError(f"{impl.name} answered {probe} to a probe message")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return process, port


def run_python_probe(port):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request(
        "POST",
        "/ws/default",
        body=b'{"action":"bench"}',
        headers={**callback_headers(), "Connectionid": callback_ids()[0]},
    )
    status = connection.getresponse().status
    connection.close()
    return status


def measure_callbacks(impls, databases, runs):
    lua = write_lua()
    tool = ensure_wrk()
    load = run_wrk if tool else run_python_load
    results = {"tool": tool or "python fallback (wrk unavailable)"}
    groups_file = WORK / "callback-groups.json"
    groups_file.write_text(json.dumps({"callback": callback_ids()}))
    for vendor in databases.vendors:
        seed = ["seed", "--api-id", CALLBACK_API_ID, "--api-endpoint", "ws://127.0.0.1:9", "--stage", STAGE,
                "--groups", str(groups_file)]  # fmt: skip
        in_parallel([lambda i=impl, v=vendor, a=seed: i.worker(databases.url(v, i), *a) for impl in impls])
        servers = dict(
            zip([impl.name for impl in impls],
                in_parallel([lambda i=impl, v=vendor: start_gunicorn(i, databases.url(v, i)) for impl in impls]),
                strict=True)
        )  # fmt: skip
        for _process, port in servers.values():
            load(port, 1, lua)  # warm-up: imports, connections, caches
        samples = {"ours": [], "theirs": [], "ratio": []}
        for index in range(runs):
            order = ("ours", "theirs") if index % 2 == 0 else ("theirs", "ours")
            current = {}
            for name in order:
                process, port = servers[name]
                cpu_before = children_cpu_seconds(process.pid)
                current[name] = load(port, WRK_SECONDS, lua)
                cpu = children_cpu_seconds(process.pid) - cpu_before
                current[name]["server_cpu_ms_per_request"] = 1000 * cpu / max(1, current[name]["requests"])
            for name in order:
                samples[name].append(current[name])
            samples["ratio"].append(current["ours"]["rps"] / current["theirs"]["rps"])
            log(
                f"callbacks {vendor} run {index + 1}/{runs}: ours {current['ours']['rps']:.0f} req/s, "
                f"theirs {current['theirs']['rps']:.0f} req/s"
            )
        for process, _port in servers.values():
            stop(process)
            _started[:] = [(n, p) for n, p in _started if p is not process]
        results[vendor] = samples
    return results


# ------------------------------------------------------------------ summary


def summarise(results):
    """Medians, ratios and goals from the raw samples (of the parts that ran)."""
    summary = {"goals": []}
    if "fanout" in results:
        summary["fanout"] = {}
        for mode in ("plain", "delay20"):
            block = results["fanout"][mode]
            summary["fanout"][mode] = {size: _fanout_medians(block[size]) for size in map(str, SIZES)}
            summary["fanout"][mode]["raw_1000"] = median([s["rate"] for s in block["raw_1000"]])
            summary["fanout"][mode]["raw_1000_aiohttp"] = median([s["rate"] for s in block["raw_1000_aiohttp"]])
            summary["fanout"][mode]["raw_1000_gateway_cpu_ms"] = median(
                [s["gateway_cpu_ms_per_message"] for s in block["raw_1000"]]
            )
        summary["relay"] = median([s["relay_rate"] for s in results["fanout"]["relay"]])
    if "endpoint_fanout" in results:
        summary["endpoint_fanout"] = {
            mode: {
                "ours": median([s["rate"] for s in block["ours"]]),
                "theirs": median([s["rate"] for s in block["theirs"]]),
                "ratio": median(block["ratio"]),
                "raw": median([s["rate"] for s in block["raw"]]),
                "all_verified": all(s["verified"] for s in block["ours"] + block["theirs"] + block["raw"]),
            }
            for mode, block in results["endpoint_fanout"].items()
        }
    if "callbacks" in results:
        summary["callbacks"] = {}
        for vendor, block in results["callbacks"].items():
            if vendor == "tool":
                continue
            summary["callbacks"][vendor] = {
                name: {
                    "rps": median([s["rps"] for s in block[name]]),
                    "p50_ms": median([s["p50_ms"] for s in block[name]]),
                    "p99_ms": median([s["p99_ms"] for s in block[name]]),
                    "non_2xx": sum(s["non_2xx"] for s in block[name]),
                    "server_cpu_ms": median([s["server_cpu_ms_per_request"] for s in block[name]]),
                }
                for name in ("ours", "theirs")
            }
            summary["callbacks"][vendor]["ratio"] = median(block["ratio"])
    summary["goals"] = goals(results, summary)
    return summary


def _fanout_medians(block):
    both = block["ours"] + block["theirs"]
    return {
        "ours": median([s["rate"] for s in block["ours"]]),
        "theirs": median([s["rate"] for s in block["theirs"]]),
        "ratio": median(block["ratio"]),
        "ours_sender_cpu_ms": median([s["sender_cpu_ms_per_message"] for s in block["ours"]]),
        "theirs_sender_cpu_ms": median([s["sender_cpu_ms_per_message"] for s in block["theirs"]]),
        "gateway_cpu_ms": median([s["gateway_cpu_ms_per_message"] for s in both]),
        "clients_cpu_ms": median([s["clients_cpu_ms_per_message"] for s in both]),
        "all_verified": all(s["verified"] for s in both),
    }


def goals(results, summary):
    found = []
    if "fanout" in summary:
        plain, delayed = summary["fanout"]["plain"]["1000"], summary["fanout"]["delay20"]["1000"]
        found.append(_goal(f"1,000-connection multicast, {DELAY_MS} ms delay: ours / published",
                           delayed["ratio"], GOALS["fanout_1000_delay_ratio"], "x"))  # fmt: skip
        found.append(_goal("1,000-connection multicast, plain loopback: ours / published", plain["ratio"],
                           GOALS["fanout_1000_plain_ratio"], "x"))  # fmt: skip
        share = plain["ours"] / summary["fanout"]["plain"]["raw_1000"]
        found.append(_goal("1,000-connection multicast, plain loopback: ours / raw endpoint capacity", share,
                           GOALS["fanout_1000_plain_share_of_raw"], "x"))  # fmt: skip
    if "endpoint_fanout" in summary:
        plain, delayed = summary["endpoint_fanout"]["plain"], summary["endpoint_fanout"]["delay20"]
        found.append(_goal(f"1,000-session multicast, bare endpoint, {DELAY_MS} ms delay: ours / published",
                           delayed["ratio"], GOALS["fanout_1000_delay_ratio"], "x"))  # fmt: skip
        found.append(_goal("1,000-session multicast, bare endpoint, plain: ours / published", plain["ratio"],
                           GOALS["fanout_1000_plain_ratio"], "x"))  # fmt: skip
    for vendor, block in summary.get("callbacks", {}).items():
        found.append(_goal(f"message callbacks ({vendor}): ours / published", block["ratio"],
                           GOALS["callback_ratio"], "x"))  # fmt: skip
    for vendor, block in results.get("queries", {}).items():
        per_message = block["ours"]["message_anonymous"]["queries"]
        limit = GOALS["queries_per_message_max"]
        found.append({"goal": f"SQL queries per message ({vendor}) <= {limit} (published: "
                              f"{block['theirs']['message_anonymous']['queries']}; aim 1)",
                      "value": per_message, "target": limit, "met": per_message <= limit})  # fmt: skip
    if "relay" in summary:
        found.append(_goal("local gateway relay rate, server to client (messages/s)", summary["relay"],
                           GOALS["relay_rate_min"], "/s"))  # fmt: skip
    return found


def _goal(label, value, target, unit):
    return {"goal": f"{label} >= {target:g}{unit}", "value": value, "target": target, "met": value >= target}


def render_markdown(results, summary):
    m = results["machine"]
    lines = [
        f"Recorded {results['date']} on {m['cpu']} ({m['cores']} cores), {m['memory']}, Linux {m['kernel']}, "
        f"Python {m['python']}; ours: Django {m['ours']['Django']}, aiohttp {m['ours']['aiohttp']}, gunicorn "
        f"{m['ours']['gunicorn']}; published package {m['theirs']['django-aws-api-gateway-websockets']} with Django "
        f"{m['theirs']['Django']}, boto3 {m['theirs']['boto3']}, gunicorn {m['theirs']['gunicorn']}. Medians of "
        f"{results['config']['runs']} interleaved runs; this run took {results['runtime_seconds'] / 60:.1f} min "
        f"(parts: {', '.join(results['parts'])}).",
        "",
    ]
    if "fanout" in summary:
        lines += _fanout_markdown(summary)
    if "endpoint_fanout" in summary:
        lines += _endpoint_markdown(summary)
    if "callbacks" in summary:
        lines += _callbacks_markdown(results, summary)
    if "queries" in results:
        lines += _queries_markdown(results)
    if "bake" in results:
        lines += _bake_markdown(results)
    lines += ["| Goal | measured | met |", "| --- | ---: | :---: |"]
    for goal in summary["goals"]:
        value = goal["value"]
        shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
        lines.append(f"| {goal['goal']} | {shown} | {'yes' if goal['met'] else 'no'} |")
    return "\n".join(lines) + "\n"


def _fanout_markdown(summary):
    lines = [
        "| Fan-out (messages/s) | ours | published 4.1.0 | ours / published "
        "| bare loop, minimal client (raw capacity) | bare loop, aiohttp client |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, label in (("plain", "plain loopback"), ("delay20", f"{DELAY_MS} ms answer delay")):
        block = summary["fanout"][mode]
        for size in map(str, SIZES):
            raw = f"{block['raw_1000']:,.0f} | {block['raw_1000_aiohttp']:,.0f}" if size == "1000" else " |"
            flag = "" if block[size]["all_verified"] else " (delivery check failed)"
            lines.append(f"| {int(size):,} connections, {label} | {block[size]['ours']:,.0f} | "
                         f"{block[size]['theirs']:,.0f} | {block[size]['ratio']:.1f}x{flag} | {raw} |")  # fmt: skip
    plain = summary["fanout"]["plain"]["1000"]
    lines += [
        "",
        "| CPU per message, 1,000-connection multicast, plain (ms) | ours | published 4.1.0 | bare loop |",
        "| --- | ---: | ---: | ---: |",
        f"| sender process (all its threads) | {plain['ours_sender_cpu_ms']:.3f} | "
        f"{plain['theirs_sender_cpu_ms']:.3f} | |",
        f"| local gateway process | {plain['gateway_cpu_ms']:.3f} (either sender) | | "
        f"{summary['fanout']['plain']['raw_1000_gateway_cpu_ms']:.3f} |",
        f"| WebSocket clients process (at most) | {plain['clients_cpu_ms']:.3f} (either sender) | | |",
        "",
        f"Local gateway relay rate, server to client: {summary['relay']:,.0f} messages/s "
        f"({RELAY_CONNECTIONS} connections x {RELAY_MESSAGES_EACH} messages, bare loop with the minimal client).",
        "",
    ]
    return lines


def _endpoint_markdown(summary):
    lines = [
        "| Multicast to 1,000 sessions, bare management endpoint (messages/s) | ours | published 4.1.0 "
        "| ours / published | bare loop, minimal client |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for mode, label in (("plain", "plain loopback"), ("delay20", f"{DELAY_MS} ms answer delay")):
        block = summary["endpoint_fanout"][mode]
        flag = "" if block["all_verified"] else " (not every post answered 200)"
        lines.append(f"| {label} | {block['ours']:,.0f} | {block['theirs']:,.0f} | {block['ratio']:.1f}x{flag} | "
                     f"{block['raw']:,.0f} |")  # fmt: skip
    return [*lines, ""]


def _callbacks_markdown(results, summary):
    lines = [
        f"| Message callbacks ({results['callbacks']['tool']}, 2 gunicorn sync workers) | ours req/s | "
        "published req/s | ours / published | ours p50 / p99 ms | published p50 / p99 ms | "
        "server CPU ms/request, ours / published |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for vendor, block in summary["callbacks"].items():
        o, t = block["ours"], block["theirs"]
        errors = "" if not (o["non_2xx"] or t["non_2xx"]) else f" ({o['non_2xx']} / {t['non_2xx']} non-2xx!)"
        lines.append(f"| {vendor}{errors} | {o['rps']:,.0f} | {t['rps']:,.0f} | {block['ratio']:.2f}x | "
                     f"{o['p50_ms']:.2f} / {o['p99_ms']:.2f} | {t['p50_ms']:.2f} / {t['p99_ms']:.2f} | "
                     f"{o['server_cpu_ms']:.2f} / {t['server_cpu_ms']:.2f} |")  # fmt: skip
    return [*lines, ""]


QUERY_LABELS = {
    "connect_without_token": "`$connect`, no token",
    "connect_with_token": "`$connect` with a token (logged-in browser session)",
    "message_anonymous": "message to a handler (anonymous session)",
    "message_with_user": "message to a handler (session with a user)",
    "message_reading_user": "message to a handler that reads `request.user` (session with a user)",
    "disconnect": "`$disconnect`",
}


def _queries_markdown(results):
    vendors = list(results["queries"])
    lines = [
        "| SQL queries (whole middleware stack) | " + " | ".join(f"ours, {v} | published, {v}" for v in vendors) + " |",
        "| --- |" + " ---: |" * (2 * len(vendors)),
    ]
    for key, label in QUERY_LABELS.items():
        cells = []
        for vendor in vendors:
            block = results["queries"][vendor]
            cells += [str(block["ours"][key]["queries"]), str(block["theirs"][key]["queries"])]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _bake_markdown(results):
    bake = results["bake"]
    lines = [
        "| Template | seconds |",
        "| --- | ---: |",
        f"| bake of the default project (median of {len(bake['bake_samples'])}) | {median(bake['bake_samples']):.2f} |",
        f"| `make install` of a fresh bake | {bake['install_seconds']:.1f} |",
    ]
    if "suite_seconds" in bake:
        lines.append(f"| `make test` of the fresh bake ({bake['suite_summary']}) | {bake['suite_seconds']:.1f} |")
        lines.append(
            f"| fresh bake to a passing generated suite (bake + install + test) | "
            f"{bake['fresh_bake_to_green_seconds']:.1f}{'' if bake['suite_passed'] else ' (FAILED)'} |"
        )
    return [*lines, ""]


# --------------------------------------------------------------------- main


PARTS = ("bake", "queries", "fanout", "callbacks")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs per measurement (default 5)")
    parser.add_argument("--skip-suite", action="store_true", help="do not run the generated project's tests")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"comma-separated parts to run, of {','.join(PARTS)} (a partial run writes results/partial.*)",
    )
    parser.add_argument(
        "--project",
        type=Path,
        help="measure this already baked project (with its .venv) as ours, e.g. a prototype; skips the bake part",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="an admin connection; the bench creates and drops bench_* databases there",
    )
    args = parser.parse_args()
    parts = [part.strip() for part in args.only.split(",") if part.strip()]
    if args.project:
        parts = [part for part in parts if part != "bake"]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    complete = set(parts) == set(PARTS) and not args.skip_suite and not args.project
    began = time.perf_counter()
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    results = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "parts": parts,
        "config": {
            "runs": args.runs, "sizes": SIZES, "delay_ms": DELAY_MS, "raw_concurrency": RAW_CONCURRENCY,
            "wrk_seconds": WRK_SECONDS, "callback_sessions": CALLBACK_SESSIONS, "published": PUBLISHED,
        },
    }  # fmt: skip
    databases = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        project = args.project.resolve() if args.project else WORK / "bake" / "realtime_site"
        if not args.project and ("bake" in parts or not (project / ".venv" / "bin" / "python").exists()):
            log("bake time")
            bake_samples = measure_bakes(3)
            log("fresh bake -> make install -> make test (the generated suite)")
            project, bake = fresh_bake_to_green(args.skip_suite or "bake" not in parts)
            bake["bake_samples"] = bake_samples
            results["bake"] = bake
            log(f"generated suite: {bake.get('suite_summary', bake.get('suite'))}")
        ours = Impl("ours", project / ".venv", extra_path=[project])
        results["ours_project"] = str(project)
        databases = Databases(None if args.no_postgres else args.postgres_url, ours.python)
        log("throwaway venv for the published package")
        theirs = ensure_theirs(ours)
        results["machine"] = machine_info(ours, theirs)
        if databases.postgres_error:
            results["postgresql"] = f"skipped: {databases.postgres_error}"
        log("databases: one per engine and implementation, migrated")
        databases.prepare([ours, theirs])
        if "queries" in parts:
            log("SQL queries per event")
            results["queries"] = measure_queries([ours, theirs], databases)
        if "fanout" in parts:
            rig = FanoutRig(ours, theirs, databases)
            rig.start(project)
            results["fanout"] = measure_fanout(rig, args.runs)
            log("fan-out against a bare management endpoint (issue 3's yardstick)")
            results["endpoint_fanout"] = measure_endpoint_fanout(EndpointRig(rig, databases), args.runs)
            stop_all()
        if "callbacks" in parts:
            log("message callbacks through gunicorn")
            results["callbacks"] = measure_callbacks([ours, theirs], databases, args.runs)
    finally:
        stop_all()
        if databases is not None:
            databases.drop_all()
    results["runtime_seconds"] = time.perf_counter() - began
    summary = summarise(results)
    results["summary"] = summary
    markdown = render_markdown(results, summary)
    name = "latest" if complete else "partial"
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print()
    print(markdown)
    log(f"done in {results['runtime_seconds']:.0f} s; results in {RESULTS / (name + '.json')}")
    failed_checks = [
        f"{mode} {size}"
        for mode, sizes in summary.get("fanout", {}).items()
        for size, block in sizes.items()
        if isinstance(block, dict) and not block["all_verified"]
    ]
    if failed_checks:
        log(f"WARNING: some clients did not receive exactly one frame per send: {failed_checks}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Background sends: a 100,000-session broadcast through Celery workers, against the sync path.

Bakes a project with ``background_sends=celery`` (PostgreSQL) into ``bench/.work/``,
installs it, and then, with the bake's own interpreter (the ``driver`` command below):

1. creates 100,000 connected sessions of one API whose management endpoint is the bare
   endpoint of ``endpoint.py`` on 127.0.0.1, answering every post after 20 ms;
2. for 1, 2 and 4 workers (``python -m celery -A config worker --concurrency 1`` each,
   Redis on 127.0.0.1:6379 as the broker, a queue of the bench's own), times
   ``send_message(payload, background=True)`` (the call) and the broadcast until its
   report is done (every chunk recorded), and checks that the report accounts for every
   session;
3. times the synchronous ``send_message(payload)`` of the same broadcast in one process.

Writes ``bench/results/background_sends.json`` (every sample) and
``bench/results/background_sends.md`` (the table, which the documentation includes), and
prints the table. Every process it starts listens on 127.0.0.1 and is stopped by its PID.

    .venv/bin/python bench/background_sends.py [--sessions 100000] [--workers 1 2 4]
        [--delay-ms 20] [--chunk-size 1000] [--runs 1]
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from run import (
    DEV_BIN,
    TEMPLATE,
    WORK,
    children_cpu_seconds,
    free_port,
    log,
    process_cpu_seconds,
    run,
    start,
    stop,
    stop_all,
    wait_for_http,
)

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DATABASE_URL = os.environ.get("BENCH_BACKGROUND_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_background")
BROKER_URL = os.environ.get("BENCH_BACKGROUND_BROKER_URL", "redis://127.0.0.1:6379/0")
API_ID = "bgbench001"
STAGE = "bench"


# ------------------------------------------------------------------ orchestrator


def bake():
    """A fresh celery bake, installed; returns its folder."""
    root = WORK / "background-bake"
    shutil.rmtree(root, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BENCH_", "DATABASE_URL"))}
    env["PATH"] = f"{DEV_BIN}{os.pathsep}{env.get('PATH', '')}"
    answers = ["background_sends=celery", "database=postgresql"]
    run([DEV_BIN / "cookiecutter", "--no-input", "-o", root, TEMPLATE, *answers], env=env)
    project = root / "realtime_site"
    run(["make", "install"], cwd=project, env=env)
    return project


def project_env(queue):
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        # Local settings with DEBUG off: Django then keeps no list of every query.
        "DJANGO_DEBUG": "False",
        "DJANGO_LOG_LEVEL": "WARNING",
        "WEBSOCKETS_LOG_LEVEL": "WARNING",
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "AWS_ACCESS_KEY_ID": "bench-key",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_GATEWAY_REGION_NAME": "eu-west-1",
    }


def driver(project, env, *arguments):
    python = project / ".venv/bin/python"
    completed = run([python, Path(__file__).resolve(), "driver", *arguments], cwd=project, env=env)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def start_workers(project, env, count, queue):
    workers = []
    for index in range(count):
        command = [project / ".venv/bin/python", "-m", "celery", "-A", "config", "worker", "--concurrency", "1"]
        command += ["--queues", queue, "--hostname", f"bench{index}@{queue}", "--loglevel", "WARNING"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        log_file = (WORK / f"background-worker-{index}.log").open("w")
        workers.append(
            start(f"worker {index}", command, cwd=project, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        )
    # Ready once they consume: the driver waits for them (wait_for_workers).
    return workers


def worker_cpu_seconds(worker):
    """CPU seconds of a worker: its main process and its pool process (prefork), which
    runs the tasks. The pool process is started once and lives as long as the worker."""
    return (process_cpu_seconds(worker.pid) or 0.0) + children_cpu_seconds(worker.pid)


def measure(args):
    project = bake()
    queue = f"bench-background-{uuid.uuid4().hex[:8]}"
    env = project_env(queue)
    endpoint_port = free_port()
    endpoint = start(
        "endpoint",
        [sys.executable, BENCH / "endpoint.py", "--port", str(endpoint_port), "--delay-ms", str(args.delay_ms)],
    )
    wait_for_http(f"http://127.0.0.1:{endpoint_port}/health")
    log(f"seeding {args.sessions:,} sessions")
    driver(project, env, "seed", "--sessions", str(args.sessions), "--endpoint-port", str(endpoint_port))
    results = {"background": {}, "sync": []}
    for run_index in range(args.runs):
        for count in args.workers:
            workers = start_workers(project, env, count, queue)
            cpu_before = [worker_cpu_seconds(worker) for worker in workers]
            endpoint_before = process_cpu_seconds(endpoint.pid) or 0.0
            log(f"run {run_index + 1}: background send, {count} worker(s)")
            sample = driver(project, env, "background", "--chunk-size", str(args.chunk_size))
            sample["endpoint_cpu_seconds"] = (process_cpu_seconds(endpoint.pid) or 0.0) - endpoint_before
            sample["worker_cpu_seconds"] = sum(
                worker_cpu_seconds(worker) - before for worker, before in zip(workers, cpu_before, strict=True)
            )
            results["background"].setdefault(str(count), []).append(sample)
            for worker in workers:
                stop(worker, timeout=60)
        log(f"run {run_index + 1}: synchronous send in one process")
        results["sync"].append(driver(project, env, "sync"))
    stop_all()
    return results


def summarise(results, args):
    def med(samples, key):
        return statistics.median(sample[key] for sample in samples)

    rows = []
    for count, samples in results["background"].items():
        total = med(samples, "total_seconds")
        rows.append(
            {
                "workers": int(count),
                "call_ms": med(samples, "call_ms"),
                "total_seconds": total,
                "messages_per_second": args.sessions / total,
                "per_worker": args.sessions / total / int(count),
                "worker_cpu_ms_per_message": med(samples, "worker_cpu_seconds") * 1000 / args.sessions,
            }
        )
    sync_total = med(results["sync"], "total_seconds")
    sync = {
        "total_seconds": sync_total,
        "messages_per_second": args.sessions / sync_total,
        "cpu_ms_per_message": med(results["sync"], "cpu_seconds") * 1000 / args.sessions,
    }
    return rows, sync


def render(rows, sync, args, machine):
    lines = [
        f"Recorded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine}. "
        f"{args.sessions:,} connected sessions, bare endpoint answering after {args.delay_ms:g} ms, "
        f"chunks of {args.chunk_size:,}, PostgreSQL and Redis on 127.0.0.1; medians of {args.runs} run(s).",
        "",
        f"| Broadcast to {args.sessions:,} sessions | the call returns in | all sent in | messages/s "
        "| messages/s per worker | sender CPU per message |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| background, {row['workers']} worker(s) | {row['call_ms']:.1f} ms | {row['total_seconds']:.1f} s "
            f"| {row['messages_per_second']:,.0f} | {row['per_worker']:,.0f} "
            f"| {row['worker_cpu_ms_per_message']:.3f} ms (workers) |"
        )
    lines.append(
        f"| synchronous, in the calling process | {sync['total_seconds']:.1f} s | {sync['total_seconds']:.1f} s "
        f"| {sync['messages_per_second']:,.0f} | | {sync['cpu_ms_per_message']:.3f} ms |"
    )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    started = time.perf_counter()
    try:
        results = measure(args)
    finally:
        stop_all()
    rows, sync = summarise(results, args)
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    table = render(rows, sync, args, machine)
    RESULTS.mkdir(exist_ok=True)
    record = {
        "arguments": vars(args),
        "machine": machine,
        "minutes": (time.perf_counter() - started) / 60,
        "samples": results,
        "summary": {"background": rows, "sync": sync},
        "table": table,
    }
    (RESULTS / "background_sends.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / "background_sends.md").write_text(table + "\n")
    print(table)


# ------------------------------------------------------------------ driver (in the bake)


def driver_main(argv):
    """Runs with the bake's interpreter, in the bake's folder: prints one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["seed", "background", "sync"])
    parser.add_argument("--sessions", type=int)
    parser.add_argument("--endpoint-port", type=int)
    parser.add_argument("--chunk-size", type=int, default=1000)
    args = parser.parse_args(argv)
    sys.path.insert(0, os.getcwd())
    if args.command == "seed":
        create_database()
    import django

    django.setup()
    from django.conf import settings
    from django_aws_api_gateway_websockets.models import BackgroundSend, WebSocketSession

    payload = {"type": "bench.broadcast", "text": "x" * 100}
    if args.command == "seed":
        print(json.dumps(seed(args.sessions, args.endpoint_port)))
    elif args.command == "background":
        settings.WEBSOCKETS = {**settings.WEBSOCKETS, "BACKGROUND_SEND_CHUNK_SIZE": args.chunk_size}
        wait_for_workers()
        started = time.perf_counter()
        send = WebSocketSession.objects.filter(channel_name="everyone").send_message(payload, background=True)
        call_ms = (time.perf_counter() - started) * 1000
        while not (report := send.report()).done:
            time.sleep(0.05)
        total = time.perf_counter() - started
        if not report.delivered == report.total == WebSocketSession.objects.count():
            raise SystemExit(f"the background send did not reach everyone: {report}")
        BackgroundSend.objects.filter(pk=send.pk).delete()
        print(json.dumps({"call_ms": call_ms, "total_seconds": total, "delivered": report.delivered}))
    else:
        import resource

        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        report = WebSocketSession.objects.filter(channel_name="everyone").send_message(payload)
        total = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        if not (report.ok and len(report.delivered) == WebSocketSession.objects.count()):
            raise SystemExit(f"the synchronous send did not reach everyone: {report.failed}")
        print(json.dumps({"total_seconds": total, "delivered": len(report.delivered), "cpu_seconds": cpu}))


def create_database():
    """A fresh PostgreSQL database for the bench, then its tables."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(  # noqa: S603 - this interpreter and the bake's manage.py
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], check=True
    )


def seed(sessions, endpoint_port):
    from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession

    gateway = ApiGateway.objects.create(
        api_name="background bench",
        target_base_endpoint="http://127.0.0.1:8000/ws/",
        api_id=API_ID,
        api_endpoint=f"ws://127.0.0.1:{endpoint_port}",
        stage_name=STAGE,
        api_created=True,
    )
    batch = 10_000
    for start_at in range(0, sessions, batch):
        WebSocketSession.objects.bulk_create(
            WebSocketSession(connection_id=f"bench{index:07d}=", channel_name="everyone", api_gateway=gateway)
            for index in range(start_at, min(sessions, start_at + batch))
        )
    return {"sessions": WebSocketSession.objects.count()}


def wait_for_workers(timeout=60):
    """Block until the workers consume from the queue: a background send to no one is
    planned only by a running worker."""
    from django_aws_api_gateway_websockets.models import BackgroundSend, WebSocketSession

    send = WebSocketSession.objects.filter(channel_name="nobody").send_message({"type": "ping"}, background=True)
    deadline = time.monotonic() + timeout
    while not send.report().done:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no worker took the ping within {timeout} s")
        time.sleep(0.05)
    BackgroundSend.objects.filter(pk=send.pk).delete()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "driver":
        driver_main(sys.argv[2:])
    else:
        main()

"""Choosing the WebSocket sender by measurement (issue 15, part 2).

Two candidates with the same interface (``bench/senders/``): (a) ``aiohttp_sender``, a
pooled ``aiohttp.ClientSession`` with ``trust_env=True``; (b) the vendored app's
``sending/transport.py`` (candidate ``strict_minimal`` when measured), the
app's own HTTP/1.1 client made strict. The rule: choose (a) unless (b) is at least 1.5x
faster in messages/s of the 1,000-connection multicast against a TLS endpoint that
answers after 20 ms. A third sender, (a') ``aiohttp_sender`` with ``TRUST_ENV = False``
(the proxy variables read once per send instead of aiohttp looking up the proxy and
``~/.netrc`` in worker threads for every request), is measured beside them to show
what ``trust_env`` costs.

What runs, all on 127.0.0.1:

* a TLS management endpoint in its own process (asyncio, HTTP/1.1 keep-alive, a
  ``trustme`` certificate) that answers every ``POST /<stage>/@connections/<id>`` after
  ``--delay-ms`` (20); under a stage named ``faults-*`` it answers a connection id's
  first attempt with 429 (5% of ids) or 500 (another 5%), chosen by a CRC of the id,
  and every later attempt with 200;
* each sender in a subprocess of its own, started afresh for every run, so the process
  CPU time it reports (``time.process_time()``: all its threads) is the sender's only.
  A run is: one cold multicast to 1,000 connections (it opens the 200 TLS connections),
  ``--warm`` multicasts to the same 1,000 over the open connections (the measured
  figure: their median), then one fan-out of 10,000 posts (the same ids for every
  sender, under a ``faults-*`` stage of its own) timed post by post: a post's latency
  runs from its first signature (the signer is called right before each attempt is
  written) to its outcome in the report;
* runs interleave the senders, each taking each place in the order in turn (a, a', b;
  a', b, a; b, a, a'; ...); ratios are taken within each run, then the median over runs.

Writes ``bench/results/sender_tls.json`` (every sample; ``--output`` elsewhere) and
prints a Markdown table.

    .venv/bin/python bench/sender_tls.py [--runs 7] [--warm 5] [--delay-ms 20] [--output F]
"""

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import importlib
import json
import os
import platform
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from urllib.parse import quote, unquote

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
# (a) as issue 15 specifies it; (a') the same with the proxy read once per send instead of
# aiohttp's trust_env (see aiohttp_sender.TRUST_ENV); (b) the strict minimal client.
# (b) is the vendored app's own transport, which the measurement chose.
SENDERS = {"a": "aiohttp_sender", "a2": "aiohttp_sender:per_send_proxy", "b": "transport"}
CONCURRENCY = 200  # the app's SEND_CONCURRENCY default
MULTICAST = 1000
FANOUT = 10_000
PAYLOAD = b'{"type":"chat.message","channel":"room-1","text":"' + b"x" * 48 + b'"}'  # 100 bytes
INJECT_PERCENT = 5  # of ids, for 429 and again for 500

# ------------------------------------------------------------------ endpoint


def _answer(status, reason, error_type="", body=b""):
    head = [
        f"HTTP/1.1 {status} {reason}",
        "Date: Fri, 04 Dec 2026 12:00:00 GMT",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: keep-alive",
        "x-amzn-RequestId: 4c1b7e0a-5a8f-4d7e-9b1c-2f6d3e8a9b10",
        "x-amz-apigw-id: R1koeHsUtjMFbRw=",
    ]
    if error_type:
        head.append(f"x-amzn-ErrorType: {error_type}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


OK = _answer(200, "OK")
THROTTLED = _answer(429, "Too Many Requests", "LimitExceededException", b'{"message":"Rate exceeded"}')
SERVER_ERROR = _answer(500, "Internal Server Error", "InternalServerErrorException", b'{"message":"Internal error"}')


def injected_status(connection_id):
    """The status the faults stage gives a connection id's first attempt (200: none)."""
    bucket = zlib.crc32(connection_id.encode()) % 100
    if bucket < INJECT_PERCENT:
        return 429
    if bucket < 2 * INJECT_PERCENT:
        return 500
    return 200


class EndpointProtocol(asyncio.Protocol):
    """One keep-alive connection: parses requests, answers each after the delay."""

    def __init__(self, state):
        self.state = state
        self.buffer = bytearray()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            head = bytes(self.buffer[:end])
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[: end + 4 + length]
            self.state["loop"].call_later(self.state["delay"], self.answer, self.route(head))

    def route(self, head):
        path = head.split(b" ", 2)[1].decode()
        stage, _, encoded_id = path.lstrip("/").partition("/@connections/")
        connection_id = unquote(encoded_id)
        if stage.startswith("faults") and (stage, connection_id) not in self.state["failed_once"]:
            self.state["failed_once"].add((stage, connection_id))
            status = injected_status(connection_id)
            if status != 200:
                return THROTTLED if status == 429 else SERVER_ERROR
        return OK

    def answer(self, raw):
        if not self.transport.is_closing():
            self.transport.write(raw)


def serve_endpoint(port, certfile, keyfile, delay_ms):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile, keyfile)

    async def main():
        loop = asyncio.get_running_loop()
        state = {"loop": loop, "delay": delay_ms / 1000, "failed_once": set()}
        server = await loop.create_server(lambda: EndpointProtocol(state), "127.0.0.1", port, ssl=context, backlog=1024)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await stop.wait()
        server.close()

    asyncio.run(main())


# -------------------------------------------------------------------- worker


def connection_ids(prefix, count):
    """Ids shaped like API Gateway's (16 base64 characters ending in '=')."""
    return [base64.b64encode(hashlib.sha256(f"{prefix}{i}".encode()).digest()[:11]).decode() for i in range(count)]


class TimedList(list):
    """A report list that notes when each connection id was appended."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.times = {}

    def append(self, item):
        self.times[item] = self.clock()
        super().append(item)


class TimedSigner:
    """The real signer, noting when each post's first attempt was signed, and how
    many attempts there were in all."""

    def __init__(self, signer, clock):
        self.signer = signer
        self.clock = clock
        self.first = {}
        self.attempts = 0

    def headers_for(self, method, host, canonical_uri, query, payload_hash, now=None):
        self.attempts += 1
        self.first.setdefault(canonical_uri, self.clock())
        return self.signer.headers_for(method, host, canonical_uri, query, payload_hash, now)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def run_worker(args):
    sys.path.insert(0, str(BENCH))
    import senders
    from botocore.credentials import Credentials

    transport, signing = senders.vendored_transport()
    RequestSigner = signing.RequestSigner  # noqa: N806 - the class, by its own name
    name, _, variant = args.sender.partition(":")
    module = transport if name == "transport" else importlib.import_module(f"senders.{name}")
    if variant == "per_send_proxy":
        module.TRUST_ENV = False
    signer = RequestSigner(Credentials("AKIDEXAMPLE", "bench-secret").get_frozen_credentials(), "eu-west-1")
    options = module.SendOptions(
        concurrency=CONCURRENCY,
        timeout_seconds=10.0,
        throttle_retries=5,
        throttle_base_delay=0.05,
        retries=2,
        max_wait_seconds=60.0,
    )
    result = {"sender": args.sender, "multicasts": []}

    def multicast(ids):
        report = module.SendReport()
        cpu, clock = time.process_time(), time.perf_counter()
        module.post_to_connections(f"{args.endpoint}/bench", ids, PAYLOAD, signer, options, report)
        elapsed, cpu = time.perf_counter() - clock, time.process_time() - cpu
        return {
            "elapsed": elapsed,
            "cpu": cpu,
            "delivered": len(report.delivered),
            "failed": len(report.failed) + len(report.gone),
            "failures": dict(list(report.failed.items())[:3]),
        }

    ids = connection_ids("multicast-", MULTICAST)
    result["cold"] = multicast(ids)
    for _ in range(args.warm):
        result["multicasts"].append(multicast(ids))

    clock = time.perf_counter
    timed = TimedSigner(signer, clock)
    report = module.SendReport()
    report.delivered = TimedList(clock)
    # The same ids for every sender and run (so the same posts fail first), under a stage
    # of each run's and sender's own, for which the endpoint has not failed them yet.
    fan_ids = connection_ids("fanout-", FANOUT)
    stage = f"faults-{args.run}-{args.sender.replace(':', '-')}"
    cpu, started = time.process_time(), clock()
    module.post_to_connections(f"{args.endpoint}/{stage}", fan_ids, PAYLOAD, timed, options, report)
    total, cpu = clock() - started, time.process_time() - cpu
    # The canonical URI each sender signs: the sent path, percent-encoded once more.
    base = quote(f"/{stage}/@connections/", safe="/~")
    canonical = {cid: base + quote(quote(cid, safe=""), safe="~") for cid in fan_ids}
    latencies = [report.delivered.times[cid] - timed.first[canonical[cid]] for cid in report.delivered]
    result["fanout"] = {
        "posts": FANOUT,
        "delivered": len(report.delivered),
        "gone": len(report.gone),
        "failed": len(report.failed),
        "failures": dict(list(report.failed.items())[:3]),
        "attempts": timed.attempts,
        "injected_expected": sum(injected_status(cid) != 200 for cid in fan_ids),
        "total": total,
        "cpu": cpu,
        "latency_p50": percentile(latencies, 0.50) if latencies else None,
        "latency_p99": percentile(latencies, 0.99) if latencies else None,
        "latency_max": max(latencies) if latencies else None,
    }
    print(json.dumps(result), flush=True)


# -------------------------------------------------------------- orchestrator


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process):
    """Stop one process we started, by its PID."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def machine():
    info = {
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
    with contextlib.suppress(Exception):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(Exception):
        import importlib.metadata as metadata

        info["aiohttp"] = metadata.version("aiohttp")
        info["botocore"] = metadata.version("botocore")
    return info


def _warm_rate(sample):
    return statistics.median(MULTICAST / s["elapsed"] for s in sample["multicasts"])


def _warm_cpu_ms(sample):
    return statistics.median(s["cpu"] for s in sample["multicasts"]) / MULTICAST * 1000


def _spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarise(runs, delay_ms):
    """Medians over runs (each run: the median of its warm multicasts), ranges, and
    the ratios to (a), taken within each run."""
    summary = {"delay_ms": delay_ms, "runs": len(runs), "senders": {}}
    for label, sender in SENDERS.items():
        samples = [run[sender] for run in runs]
        fan = [sample["fanout"] for sample in samples]
        summary["senders"][label] = {
            "sender": sender,
            "rate": _spread([_warm_rate(sample) for sample in samples]),
            "cpu_ms": _spread([_warm_cpu_ms(sample) for sample in samples]),
            "endpoint_cpu_ms": _spread(
                [
                    sample["endpoint_cpu"]
                    / (MULTICAST * (1 + len(sample["multicasts"])) + sample["fanout"]["attempts"])
                    * 1000
                    for sample in samples
                ]
            ),
            "cold_rate": _spread([MULTICAST / sample["cold"]["elapsed"] for sample in samples]),
            "cold_cpu_ms": _spread([sample["cold"]["cpu"] / MULTICAST * 1000 for sample in samples]),
            "rate_ratio_to_a": _spread([_warm_rate(run[sender]) / _warm_rate(run[SENDERS["a"]]) for run in runs]),
            "cpu_ratio_to_a": _spread([_warm_cpu_ms(run[sender]) / _warm_cpu_ms(run[SENDERS["a"]]) for run in runs]),
            "fanout_total_s": _spread([f["total"] for f in fan]),
            "fanout_p50_ms": _spread([f["latency_p50"] * 1000 for f in fan]),
            "fanout_p99_ms": _spread([f["latency_p99"] * 1000 for f in fan]),
            "fanout_cpu_ms": _spread([f["cpu"] / FANOUT * 1000 for f in fan]),
            "fanout_all_delivered": all(f["delivered"] == FANOUT and not f["failed"] and not f["gone"] for f in fan),
            "fanout_retries_equal_injected": all(f["attempts"] - FANOUT == f["injected_expected"] for f in fan),
            "fanout_injected": _spread([f["injected_expected"] for f in fan]),
            "multicasts_all_delivered": all(
                s["delivered"] == MULTICAST for sample in samples for s in [sample["cold"], *sample["multicasts"]]
            ),
        }
    ratio = summary["senders"]["b"]["rate_ratio_to_a"]["median"]
    summary["rate_ratio_b_over_a"] = ratio
    if "a2" in SENDERS:
        summary["b_over_a2"] = {
            "rate": _spread([_warm_rate(run[SENDERS["b"]]) / _warm_rate(run[SENDERS["a2"]]) for run in runs]),
            "cpu": _spread([_warm_cpu_ms(run[SENDERS["b"]]) / _warm_cpu_ms(run[SENDERS["a2"]]) for run in runs]),
        }
    summary["decision"] = "(b) the strict minimal client" if ratio >= 1.5 else "(a) aiohttp_sender"
    return summary


def markdown(summary, info, started):
    senders = summary["senders"]
    labels = list(SENDERS)
    names = {"a": "(a) aiohttp, trust_env", "a2": "(a') aiohttp, proxy per send", "b": "(b) strict minimal"}

    def cell(spread, fmt):
        return f"{fmt.format(spread['median'])} ({fmt.format(spread['min'])} to {fmt.format(spread['max'])})"

    def row(title, key, fmt):
        return f"| {title} | " + " | ".join(cell(senders[label][key], fmt) for label in labels) + " |"

    header = "| | " + " | ".join(names[label] for label in labels) + " |"
    rule = "| --- |" + " ---: |" * len(labels)
    b = senders["b"]
    lines = [
        f"Recorded {started} on {info.get('cpu', '?')} ({info['cores']} cores), Linux {info['kernel']}, "
        f"Python {info['python']}, aiohttp {info.get('aiohttp', '?')}. Endpoint: TLS, HTTP/1.1 keep-alive, answers "
        f"after {summary['delay_ms']:g} ms; sender concurrency {CONCURRENCY}. Medians of {summary['runs']} "
        f"interleaved runs (a run: the median of its warm multicasts), with the range over runs in brackets. "
        f"Load average {info.get('loadavg_start', '?')} at the start, {info.get('loadavg_end', '?')} at the end.",
        "",
        "**1,000-connection multicast** (over open connections)",
        "",
        header,
        rule,
        row("messages/s", "rate", "{:,.0f}"),
        row("messages/s, ratio to (a) within each run", "rate_ratio_to_a", "{:.2f}x"),
        row("sender CPU per message, ms", "cpu_ms", "{:.3f}"),
        row("sender CPU per message, ratio to (a)", "cpu_ratio_to_a", "{:.2f}"),
        row("endpoint CPU per request, ms", "endpoint_cpu_ms", "{:.3f}"),
        row("cold first send (opens 200 TLS connections): messages/s", "cold_rate", "{:,.0f}"),
        row("cold first send: sender CPU per message, ms", "cold_cpu_ms", "{:.3f}"),
        "",
        f"**10,000-post fan-out**, {INJECT_PERCENT}% of ids answered 429 and {INJECT_PERCENT}% answered 500 on "
        "their first attempt, 200 on the retry",
        "",
        header,
        rule,
        "| every post delivered, in every run | "
        + " | ".join("yes" if senders[label]["fanout_all_delivered"] else "NO" for label in labels)
        + " |",
        "| retries = injected failures, in every run | "
        + " | ".join("yes" if senders[label]["fanout_retries_equal_injected"] else "NO" for label in labels)
        + " |",
        row("per-post latency p50, ms", "fanout_p50_ms", "{:.1f}"),
        row("per-post latency p99, ms", "fanout_p99_ms", "{:.1f}"),
        row("total time, s", "fanout_total_s", "{:.2f}"),
        row("sender CPU per post, ms", "fanout_cpu_ms", "{:.3f}"),
        "",
        f"Rule (choose (a) unless (b) is at least 1.5x faster in messages/s of the multicast): (b)/(a) = "
        f"{b['rate_ratio_to_a']['median']:.2f}x (runs: {b['rate_ratio_to_a']['min']:.2f} to "
        f"{b['rate_ratio_to_a']['max']:.2f}) gives **{summary['decision']}**.",
    ]
    if "b_over_a2" in summary:
        versus = summary["b_over_a2"]
        lines.append(
            f"Against (a'): (b)/(a') = {cell(versus['rate'], '{:.2f}x')} in messages/s, "
            f"{cell(versus['cpu'], '{:.2f}')} in CPU per message."
        )
    return "\n".join(lines)


def resummarise(path):
    """Rebuild the summary and the table of a saved run (after a change to either)."""
    saved = json.loads(Path(path).read_text())
    saved["summary"] = summarise(saved["runs"], saved["summary"]["delay_ms"])
    saved["markdown"] = markdown(saved["summary"], saved["machine"], saved["recorded"])
    Path(path).write_text(json.dumps(saved, indent=1) + "\n")
    print(saved["markdown"])


def orchestrate(args):
    import trustme

    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    info = machine()
    info["loadavg_start"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    runs = []
    with tempfile.TemporaryDirectory(prefix="sender-tls-") as scratch:
        authority = trustme.CA()
        certificate = authority.issue_cert("127.0.0.1")
        cafile, certfile, keyfile = (Path(scratch) / name for name in ("ca.pem", "cert.pem", "key.pem"))
        authority.cert_pem.write_to_path(str(cafile))
        certificate.private_key_pem.write_to_path(str(keyfile))
        with certfile.open("wb") as handle:
            for blob in certificate.cert_chain_pems:
                handle.write(blob.bytes())
        port = free_port()
        endpoint = subprocess.Popen(  # noqa: S603 - our own script
            [sys.executable, __file__, "endpoint", "--port", str(port), "--certfile", str(certfile),
             "--keyfile", str(keyfile), "--delay-ms", str(args.delay_ms)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            if endpoint.stdout.readline().strip() != "ready":
                raise RuntimeError("the endpoint did not start")
            env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
            env["AWS_CA_BUNDLE"] = str(cafile)
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            url = f"https://127.0.0.1:{port}"
            for run in range(args.runs):
                # Each sender takes each place in the order in turn.
                order = list(SENDERS)[run % len(SENDERS) :] + list(SENDERS)[: run % len(SENDERS)]
                samples = {}
                for label in order:
                    sender = SENDERS[label]
                    endpoint_cpu = process_cpu_seconds(endpoint.pid)
                    done = subprocess.run(  # noqa: S603 - our own script
                        [sys.executable, __file__, "worker", "--sender", sender, "--endpoint", url,
                         "--warm", str(args.warm), "--run", str(run)],
                        env=env, capture_output=True, text=True, timeout=600,
                    )  # fmt: skip
                    if done.returncode != 0:
                        raise RuntimeError(f"{sender} failed:\n{done.stderr}")
                    samples[sender] = json.loads(done.stdout.strip().splitlines()[-1])
                    samples[sender]["endpoint_cpu"] = process_cpu_seconds(endpoint.pid) - endpoint_cpu
                    warm = samples[sender]["multicasts"]
                    print(
                        f"run {run + 1}/{args.runs} {sender:30s} "
                        f"{statistics.median(MULTICAST / s['elapsed'] for s in warm):7,.0f} msg/s  "
                        f"{statistics.median(s['cpu'] for s in warm) / MULTICAST * 1000:.3f} ms CPU/msg  "
                        f"fan-out {samples[sender]['fanout']['total']:.2f} s "
                        f"p99 {samples[sender]['fanout']['latency_p99'] * 1000:.1f} ms",
                        file=sys.stderr,
                        flush=True,
                    )
                runs.append(samples)
        finally:
            stop(endpoint)
    info["loadavg_end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    summary = summarise(runs, args.delay_ms)
    table = markdown(summary, info, started)
    RESULTS.mkdir(exist_ok=True)
    output = {"recorded": started, "machine": info, "summary": summary, "runs": runs, "markdown": table}
    Path(args.output).write_text(json.dumps(output, indent=1) + "\n")
    print(table)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    endpoint = sub.add_parser("endpoint")
    endpoint.add_argument("--port", type=int, required=True)
    endpoint.add_argument("--certfile", required=True)
    endpoint.add_argument("--keyfile", required=True)
    endpoint.add_argument("--delay-ms", type=float, default=20)
    worker = sub.add_parser("worker")
    worker.add_argument("--sender", choices=sorted(SENDERS.values()), required=True)
    worker.add_argument("--endpoint", required=True)
    worker.add_argument("--warm", type=int, default=5)
    worker.add_argument("--run", type=int, default=0)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warm", type=int, default=5)
    parser.add_argument("--delay-ms", type=float, default=20)
    parser.add_argument("--output", default=str(RESULTS / "sender_tls.json"))
    parser.add_argument("--resummarise", metavar="FILE", help="rebuild the summary and table of a saved run")
    args = parser.parse_args()
    if args.command == "endpoint":
        serve_endpoint(args.port, args.certfile, args.keyfile, args.delay_ms)
    elif args.command == "worker":
        run_worker(args)
    elif args.resummarise:
        resummarise(args.resummarise)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()

"""One implementation's side of the benchmark, run inside that implementation's venv.

The orchestrator (``run.py``) starts this script with the generated project's venv
for "ours" and the throwaway venv of the published package for "theirs"; both
import ``django_aws_api_gateway_websockets`` and run the same ``benchsite`` project.
Every command prints one JSON object on stdout.

    python impl_worker.py migrate
    python impl_worker.py queries
    python impl_worker.py seed --api-id ID --api-endpoint ws://127.0.0.1:P --stage S --groups FILE
    python impl_worker.py serve            # JSON lines on stdin: {"op": "send", "channel": ...}

Environment: BENCH_IMPL (ours|theirs), BENCH_DATABASE_URL, and for "theirs"
BENCH_GATEWAY_ORIGIN (see ``install_endpoint_shim``).
"""

import argparse
import json
import os
import re
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")

import django  # noqa: E402

django.setup()

from benchsite.secret import GATEWAY_SECRET  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_aws_api_gateway_websockets import models as ws_models  # noqa: E402

IMPL = settings.IMPL
API_ID = "benchapi01"
STAGE = "bench"


def emit(data):
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


# ----------------------------------------------------------------------- set-up


def create_gateway(api_id, api_endpoint, stage):
    """The ``ApiGateway`` row each implementation needs, built from its own fields."""
    common = {
        "api_name": f"bench {api_id}",
        "target_base_endpoint": "http://127.0.0.1:8000/ws/",
        "api_id": api_id,
        "api_endpoint": api_endpoint,
        "stage_name": stage,
        "default_channel_name": "default",
    }
    existing = ws_models.ApiGateway.objects.filter(api_id=api_id).first()
    if existing is not None:
        return existing
    if IMPL == "ours":
        return ws_models.ApiGateway.objects.create(api_created=True, **common)
    gateway = ws_models.ApiGateway(**common)
    gateway.save(push_to_aws=False)
    return gateway


def new_session(connection_id, channel, gateway):
    """An open session row; the published package's model has extra columns with defaults."""
    return ws_models.WebSocketSession(
        connection_id=connection_id, channel_name=channel, api_gateway=gateway, connected=True
    )


def command_migrate(_args):
    call_command("migrate", verbosity=0, interactive=False)
    emit({"ok": True})


def command_seed(args):
    """Create the ApiGateway row and one open session per connection id, by channel."""
    gateway = create_gateway(args.api_id, args.api_endpoint, args.stage)
    with open(args.groups) as handle:
        groups = json.load(handle)
    ws_models.WebSocketSession.objects.filter(channel_name__in=list(groups)).delete()
    rows = [new_session(cid, channel, gateway) for channel, ids in groups.items() for cid in ids]
    ws_models.WebSocketSession.objects.bulk_create(rows, batch_size=500)
    emit({"ok": True, "sessions": len(rows)})


# ---------------------------------------------------------------- query counts


def gateway_headers(connection_id, *, connect=False):
    """Headers that satisfy both packages' checks (the published one also wants
    ``X-Real-Ip``, ``Cookie``, ``Origin`` and ``Sec-WebSocket-Extensions``)."""
    headers = {
        "Host": "testserver",
        "User-Agent": f"AmazonAPIGateway_{API_ID}",
        "X-Amzn-Apigateway-Api-Id": API_ID,
        "X-Amzn-Trace-Id": "Root=1-67891233-abcdef012345678912345678",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        "X-Real-Ip": "203.0.113.7",
        "Connectionid": connection_id,
        # Ours refuses a call without API Gateway's shared secret; the published package ignores it.
        "X-Gateway-Secret": GATEWAY_SECRET,
    }
    if connect:
        headers.update(
            {
                "Origin": "http://testserver",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
            }
        )
    return headers


BINDING = "bench-browser-binding-cookie-value"


def issue_token(user, session_key):
    """A token for ``user``'s login session, and the cookies its browser then holds."""
    if IMPL == "ours":
        from django_aws_api_gateway_websockets.conf import ws_setting

        token = ws_models.WebSocketToken.objects.issue(user, session_key, BINDING)[0]
        return token, f"; {ws_setting('BINDING_COOKIE_NAME')}={BINDING}"
    return ws_models.WebSocketToken.generate_token(user=user, session_key=session_key).token, ""


def counted(client, path, body, headers, cookie=None):
    """POST through the whole middleware stack; the queries it ran and its status."""
    if cookie is not None:
        headers = {**headers, "Cookie": cookie}
    with CaptureQueriesContext(connection) as captured:
        # CONTENT_LENGTH even for an empty body, as API Gateway sends it.
        response = client.post(
            path, data=body, content_type="application/json", headers=headers, CONTENT_LENGTH=str(len(body))
        )
    return {"queries": len(captured), "status": response.status_code, "sql": [q["sql"][:300] for q in captured]}


def command_queries(_args):
    """SQL statements per $connect (without and with a token), message and $disconnect."""
    create_gateway(API_ID, "ws://127.0.0.1:9/", STAGE)
    ws_models.WebSocketSession.objects.all().delete()
    ws_models.ConnectionRateLimit.objects.all().delete()
    user = get_user_model().objects.filter(username="bench").first() or get_user_model().objects.create_user(
        "bench",
        password="bench-password",  # noqa: S106
    )
    results = {}
    # A fresh client per request: no cookie jar carried between the "gateway's" calls.
    anonymous = Client(enforce_csrf_checks=False)
    results["connect_without_token"] = counted(
        anonymous, "/ws/connect", b"", gateway_headers("QryNoTok0000001=", connect=True), cookie="theme=dark"
    )
    browser = Client()
    browser.force_login(user)
    session_key = browser.session.session_key
    token, binding = issue_token(user, session_key)
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}{binding}"
    results["connect_with_token"] = counted(
        Client(),
        f"/ws-token/connect?ws_token={token}",
        b"",
        gateway_headers("QryWithTok00001=", connect=True),
        cookie=cookie,
    )
    message = json.dumps({"action": "bench", "text": "hello"}).encode()
    results["message_anonymous"] = counted(Client(), "/ws/default", message, gateway_headers("QryNoTok0000001="))
    results["message_with_user"] = counted(Client(), "/ws/default", message, gateway_headers("QryWithTok00001="))
    reads_user = json.dumps({"action": "bench_user", "text": "hello"}).encode()
    results["message_reading_user"] = counted(Client(), "/ws/default", reads_user, gateway_headers("QryWithTok00001="))
    results["disconnect"] = counted(Client(), "/ws/disconnect", b"", gateway_headers("QryNoTok0000001="))
    for name, result in results.items():
        if result["status"] >= 300:
            raise SystemExit(f"{IMPL}: {name} answered {result['status']}: {json.dumps(result)}")
    emit({"ok": True, "vendor": connection.vendor, "results": results})


# ------------------------------------------------------------------- fan-out


def install_endpoint_shim():
    """Point the published package's management-API clients at the local gateway.

    It builds ``https://<api id>.execute-api.<region>.amazonaws.com/<stage>`` and
    passes it to ``models.get_boto3_client``; this wrapper replaces only the scheme
    and host of that one argument with BENCH_GATEWAY_ORIGIN. Nothing else changes:
    same client cache, config, thread pool and retries.
    """
    origin = os.environ["BENCH_GATEWAY_ORIGIN"].rstrip("/")
    original = ws_models.get_boto3_client
    aws_host = re.compile(r"^https://[^/]+")

    def get_boto3_client(service="apigatewayv2", **kwargs):
        if "endpoint_url" in kwargs:
            kwargs["endpoint_url"] = aws_host.sub(origin, kwargs["endpoint_url"])
        return original(service, **kwargs)

    ws_models.get_boto3_client = get_boto3_client


def delivered_count(report):
    if IMPL == "ours":
        return len(report.delivered), {"gone": len(report.gone), "failed": len(report.failed)}
    return len(report), {}


def command_serve(_args):
    """Answer send requests from stdin until it closes; one JSON line each."""
    if IMPL == "theirs":
        install_endpoint_shim()
    payload = {"type": "bench", "text": "x" * 64}
    emit({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] != "send":
            emit({"error": f"unknown op {request['op']!r}"})
            continue
        queryset = ws_models.WebSocketSession.objects.filter(channel_name=request["channel"])
        started, cpu_started = time.perf_counter(), time.process_time()
        report = queryset.send_message({**payload, "seq": request.get("seq", 0)})
        # process_time counts every thread of this process: the sender's own CPU.
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        delivered, extra = delivered_count(report)
        emit({"elapsed": elapsed, "cpu": cpu, "delivered": delivered, **extra})


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate")
    commands.add_parser("queries")
    commands.add_parser("serve")
    seed = commands.add_parser("seed")
    seed.add_argument("--api-id", default=API_ID)
    seed.add_argument("--api-endpoint", required=True)
    seed.add_argument("--stage", default=STAGE)
    seed.add_argument("--groups", required=True, help="JSON file: {channel: [connection ids]}")
    args = parser.parse_args()
    {"migrate": command_migrate, "queries": command_queries, "serve": command_serve, "seed": command_seed}[
        args.command
    ](args)


if __name__ == "__main__":
    main()

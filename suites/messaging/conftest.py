"""A loopback stand-in for API Gateway's management API, for sending tests.

It answers ``POST /<stage>/@connections/<id>`` the way AWS does on the wire, checks
every request's SigV4 signature with botocore, and can be told to answer particular
connection ids with 410, 429 or 500, or to answer slowly. It runs on 127.0.0.1 in a
thread of the test process and stops when the test ends.
"""

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import unquote

import pytest
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.utils import timezone

from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession

ACCESS_KEY = "test-key-id"
SECRET_KEY = "test-secret-key"


@dataclass
class Behaviour:
    gone: set = field(default_factory=set)
    throttle_times: dict = field(default_factory=dict)  # connection id -> how many 429s before success
    fail_with: dict = field(default_factory=dict)  # connection id -> (status, error type)
    delay_seconds: float = 0.0


class ManagementApiStub:
    def __init__(self, stage="production", region="eu-west-1"):
        self.stage = stage
        self.region = region
        self.behaviour = Behaviour()
        self.received = []  # (connection id, body bytes)
        self.attempts = {}
        self.bad_signatures = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.port = None

    def _signature_ok(self, request, body):
        authorization = request.headers.get("Authorization", "")
        amz_date = request.headers.get("X-Amz-Date", "")
        url = f"http://{request.host}{request.raw_path}"
        aws_request = AWSRequest(method=request.method, url=url, data=body, headers={"X-Amz-Date": amz_date})
        aws_request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "execute-api", self.region)
        aws_request.headers["host"] = request.host
        expected = signer.signature(
            signer.string_to_sign(aws_request, signer.canonical_request(aws_request)), aws_request
        )
        return authorization.endswith(f"Signature={expected}") and "SignedHeaders=host;x-amz-date" in authorization

    async def handle(self, request):
        connection_id = unquote(request.match_info["connection_id"])
        body = await request.read()
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.attempts[connection_id] = self.attempts.get(connection_id, 0) + 1
            attempt = self.attempts[connection_id]
        try:
            if not self._signature_ok(request, body):
                self.bad_signatures += 1
                return self._error(403, "ForbiddenException", "Forbidden")
            if self.behaviour.delay_seconds:
                await asyncio.sleep(self.behaviour.delay_seconds)
            if connection_id in self.behaviour.gone:
                return self._error(410, "GoneException", "")
            if attempt <= self.behaviour.throttle_times.get(connection_id, 0):
                return self._error(429, "LimitExceededException", "Rate exceeded")
            if connection_id in self.behaviour.fail_with:
                status, error_type = self.behaviour.fail_with[connection_id]
                return self._error(status, error_type, "failure")
            with self._lock:
                self.received.append((connection_id, body))
            return web.Response(status=200)
        finally:
            with self._lock:
                self.in_flight -= 1

    @staticmethod
    def _error(status, error_type, message):
        return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": error_type})

    def received_ids(self):
        return sorted(connection_id for connection_id, _ in self.received)


@pytest.fixture
def management_api():
    """Start one stub; yields a factory so a test can start several."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runners = []

    def start(stage="production"):
        stub = ManagementApiStub(stage=stage)
        app = web.Application()
        app.router.add_post(f"/{stage}/@connections/" + "{connection_id}", stub.handle)
        runner = web.AppRunner(app, access_log=None)

        async def serve():
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            return site._server.sockets[0].getsockname()[1]

        stub.port = asyncio.run_coroutine_threadsafe(serve(), loop).result(10)
        runners.append(runner)
        return stub

    yield start
    for runner in runners:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def aws_settings(settings):
    settings.AWS_GATEWAY_REGION_NAME = "eu-west-1"
    settings.AWS_IAM_PROFILE = None
    settings.AWS_ACCESS_KEY_ID = ACCESS_KEY
    settings.AWS_SECRET_ACCESS_KEY = SECRET_KEY
    return settings


def make_gateway(stub, name="local"):
    return ApiGateway.objects.create(
        api_name=name,
        target_base_endpoint="http://127.0.0.1:8000/ws/",
        api_id=f"api{stub.port}",
        api_endpoint=f"ws://127.0.0.1:{stub.port}",
        stage_name=stub.stage,
        api_created=True,
    )


def make_sessions(gateway, count, channel="general", user=None, prefix="conn", age_seconds=60):
    """``count`` connected sessions, opened ``age_seconds`` ago (settled connections)."""
    sessions = WebSocketSession.objects.bulk_create(
        WebSocketSession(connection_id=f"{prefix}{index:05d}=", channel_name=channel, api_gateway=gateway, user=user)
        for index in range(count)
    )
    opened = timezone.now() - timedelta(seconds=age_seconds)
    WebSocketSession.objects.filter(pk__in=[session.pk for session in sessions]).update(created_on=opened)
    return sessions

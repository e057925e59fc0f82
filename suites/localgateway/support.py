"""Real peers for the local gateway tests: an HTTP integration server and boto3 clients.

Everything listens on 127.0.0.1 on a free port and stops when the test ends.
"""

import asyncio
import base64
import os
import struct
import threading
import time
from dataclasses import dataclass, field

import aiohttp
import boto3
from aiohttp import web

from localgateway.config import GatewayConfig
from localgateway.threaded import ThreadedGateway

REGION = "eu-west-1"
# Long enough for a loaded CI machine; only reached when a test is about to fail.
WAIT_SECONDS = 10


@dataclass
class RecordedRequest:
    method: str
    path: str
    query_string: str
    headers: dict
    body: str


@dataclass
class Behaviour:
    status: int = 200
    body: str = ""
    delay: float = 0.0
    headers: dict = field(default_factory=dict)


class IntegrationServer:
    """A stand-in for Django: records every request, answers as told per path."""

    def __init__(self):
        self.requests = []
        # The paths of the requests answered so far, in the order their answers went out.
        self.answered = []
        self.behaviours = {}
        self._condition = threading.Condition()
        self._loop = None
        self._runner = None
        self.port = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def respond(self, path, status=200, body="", delay=0.0, headers=None):
        """How to answer POSTs to ``path`` from now on."""
        self.behaviours[path] = Behaviour(status, body, delay, headers or {})

    async def _handle(self, request):
        body = await request.text()
        recorded = RecordedRequest(request.method, request.path, request.query_string, dict(request.headers), body)
        with self._condition:
            self.requests.append(recorded)
            self._condition.notify_all()
        behaviour = self.behaviours.get(request.path, Behaviour())
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        answer = behaviour.body.replace("[body]", body)
        with self._condition:
            self.answered.append(request.path)
        return web.Response(status=behaviour.status, text=answer, headers=behaviour.headers)

    def requests_to(self, path):
        with self._condition:
            return [r for r in self.requests if r.path == path]

    def wait_for(self, path, count=1):
        """The requests to ``path`` once there are ``count`` of them."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self._condition:
            while True:
                matching = [r for r in self.requests if r.path == path]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} request(s) to {path}, got {len(matching)}")
                self._condition.wait(remaining)

    def start(self):
        ready = threading.Event()

        def serve():
            self._loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = self._runner.addresses[0][1]
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="integration-server", daemon=True)
        self._thread.start()
        ready.wait(WAIT_SECONDS)
        return self

    def stop(self):
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(WAIT_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(WAIT_SECONDS)


def gateway_config(**overrides):
    """AWS's limits, but short waits for closing and $disconnect."""
    values = {"disconnect_timeout_seconds": 5.0, "close_timeout_seconds": 2.0, "max_page_size": 100}
    values.update(overrides)
    return GatewayConfig(**values)


def start_gateway(**overrides):
    return ThreadedGateway(gateway_config(**overrides)).start()


def control_client(gateway):
    return boto3.client(
        "apigatewayv2",
        endpoint_url=gateway.url,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def management_client(gateway, stage="production"):
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=gateway.management_url(stage),
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def deploy_websocket_api(
    client,
    integration_base,
    stage="production",
    extra_routes=(),
    selection_expression="$request.body.action",
    with_default=True,
    timeout_ms=None,
):
    """Create and deploy a WebSocket API the way the provisioning code does.

    ``extra_routes`` are ``(route_key, path)`` pairs; integration URIs are
    ``integration_base + path``. Returns the API id.
    """
    api_id = client.create_api(Name="test", ProtocolType="WEBSOCKET", RouteSelectionExpression=selection_expression)[
        "ApiId"
    ]
    routes = [("$connect", "/ws/connect", False), ("$disconnect", "/ws/disconnect", False)]
    if with_default:
        routes.append(("$default", "/ws/default", True))
    routes += [(key, path, True) for key, path in extra_routes]
    for key, path, two_way in routes:
        add_route(client, api_id, key, integration_base + path, two_way=two_way, timeout_ms=timeout_ms)
    client.create_stage(ApiId=api_id, StageName=stage)
    client.create_deployment(ApiId=api_id, StageName=stage)
    return api_id


def add_route(client, api_id, route_key, uri, two_way=True, timeout_ms=None):
    """An HTTP_PROXY integration posting to ``uri`` and the route that targets it (not deployed).

    A two-way route sends the integration's answer back to the client, as the
    provisioning code sets up every route but ``$connect`` and ``$disconnect``.
    """
    params = {
        "ApiId": api_id,
        "IntegrationType": "HTTP_PROXY",
        "IntegrationMethod": "POST",
        "IntegrationUri": uri,
        "RequestParameters": {"integration.request.header.connectionId": "context.connectionId"},
    }
    if timeout_ms:
        params["TimeoutInMillis"] = timeout_ms
    integration = client.create_integration(**params)
    route_params = {"ApiId": api_id, "RouteKey": route_key, "Target": "integrations/" + integration["IntegrationId"]}
    if two_way:
        route_params["RouteResponseSelectionExpression"] = "$default"
    route = client.create_route(**route_params)
    if two_way:
        client.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")


def run(coroutine):
    """Run a client scenario on a fresh event loop in the test's thread."""
    return asyncio.run(coroutine)


def talk(gateway, conversation, query="", **connect_options):
    """Open a socket to the production stage, return what ``await conversation(websocket)`` returns.

    ``connect_options`` go to aiohttp's ``ws_connect`` (headers, protocols). The socket
    and its session are closed afterwards, also when the conversation fails; a refused
    handshake raises ``aiohttp.WSServerHandshakeError``.
    """

    async def scenario():
        url = gateway.websocket_url("production") + query
        async with aiohttp.ClientSession() as session, session.ws_connect(url, **connect_options) as websocket:
            return await conversation(websocket)

    return run(scenario())


async def _say_nothing(websocket):
    pass


def connect_and_close(gateway, query="", **connect_options):
    """Open a socket and close it at once: the integration sees only $connect and $disconnect."""
    talk(gateway, _say_nothing, query, **connect_options)


def exchange(gateway, *texts, query="", **connect_options):
    """Send each text in turn over one socket, waiting for its reply; the replies, in order."""

    async def conversation(websocket):
        return [await ask(websocket, text) for text in texts]

    return talk(gateway, conversation, query, **connect_options)


async def ask(websocket, text):
    """Send ``text`` and return the text message that comes back."""
    await websocket.send_str(text)
    return await receive_text(websocket)


async def receive_text(websocket):
    message = await websocket.receive(timeout=WAIT_SECONDS)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return message.data


def client_frame(opcode, payload, fin=True):
    """One WebSocket frame as a client must send it (masked, RFC 6455 section 5.2)."""
    first = (0x80 if fin else 0) | opcode
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", first, 0x80 | size)
    elif size < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, size)
    mask = os.urandom(4)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawWebSocket:
    """A bare WebSocket client that sends frames exactly as told (fragments, sizes).

    aiohttp's client always sends one frame per message; the frame-size tests need
    to send fragmented messages and oversized single frames.
    """

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port, path):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        status_line = await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        if b" 101 " not in status_line:
            raise AssertionError(f"handshake failed: {status_line!r}")
        return cls(reader, writer)

    async def send_frame(self, opcode, payload, fin=True):
        self.writer.write(client_frame(opcode, payload, fin))
        await self.writer.drain()

    async def send_fragmented_text(self, text, frame_size):
        data = text.encode()
        chunks = [data[i : i + frame_size] for i in range(0, len(data), frame_size)]
        for index, chunk in enumerate(chunks):
            await self.send_frame(0x1 if index == 0 else 0x0, chunk, fin=index == len(chunks) - 1)

    async def read_frame(self):
        """(opcode, payload) of the next frame from the server."""
        first, second = await asyncio.wait_for(self.reader.readexactly(2), WAIT_SECONDS)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        return first & 0x0F, await self.reader.readexactly(size)

    async def read_close_code(self):
        """Read frames until the server's close frame; return its code."""
        while True:
            opcode, payload = await self.read_frame()
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0]

    async def close(self):
        self.writer.close()
        await self.writer.wait_closed()

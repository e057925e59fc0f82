"""The data plane: WebSocket clients at ``/<stage>`` and the integration calls they cause.

Lifecycle of one connection, as on AWS:

1. The handshake waits for the ``$connect`` integration; a 2xx answer completes it,
   anything else refuses it with that status (502 if the integration is unreachable,
   504 if it timed out).
2. Each text message is routed with the API's route selection expression (falling
   back to ``$default``) and POSTed to that route's integration. A two-way route
   sends a non-empty answer back as one text frame. No route at all gives AWS's
   ``{"message": "Forbidden", ...}`` frame; a failed integration its
   ``{"message": "Internal server error", ...}`` frame.
3. ``$disconnect`` is POSTed after the socket closed, however it closed: by the
   client, by ``DELETE @connections``, after the idle timeout or the maximum
   connection time, on a limit violation (1009 oversize, 1003 binary), when its stage
   or API is deleted, or at shutdown.

Routes and integrations are read from the stage's current deployment at each event,
so a new deployment applies to connections that are already open.
"""

import asyncio
import json
import logging
import time
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from . import frame_guard
from .connections import Connection
from .integration import ClientRequestData, EventContext, invoke, missing_required_parameters
from .route_selection import select_route_key
from .runtime import GATEWAY
from .state import aws_style_request_id

logger = logging.getLogger(__name__)

CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_MESSAGE_TOO_BIG = 1009


def _forbidden():
    return web.json_response({"message": "Forbidden"}, status=403)


async def handle_client(request):
    """``GET /<stage>``, or ``GET /`` on a custom domain: a WebSocket client connecting."""
    gateway = request.app[GATEWAY]
    served = gateway.state.resolve(request.match_info.get("stage"), request.host)
    if served is None:
        logger.info("Refused a connection to %s: nothing is deployed there", request.url)
        return _forbidden()
    with gateway.serving_client():
        return await _serve(request, gateway, served)


def _event_context(
    request, gateway, connection_id, api_id, stage, route_key, event_type, connected_at_ms, message_id=""
):
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    port = str(sockname[1]) if sockname else str(request.url.port or "")
    return EventContext(
        api_id=api_id,
        stage=stage,
        connection_id=connection_id,
        request_id=aws_style_request_id(),
        route_key=route_key,
        event_type=event_type,
        source_ip=request.remote or "",
        user_agent=request.headers.get("User-Agent", ""),
        domain_name=request.host.split(":", 1)[0],
        forwarded_port=port,
        connected_at_ms=connected_at_ms,
        message_id=message_id,
        stage_variables=gateway.state.stage_variables(api_id, stage),
    )


async def _serve(request, gateway, served):
    config = gateway.config
    api_id, stage, snapshot = served
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return web.json_response({"message": "Upgrade Required"}, status=426)
    connection_id = aws_style_request_id()
    loop = asyncio.get_running_loop()
    connected_at_ms = int(time.time() * 1000)
    client = ClientRequestData(
        headers=dict(request.headers), query_string=request.query_string, query=dict(request.query)
    )

    probe = web.WebSocketResponse()
    if not probe.can_prepare(request).ok:
        logger.info("Refused a connection to /%s: not a valid WebSocket handshake", stage)
        return web.json_response({"message": "Bad Request"}, status=400)

    connect_route = snapshot.routes.get("$connect")
    subprotocols = ()
    if connect_route is not None and connect_route.integration is not None:
        missing = missing_required_parameters(connect_route.request_parameters, client)
        if missing:
            logger.info("Refused a connection to /%s: required %s missing", stage, ", ".join(missing))
            return web.json_response({"message": "Bad Request"}, status=400)
        context = _event_context(request, gateway, connection_id, api_id, stage, "$connect", "CONNECT", connected_at_ms)
        result = await invoke(
            gateway.http, connect_route.integration, context, client=client, declared=connect_route.request_parameters
        )
        if not result.ok:
            return _refusal(stage, connection_id, result)
        chosen = (result.headers or {}).get("Sec-WebSocket-Protocol")
        if chosen:
            subprotocols = (chosen,)

    websocket = web.WebSocketResponse(
        protocols=subprotocols,
        # aiohttp refuses a message whose size is >= max_msg_size; AWS allows exactly 128 KB.
        max_msg_size=config.max_message_bytes + 1,
        compress=False,
        autoping=True,
        heartbeat=None,
        timeout=config.close_timeout_seconds,
    )
    try:
        await websocket.prepare(request)
    except ConnectionError:
        # The client left while $connect was running: the integration accepted a
        # connection that never opened, so it gets its $disconnect as on AWS.
        logger.info("Connection %s: the client left during $connect", connection_id)
        gone = _GoneClient(connection_id, api_id, stage, snapshot)
        await _deliver_disconnect(request, gateway, gone, connected_at_ms)
        raise
    connection = Connection(
        connection_id=connection_id,
        api_id=api_id,
        stage=stage,
        websocket=websocket,
        source_ip=request.remote or "",
        user_agent=request.headers.get("User-Agent", ""),
        snapshot=snapshot,
        connected_monotonic=loop.time(),
        last_active_monotonic=loop.time(),
    )
    frame_guard.install(
        request,
        config.max_frame_bytes,
        lambda size: gateway.close_soon(connection, CLOSE_MESSAGE_TOO_BIG, "Frame too big"),
    )
    gateway.connections.add(connection)
    logger.info("Connection %s opened on /%s (API %s)", connection_id, stage, api_id)
    watchdog = loop.create_task(_watch_limits(gateway, connection))
    try:
        await _receive_messages(request, gateway, connection, connected_at_ms)
    finally:
        gateway.connections.remove(connection)
        watchdog.cancel()
        if connection.close_task is not None:
            await asyncio.wait([connection.close_task], timeout=config.close_timeout_seconds)
        close_code = websocket.close_code
        logger.info(
            "Connection %s closed (code %s%s)",
            connection_id,
            close_code,
            f", {connection.close_reason}" if connection.close_reason else "",
        )
        await _deliver_disconnect(request, gateway, connection, connected_at_ms)
    return websocket


@dataclass(frozen=True)
class _GoneClient:
    """Enough of a Connection to address the $disconnect of a socket that never opened."""

    connection_id: str
    api_id: str
    stage: str
    snapshot: object


def _refusal(stage, connection_id, result):
    if result.failure == "timeout":
        status, reason = 504, "the $connect integration timed out"
    elif result.status is None:
        status, reason = 502, "the $connect integration could not be reached"
    elif 300 <= result.status <= 599:
        status, reason = result.status, f"the $connect integration answered {result.status}"
    else:
        status, reason = 502, f"the $connect integration answered {result.status}"
    logger.info("Refused connection %s to /%s: %s", connection_id, stage, reason)
    return web.json_response({"message": "Connection refused: " + reason}, status=status)


async def _receive_messages(request, gateway, connection, connected_at_ms):
    websocket = connection.websocket
    async for message in websocket:
        if message.type == WSMsgType.TEXT:
            if connection.closing:
                continue
            connection.touch()
            gateway.spawn(_route_message(request, gateway, connection, message.data, connected_at_ms))
        elif message.type == WSMsgType.BINARY:
            logger.info("Closing connection %s: binary frames are not supported", connection.connection_id)
            gateway.close_soon(connection, CLOSE_UNSUPPORTED_DATA, "Binary frames are not supported")
        elif message.type == WSMsgType.ERROR:
            # aiohttp already closed the socket (e.g. 1009 for a message over the limit).
            connection.close_reason = str(websocket.exception() or "protocol error")
            logger.info(
                "Connection %s closed by a protocol error: %s", connection.connection_id, connection.close_reason
            )
            break


async def _route_message(request, gateway, connection, text, connected_at_ms):
    """Deliver one message; a bug on the way still answers the client, never drops it."""
    try:
        await _deliver_message(request, gateway, connection, text, connected_at_ms)
    except Exception:
        logger.exception("Connection %s: a message could not be delivered", connection.connection_id)
        await _send_gateway_error(connection, "Internal server error", aws_style_request_id())


async def _deliver_message(request, gateway, connection, text, connected_at_ms):
    snapshot = gateway.state.live_snapshot(connection.api_id, connection.stage)
    routes = snapshot.routes if snapshot else {}
    selected = select_route_key(snapshot.route_selection_expression, text) if snapshot else None
    route = None
    if selected and selected not in ("$connect", "$disconnect"):
        route = routes.get(selected)
    if route is None:
        route = routes.get("$default")
    context = _event_context(
        request,
        gateway,
        connection.connection_id,
        connection.api_id,
        connection.stage,
        route.route_key if route else (selected or "$default"),
        "MESSAGE",
        connected_at_ms,
        message_id=aws_style_request_id(),
    )
    if route is None or route.integration is None:
        logger.info(
            "Connection %s: no route for key %r and no $default route", connection.connection_id, selected or ""
        )
        await _send_gateway_error(connection, "Forbidden", context.request_id)
        return
    result = await invoke(gateway.http, route.integration, context, body=text.encode("utf-8"))
    if result.status is None:
        await _send_gateway_error(connection, "Internal server error", context.request_id)
        return
    if route.two_way and result.body:
        await connection.send(result.body)


async def _send_gateway_error(connection, message, request_id):
    frame = json.dumps({"message": message, "connectionId": connection.connection_id, "requestId": request_id})
    await connection.send(frame.encode())


async def _watch_limits(gateway, connection):
    """Close the socket after the idle timeout or the maximum connection time."""
    config = gateway.config
    loop = asyncio.get_running_loop()
    while not connection.closing:
        idle_deadline = connection.last_active_monotonic + config.idle_timeout_seconds
        lifetime_deadline = connection.connected_monotonic + config.max_connection_seconds
        now = loop.time()
        if now >= lifetime_deadline:
            reason = "Maximum connection time reached"
        elif now >= idle_deadline:
            reason = "Idle timeout"
        else:
            await asyncio.sleep(min(idle_deadline, lifetime_deadline) - now)
            continue
        logger.info("Closing connection %s: %s", connection.connection_id, reason.lower())
        gateway.close_soon(connection, CLOSE_GOING_AWAY, reason)
        return


async def _deliver_disconnect(request, gateway, connection, connected_at_ms):
    """POST $disconnect to the currently deployed integration (best effort).

    Once the stage or its API is deleted nothing is deployed there any more; the
    deployment the socket was opened with still says where $disconnect goes.
    """
    snapshot = gateway.state.live_snapshot(connection.api_id, connection.stage) or connection.snapshot
    route = snapshot.routes.get("$disconnect") if snapshot else None
    if route is None or route.integration is None:
        return
    context = _event_context(
        request,
        gateway,
        connection.connection_id,
        connection.api_id,
        connection.stage,
        "$disconnect",
        "DISCONNECT",
        connected_at_ms,
    )
    call = invoke(gateway.http, route.integration, context)
    try:
        result = await asyncio.wait_for(call, timeout=gateway.config.disconnect_timeout_seconds)
    except TimeoutError:
        logger.warning("$disconnect for %s took too long; given up", connection.connection_id)
        return
    if not result.ok:
        logger.info(
            "$disconnect for %s answered %s%s",
            connection.connection_id,
            result.status,
            f" ({result.failure})" if result.failure else "",
        )

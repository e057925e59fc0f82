"""Build the gateway's aiohttp application and run it.

URL scheme of one local gateway (``http://127.0.0.1:<port>``)::

    GET  ws://127.0.0.1:<port>/<stage>                 WebSocket clients (data plane)
    POST|GET|DELETE /<stage>/@connections/<id>         management API
    /v2/...                                            apigatewayv2 control plane
    /2013-04-01/...                                    Route 53 (record sets only)
    GET  /@local/health                                {"status": "ok", ...}
    GET|POST|DELETE /@local/faults                     fault injection (--fault-endpoint)

Anything else answers 403 ``{"message": "Forbidden"}``, as API Gateway does.
"""

import json
import logging

from aiohttp import web

from . import control_plane, data_plane, management_api, route53
from .config import GatewayConfig
from .faults import FaultRule
from .runtime import GATEWAY, Gateway

logger = logging.getLogger(__name__)


def create_app(config=None, state=None):
    """The aiohttp application of one local gateway.

    ``config`` (a :class:`GatewayConfig`) sets the limits; ``state`` lets a caller
    share or pre-fill a :class:`~.state.GatewayState`. ``app[GATEWAY]`` is the
    running :class:`~.runtime.Gateway` (state, open connections, faults).
    """
    gateway = Gateway(config or GatewayConfig(), state)
    if state is None:
        gateway.state.load()
    app = web.Application(client_max_size=1024 * 1024)
    app[GATEWAY] = gateway
    app.on_startup.append(gateway.start)
    app.on_shutdown.append(gateway.close_all_connections)
    app.on_cleanup.append(gateway.stop)

    app.router.add_routes(control_plane.routes)
    app.router.add_routes(route53.routes)
    app.router.add_get("/@local/health", local_health)
    app.router.add_route("*", "/@local/faults", local_faults)
    # Without a stage in the path the request is on a custom domain: its Host decides.
    app.router.add_route("*", "/{stage}/@connections/{connection_id}", management_api.handle_connections)
    app.router.add_route("*", "/@connections/{connection_id}", management_api.handle_connections)
    app.router.add_get("/", data_plane.handle_client)
    app.router.add_get("/{stage}", data_plane.handle_client)
    app.router.add_route("*", "/{tail:.*}", forbidden)
    return app


async def forbidden(request):
    logger.info("Refused %s %s: nothing is served there", request.method, request.path)
    return web.json_response({"message": "Forbidden"}, status=403)


async def local_health(request):
    gateway = request.app[GATEWAY]
    return web.json_response({"status": "ok", "apis": len(gateway.state.apis), "connections": len(gateway.connections)})


async def local_faults(request):
    """Add (POST), list (GET) or clear (DELETE) fault rules; see ``faults.py``."""
    gateway = request.app[GATEWAY]
    if not gateway.config.enable_fault_endpoint:
        return await forbidden(request)
    if request.method == "GET":
        return web.json_response({"rules": gateway.faults.describe()})
    if request.method == "DELETE":
        gateway.faults.clear()
        return web.Response(status=204)
    if request.method != "POST":
        return web.json_response({"message": "Use GET, POST or DELETE"}, status=405)
    try:
        data = json.loads(await request.read())
        if not isinstance(data, dict):
            raise TypeError("expected a JSON object")
        rule = gateway.faults.add(FaultRule(**data))
    except (ValueError, TypeError) as exc:
        logger.info("Refused a fault rule: %s", exc)
        return web.json_response({"message": f"Invalid fault rule: {exc}"}, status=400)
    logger.info("Fault rule added: %s", rule)
    return web.json_response({"rules": gateway.faults.describe()}, status=201)


def run(config, host="127.0.0.1", port=8001, banner=print):
    """Serve until SIGINT/SIGTERM; open sockets are closed and get their $disconnect."""
    app = create_app(config)

    def announce(_text):
        banner(
            f"Local API Gateway on http://{host}:{port} (development only, not a production server)\n"
            f"  WebSocket clients: ws://{host}:{port}/<stage>\n"
            f"  Management API:    http://{host}:{port}/<stage>/@connections/<connection id>\n"
            f"  Control plane:     http://{host}:{port}/v2/apis"
        )

    web.run_app(
        app,
        host=host,
        port=port,
        print=announce,
        access_log=None,
        shutdown_timeout=config.disconnect_timeout_seconds + config.close_timeout_seconds,
        handle_signals=True,
    )

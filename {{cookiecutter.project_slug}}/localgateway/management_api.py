"""The management API: ``POST|GET|DELETE /<stage>/@connections/<connection id>``.

Answers like AWS on the wire so an unmodified boto3 ``apigatewaymanagementapi``
client (``endpoint_url="http://127.0.0.1:<port>/<stage>"``) works: POST sends the
body to the client as one frame (200, empty body), GET describes the connection
(200 JSON), DELETE closes it (204) and the gateway then delivers ``$disconnect``.
Errors carry ``x-amzn-ErrorType`` so botocore raises the modelled exceptions
(``client.exceptions.GoneException`` for a closed or unknown id).

On a custom domain the path has no stage: ``/@connections/<id>``.
"""

import logging

from aiohttp import web

from .errors import aws_error_response
from .runtime import GATEWAY
from .signing import signed_for
from .state import iso8601

logger = logging.getLogger(__name__)

OPERATIONS = {"POST": "PostToConnection", "GET": "GetConnection", "DELETE": "DeleteConnection"}
# PostToConnection's Data is capped at 128 KiB in the service model.
MAX_POST_BYTES = 131072


def _forbidden(message="Forbidden"):
    return aws_error_response(403, "ForbiddenException", message)


def _gone(connection_id):
    return aws_error_response(410, "GoneException", f"The connection {connection_id} is gone.")


async def handle_connections(request):
    """``/<stage>/@connections/<id>``, or ``/@connections/<id>`` on a custom domain."""
    gateway = request.app[GATEWAY]
    served = gateway.state.resolve(request.match_info.get("stage"), request.host)
    if served is None:
        logger.info("Management API: refused %s %s: nothing is deployed there", request.method, request.url)
        return _forbidden()
    return await _handle(request, gateway, served.api_id, served.stage)


async def _handle(request, gateway, api_id, stage):
    operation = OPERATIONS.get(request.method)
    if operation is None:
        return _forbidden()
    if gateway.config.require_signature and not signed_for(request, "execute-api"):
        logger.info("Management API: refused an unsigned %s request", operation)
        return _forbidden("Missing Authentication Token")
    injected = await gateway.faults.apply("management", operation)
    if injected is not None:
        return injected

    connection_id = request.match_info["connection_id"]
    connection = gateway.connections.get(connection_id)
    if (
        connection is None
        or connection.closing
        or connection.websocket.closed
        or connection.api_id != api_id
        or connection.stage != stage
    ):
        logger.info("Management API: %s for %s answered 410 (no such open connection)", operation, connection_id)
        return _gone(connection_id)

    if operation == "PostToConnection":
        return await _post(request, connection)
    if operation == "GetConnection":
        return web.json_response(
            {
                "connectedAt": iso8601(connection.connected_at),
                "lastActiveAt": iso8601(connection.last_active_at),
                "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            }
        )
    gateway.close_soon(connection, 1000, "Connection deleted")
    logger.info("Management API: connection %s deleted", connection_id)
    return web.Response(status=204)


async def _post(request, connection):
    declared = request.content_length
    if declared is not None and declared > MAX_POST_BYTES:
        return _too_large(connection.connection_id, declared)
    data = await _read_body(request, MAX_POST_BYTES)
    if len(data) > MAX_POST_BYTES:
        return _too_large(connection.connection_id, len(data))
    if not data:
        logger.info("Management API: empty PostToConnection for %s refused", connection.connection_id)
        return aws_error_response(400, "BadRequestException", "Data must not be empty.")
    if not await connection.send(data):
        return _gone(connection.connection_id)
    return web.Response(status=200)


async def _read_body(request, limit):
    """The whole body, or its first ``limit + 1`` bytes when it is longer than ``limit``.

    One ``read()`` only returns what has arrived so far; a body sent in several TCP
    writes needs reading until the end.
    """
    data = bytearray()
    while len(data) <= limit:
        chunk = await request.content.read(limit + 1 - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _too_large(connection_id, size):
    logger.info(
        "Management API: %d-byte PostToConnection for %s refused (limit %d)", size, connection_id, MAX_POST_BYTES
    )
    return aws_error_response(
        413, "PayloadTooLargeException", f"Message of {size} bytes exceeds the {MAX_POST_BYTES}-byte limit."
    )

"""What API Gateway passes to Django, mapped explicitly on every integration.

AWS documents that an HTTP integration receives what its request-parameter mappings
name, plus a few headers it adds itself (User-Agent, the API id, a trace id,
X-Forwarded-*). Nothing here relies on anything else reaching Django:

- every route's integration maps the connection id (``context.connectionId``) and the
  gateway secret (a stage variable, so that a rotation needs no redeployment) into
  headers;
- ``$connect`` declares the route request parameters the view reads (the ``channel``
  and ``ws_token`` query values, and the ``Cookie``, ``Origin`` and
  ``Sec-WebSocket-*`` headers) and its integration maps each one through: route
  request parameters are documented for ``$connect`` only, which is also the only
  event where Django reads them.
"""

from ..request_checks import GATEWAY_SECRET_HEADER

# The stage variable holding the gateway secret (stage settings take effect at once).
SECRET_STAGE_VARIABLE = "djangoGatewaySecret"  # noqa: S105 - the variable's name

COMMON_MAPPINGS = {
    "integration.request.header.connectionId": "context.connectionId",
    f"integration.request.header.{GATEWAY_SECRET_HEADER}": f"stageVariables.{SECRET_STAGE_VARIABLE}",
}
# On $connect: (kind, name) of each client value Django reads, mapped unchanged.
CONNECT_VALUES = (
    ("querystring", "channel"),
    ("querystring", "ws_token"),
    ("header", "Cookie"),
    ("header", "Origin"),
    ("header", "Sec-WebSocket-Key"),
    ("header", "Sec-WebSocket-Version"),
)
CONNECT_ROUTE_KEY = "$connect"


def integration_request_parameters(route_key):
    """The integration's ``RequestParameters`` for a route."""
    mappings = dict(COMMON_MAPPINGS)
    if route_key == CONNECT_ROUTE_KEY:
        for kind, name in CONNECT_VALUES:
            mappings[f"integration.request.{kind}.{name}"] = f"route.request.{kind}.{name}"
    return mappings


def route_request_parameters(route_key):
    """The route's declared ``RequestParameters`` (none required: a browser without a
    cookie, say, is for Django to refuse, with a reason in its log)."""
    if route_key != CONNECT_ROUTE_KEY:
        return {}
    return {f"route.request.{kind}.{name}": {"Required": False} for kind, name in CONNECT_VALUES}

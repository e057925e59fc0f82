"""The HTTP request API Gateway makes to an HTTP / HTTP_PROXY integration.

Every event (``$connect``, each message, ``$disconnect``) becomes one
``POST <integrationUri>`` with the headers AWS adds (``User-Agent:
AmazonAPIGateway_<apiId>``, ``X-Amzn-Apigateway-Api-Id``, ``X-Amzn-Trace-Id``,
``X-Forwarded-For/-Port/-Proto``) plus exactly what the integration's
``requestParameters`` map defines: static values (``'value'``), stage variables
(``stageVariables.name``, read at each event: stage settings need no deployment),
``context.*`` variables, the message body (``route.request.body.*``) and, on
``$connect``, the client's headers and query values (``route.request.header.*``,
``route.request.querystring.*``) that the route declares in its own
``requestParameters``. Nothing else of the client's request reaches the integration:
AWS documents no pass-through, so a missing mapping fails here as it would there.
See ``shared`` notes "aws-facts" §1 for the sources.
"""

import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventContext:
    """The ``$context`` of one event, as far as mappings can read it."""

    api_id: str
    stage: str
    connection_id: str
    request_id: str
    route_key: str
    event_type: str  # CONNECT | MESSAGE | DISCONNECT
    source_ip: str
    user_agent: str
    domain_name: str
    forwarded_port: str
    connected_at_ms: int
    message_id: str = ""
    stage_variables: dict = field(default_factory=dict)

    def variables(self):
        now = time.time()
        return {
            "apiId": self.api_id,
            "stage": self.stage,
            "connectionId": self.connection_id,
            "requestId": self.request_id,
            "extendedRequestId": self.request_id,
            "routeKey": self.route_key,
            "eventType": self.event_type,
            "messageId": self.message_id,
            "domainName": self.domain_name,
            "connectedAt": str(self.connected_at_ms),
            "requestTimeEpoch": str(int(now * 1000)),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "identity.sourceIp": self.source_ip,
            "identity.userAgent": self.user_agent,
        }


@dataclass(frozen=True)
class ClientRequestData:
    """What the client sent with its handshake (only $connect mappings may read it)."""

    headers: dict
    query_string: str
    query: dict


@dataclass(frozen=True)
class IntegrationResult:
    """The integration's answer, or why there was none (``failure``)."""

    status: int | None
    body: bytes = b""
    headers: dict | None = None
    failure: str = ""

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300


def trace_id():
    """``Root=1-<8 hex epoch>-<24 hex random>``, the X-Ray header format."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def _mapped_value(source, context, variables, client, message_body, declared):
    """The value of one requestParameters source, or None when it is unavailable.

    ``declared`` holds the route request parameters the route declares: a client value
    that the route does not declare is never read.
    """
    if len(source) >= 2 and source.startswith("'") and source.endswith("'"):
        return source[1:-1]
    if source.startswith("context."):
        return variables.get(source[len("context.") :])
    if source.startswith("stageVariables."):
        return context.stage_variables.get(source[len("stageVariables.") :])
    if source.startswith("route.request.header.") or source.startswith("route.request.querystring."):
        return _client_value(source, client, declared)
    if source.startswith("route.request.body.") and message_body is not None:
        try:
            value = json.loads(message_body)
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse
            return None
        for step in source[len("route.request.body.") :].split("."):
            if not isinstance(value, dict) or step not in value:
                return None
            value = value[step]
        return value if isinstance(value, str) else json.dumps(value)
    return None


def _client_value(source, client, declared):
    """A header (case-insensitive) or query value of the client's handshake, when the
    route declares it; None otherwise."""
    if client is None or _declared_key(source, declared) is None:
        return None
    if source.startswith("route.request.header."):
        wanted = source[len("route.request.header.") :].lower()
        return next((v for k, v in client.headers.items() if k.lower() == wanted), None)
    return client.query.get(source[len("route.request.querystring.") :])


def _declared_key(source, declared):
    """The key of ``declared`` that declares ``source`` (header names in any case)."""
    if source in declared:
        return source
    if source.startswith("route.request.header."):
        return next((key for key in declared if key.lower() == source.lower()), None)
    return None


def missing_required_parameters(declared, client):
    """The route request parameters declared ``required`` that the client did not send."""
    missing = []
    for key, constraint in declared.items():
        if (constraint or {}).get("required") and _client_value(key, client, declared) is None:
            missing.append(key)
    return missing


def build_request(integration, context, *, body, client=None, declared=None, forwarded_proto="http"):
    """URL and headers of the integration request for one event: the headers AWS adds,
    then exactly what the integration maps."""
    headers = {
        "User-Agent": f"AmazonAPIGateway_{context.api_id}",
        "X-Amzn-Apigateway-Api-Id": context.api_id,
        "X-Amzn-Trace-Id": trace_id(),
        "X-Forwarded-For": context.source_ip,
        "X-Forwarded-Port": context.forwarded_port,
        "X-Forwarded-Proto": forwarded_proto,
    }
    query = {}
    variables = context.variables()
    message_body = body.decode("utf-8", "replace") if body else None
    for target, source in integration.request_parameters.items():
        value = _mapped_value(source, context, variables, client, message_body, declared or {})
        if value is None:
            continue
        if target.startswith("integration.request.header."):
            headers[target[len("integration.request.header.") :]] = value
        elif target.startswith("integration.request.querystring."):
            query[target[len("integration.request.querystring.") :]] = value
    url = integration.uri
    if query:
        parts = urlsplit(url)
        joined = f"{parts.query}&{urlencode(query)}" if parts.query else urlencode(query)
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, joined, parts.fragment))
    return url, headers


async def invoke(session, integration, context, *, body=b"", client=None, declared=None):
    """Call ``integration`` for one event; never raises for network trouble.
    ``declared``: the route request parameters of the route (``$connect``'s)."""
    if integration.integration_type == "MOCK":
        return IntegrationResult(status=200)
    url, headers = build_request(integration, context, body=body, client=client, declared=declared)
    timeout = aiohttp.ClientTimeout(total=integration.timeout_ms / 1000)
    try:
        async with session.request(
            integration.method,
            url,
            data=body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            # No Content-Type: AWS's is unconfirmed, and Django reads the raw body anyway.
            skip_auto_headers=("Content-Type", "Accept", "Accept-Encoding"),
        ) as response:
            answer = await response.read()
            return IntegrationResult(status=response.status, body=answer, headers=dict(response.headers))
    except TimeoutError:
        logger.warning(
            "%s integration %s timed out after %d ms (connection %s)",
            context.route_key,
            url,
            integration.timeout_ms,
            context.connection_id,
        )
        return IntegrationResult(status=None, failure="timeout")
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        logger.warning(
            "%s integration %s failed (connection %s): %s", context.route_key, url, context.connection_id, exc
        )
        return IntegrationResult(status=None, failure=f"unreachable: {exc.__class__.__name__}")


def new_client_session():
    """The HTTP client used for integration calls.

    It keeps no cookies between calls (each $connect forwards the client's own), and
    allows many calls at once, like API Gateway.
    """
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar(),
        connector=aiohttp.TCPConnector(limit=512),
        auto_decompress=True,
    )

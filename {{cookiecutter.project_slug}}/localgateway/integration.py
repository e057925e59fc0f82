"""The HTTP request API Gateway makes to an HTTP / HTTP_PROXY integration.

Every event (``$connect``, each message, ``$disconnect``) becomes one
``POST <integrationUri>`` with the headers AWS adds (``User-Agent:
AmazonAPIGateway_<apiId>``, ``X-Amzn-Apigateway-Api-Id``, ``X-Amzn-Trace-Id``,
``X-Forwarded-For/-Port/-Proto``) plus whatever the integration's
``requestParameters`` map defines, e.g. ``integration.request.header.connectionId =
context.connectionId``. ``$connect`` also carries the client's handshake headers and
query string. See ``shared`` notes "aws-facts" §1 for the sources.
"""

import json
import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

logger = logging.getLogger(__name__)

# Client handshake headers that reach the $connect integration, as AWS forwards them.
FORWARDED_CONNECT_HEADERS = (
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Extensions",
    "Cookie",
    "Origin",
)


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


def _mapped_value(source, context_variables, client, message_body):
    """The value of one requestParameters source, or None when it is unavailable."""
    if len(source) >= 2 and source.startswith("'") and source.endswith("'"):
        return source[1:-1]
    if source.startswith("context."):
        return context_variables.get(source[len("context.") :])
    if client is not None and source.startswith("route.request.header."):
        wanted = source[len("route.request.header.") :].lower()
        return next((v for k, v in client.headers.items() if k.lower() == wanted), None)
    if client is not None and source.startswith("route.request.querystring."):
        return client.query.get(source[len("route.request.querystring.") :])
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


def build_request(integration, context, *, body, client=None, forwarded_proto="http"):
    """URL and headers of the integration request for one event."""
    headers = {
        "User-Agent": f"AmazonAPIGateway_{context.api_id}",
        "X-Amzn-Apigateway-Api-Id": context.api_id,
        "X-Amzn-Trace-Id": trace_id(),
        "X-Forwarded-For": context.source_ip,
        "X-Forwarded-Port": context.forwarded_port,
        "X-Forwarded-Proto": forwarded_proto,
    }
    query = {}
    if client is not None:
        for name in FORWARDED_CONNECT_HEADERS:
            value = next((v for k, v in client.headers.items() if k.lower() == name.lower()), None)
            if value is not None:
                headers[name] = value
    variables = context.variables()
    message_body = body.decode("utf-8", "replace") if body else None
    for target, source in integration.request_parameters.items():
        value = _mapped_value(source, variables, client, message_body)
        if value is None:
            continue
        if target.startswith("integration.request.header."):
            headers[target[len("integration.request.header.") :]] = value
        elif target.startswith("integration.request.querystring."):
            query[target[len("integration.request.querystring.") :]] = value
    url = integration.uri
    extra_query = "&".join(part for part in ((client.query_string if client else ""), urlencode(query)) if part)
    if extra_query:
        parts = urlsplit(url)
        joined = f"{parts.query}&{extra_query}" if parts.query else extra_query
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, joined, parts.fragment))
    return url, headers


async def invoke(session, integration, context, *, body=b"", client=None):
    """Call ``integration`` for one event; never raises for network trouble."""
    if integration.integration_type == "MOCK":
        return IntegrationResult(status=200)
    url, headers = build_request(integration, context, body=body, client=client)
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

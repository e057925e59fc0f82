"""Is this HTTP request a well-formed call from API Gateway, and what did the browser send?

API Gateway calls Django over plain HTTP for ``$connect``, every message and
``$disconnect``. The checks here need no database: the required headers are present,
single-valued headers were not sent twice, nothing is oversized, the connection id
and API id look like AWS's, the User-Agent is the one API Gateway sets, and a
message body is a JSON object. Whether the API id belongs to a registered
``ApiGateway`` is decided by the view, against the database.

On ``$connect`` only, API Gateway also passes on what the browser sent with its
handshake (the ``channel`` and ``ws_token`` query values, ``Cookie``, ``Origin``):
the handshake checks below read those.

Every check raises :class:`Rejection` with two texts: ``reason``, a few words the
caller may see (API Gateway passes a message route's answer back to the client as a
frame), and ``detail``, the real reason, which only goes to the log.
"""

import hashlib
import hmac
import ipaddress
import json
import re
import unicodedata
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse

from .conf import gateway_secret, ws_setting


class Rejection(Exception):
    """A request refused with a 4xx status."""

    def __init__(self, status, reason, detail=None):
        super().__init__(detail or reason)
        self.status = status
        self.reason = reason
        self.detail = detail or reason

    def response(self):
        return JsonResponse({"error": self.reason}, status=self.status)


def bad_request(reason, detail=None):
    return Rejection(400, reason, detail)


def forbidden(reason, detail=None):
    return Rejection(403, reason, detail)


# The one answer to every refusal an outsider could learn from (a wrong secret, an
# unknown API or connection, a wrong User-Agent): the real reason is only logged.
NOT_FROM_API_GATEWAY = "forbidden"


def not_from_api_gateway(detail):
    return Rejection(403, NOT_FROM_API_GATEWAY, detail)


def short_hash(value):
    """A few hex digits of ``value``'s SHA-256: enough to follow one connection or
    token through the logs, useless to act as it."""
    return hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()[:12]


# ---------------------------------------------------------- API Gateway's request

# Provisioning maps a stage variable holding the secret into this header of every
# integration request; only API Gateway (and whoever holds the secret) can send it.
GATEWAY_SECRET_HEADER = "X-Gateway-Secret"  # noqa: S105 - a header name


def accepted_gateway_secrets():
    """The secrets a callback may carry: the current one and, during a rotation, the
    previous one (settings ``WEBSOCKET_GATEWAY_SECRET`` and ``..._PREVIOUS``)."""
    return [secret for secret in (gateway_secret(), gateway_secret(previous=True)) if secret]


def check_gateway_secret(request, accepted):
    """Refuse (403) unless the request carries one of the ``accepted`` secrets.

    Every accepted secret is compared, in constant time, whatever the outcome of the
    first: how long the check takes tells nothing about which part matched.
    """
    presented = (request.headers.get(GATEWAY_SECRET_HEADER) or "").encode()
    if not accepted:
        raise not_from_api_gateway("no gateway secret is configured (the WEBSOCKET_GATEWAY_SECRET setting): refusing")
    matched = False
    for secret in accepted:
        matched |= hmac.compare_digest(presented, secret.encode())
    if not matched:
        what = "a wrong" if presented else "no"
        raise not_from_api_gateway(f"{what} {GATEWAY_SECRET_HEADER} header")


# AWS connection ids are 16 characters of base64 ending in '='; allow any base64 or
# base64url text up to the length of the session column.
CONNECTION_ID_PATTERN = re.compile(r"[A-Za-z0-9+/=_-]{1,128}")
API_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_HEADER_VALUE_LENGTH = 2048
# Headers that carry exactly one value. A comma means that two copies were sent and
# a server merged them ("a,b"), which API Gateway never does. (A browser's own
# User-Agent may hold commas, and on $connect it may reach us, so it is not listed:
# message and disconnect routes compare it exactly instead.)
SINGLE_VALUE_HEADERS = frozenset(
    {
        "host",
        "x-amzn-apigateway-api-id",
        "connectionid",
        "sec-websocket-key",
        "sec-websocket-version",
        "origin",
    }
)


def header_value(request, name):
    """The value of header ``name`` (None when absent), refusing oversized and
    duplicated values."""
    value = request.headers.get(name)
    if value is None:
        return None
    if len(value) > MAX_HEADER_VALUE_LENGTH:
        raise bad_request("header too large", f"header {name} is {len(value)} characters long")
    if name.lower() in SINGLE_VALUE_HEADERS and "," in value:
        raise bad_request("duplicated header", f"header {name} was sent more than once: {value[:200]!r}")
    return value


def check_required_headers(request, names):
    """Every header in ``names`` is present, non-empty, single and of sane size."""
    missing = [name for name in names if not request.headers.get(name)]
    if missing:
        raise bad_request("missing required headers", f"missing headers: {', '.join(missing)}")
    for name in names:
        header_value(request, name)


def connection_id_of(request):
    """The connection id that API Gateway maps into the ``Connectionid`` header."""
    value = header_value(request, "Connectionid") or ""
    if not CONNECTION_ID_PATTERN.fullmatch(value):
        raise bad_request("invalid connection id", f"connection id {value[:200]!r} is not AWS-shaped")
    return value


def api_id_of(request):
    """The calling API's id, from ``X-Amzn-Apigateway-Api-Id``."""
    value = header_value(request, "X-Amzn-Apigateway-Api-Id") or ""
    if not API_ID_PATTERN.fullmatch(value):
        raise bad_request("invalid API id", f"API id {value[:200]!r} is malformed")
    return value


def check_user_agent(request, prefix, api_id):
    """API Gateway sends ``User-Agent: <prefix><api id>`` on message and disconnect routes."""
    expected = f"{prefix}{api_id}"
    actual = request.headers.get("User-Agent", "")
    if actual != expected:
        raise not_from_api_gateway(f"User-Agent {actual[:200]!r} is not {expected!r}")


def client_ip(request, proxies_after_api_gateway=0):
    """The client's address: the ``X-Forwarded-For`` entry API Gateway appended.

    API Gateway appends the address it saw to whatever the client sent, and each proxy
    of the deployment's own between API Gateway and Django (``proxies_after_api_gateway``:
    an ALB, say) appends one more. So the entry that many places from the end is the
    only one nobody outside could choose; the ones before it are the client's words.
    """
    forwarded = request.headers.get("X-Forwarded-For") or ""
    entries = [entry.strip() for entry in forwarded.split(",")] if forwarded else []
    position = len(entries) - 1 - proxies_after_api_gateway
    candidate = entries[position] if 0 <= position < len(entries) else ""
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        address = None
    # A zone index ("fe80::1%eth0") names an interface of the sender's own machine: no
    # client address API Gateway reports has one, and PostgreSQL's inet type refuses it.
    if address is None or getattr(address, "scope_id", None) is not None:
        raise bad_request(
            "invalid client address",
            f"no client address {proxies_after_api_gateway + 1} from the end of X-Forwarded-For {forwarded[:200]!r}",
        )
    return str(address)


def read_body(request, max_size):
    """The raw body, refused with 413 when it is larger than ``max_size`` bytes."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        declared_size = int(declared)
    except ValueError:
        raise bad_request("invalid content length", f"Content-Length {declared[:50]!r}") from None
    too_large = Rejection(413, "request body too large", f"body of {declared_size} bytes is over {max_size}")
    if declared_size > max_size:
        raise too_large
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(body) > max_size:
        raise Rejection(413, "request body too large", f"body of {len(body)} bytes is over {max_size}")
    return body


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


# Integers a database column can hold: a larger one reaching a query is an error there.
INT64 = range(-(2**63), 2**63)


def parse_message(body, max_depth):
    """A message body: UTF-8 text holding one JSON object, nested at most
    ``max_depth`` levels (the object itself is level 1), whose text holds no NUL and
    no lone surrogate (``"\\ud800"``) and whose integers fit in 64 bits: what a handler
    can store, log and send back without an error."""
    reason = "message must be a JSON object"
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise bad_request(reason, f"body is not UTF-8 JSON: {str(error)[:200]}") from None
    if not isinstance(data, dict):
        raise bad_request(reason, f"body is a JSON {type(data).__name__}, not an object")
    _check_message_values(data, max_depth)
    return data


def _check_message_values(data, max_depth):
    """Walk the parsed message (iteratively: depth is what is being checked)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > max_depth:
                raise bad_request("message nested too deeply", f"message is nested deeper than {max_depth} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key)
                pending.append((item, depth + 1))
        elif isinstance(value, str):
            _check_text(value)
        elif isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
            raise bad_request("number out of range", "message holds an integer outside 64 bits")


def _check_text(text):
    if "\x00" in text:
        raise bad_request("invalid text", "message text holds a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request("invalid text", "message text holds a lone surrogate") from None


# ------------------------------------------------------- the browser's handshake

MAX_ORIGIN_LENGTH = 2048


def query_value(request, name):
    """The single value of query parameter ``name``; None when absent or empty."""
    values = request.GET.getlist(name)
    if len(values) > 1:
        raise bad_request("duplicated query parameter", f"query parameter {name} was given {len(values)} times")
    return values[0] if values and values[0] else None


def validate_channel_name(name, pattern, max_length):
    """Refuse channel names that are too long, hold control characters or do not
    match ``pattern``."""
    if len(name) > max_length:
        raise bad_request("invalid channel name", f"channel name is {len(name)} characters, over {max_length}")
    # Whatever a project's pattern allows: PostgreSQL cannot store NUL, and no other
    # control character belongs in a name either.
    if any(unicodedata.category(character) == "Cc" for character in name):
        raise bad_request("invalid channel name", f"channel name {name[:200]!r} holds control characters")
    if not re.fullmatch(pattern, name):
        raise bad_request("invalid channel name", f"channel name {name[:200]!r} does not match {pattern!r}")
    return name


def session_key_from_cookie(request):
    """The Django session key in the forwarded ``Cookie`` header, if any."""
    return request.COOKIES.get(settings.SESSION_COOKIE_NAME) or None


def check_origin(request):
    """Refuse a handshake started by a page on another site.

    Browsers send ``Origin`` with every WebSocket handshake and attach the site's
    cookies whatever page opened the socket, so without this check any site could
    open a socket as the visitor (cross-site WebSocket hijacking). Clients that are
    not browsers send no ``Origin`` and are judged by their token alone.
    """
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(origin):
        raise forbidden("origin not allowed", f"Origin {origin[:200]!r} is not an allowed host or trusted origin")


DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_parts(origin):
    """``(scheme, host, port)`` of an origin, or None when it is not one."""
    try:
        parts = urlsplit(origin.lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme]


def allowed_origins():
    """The origins a page that opens a socket may have: ``WEBSOCKETS["ALLOWED_ORIGINS"]``
    when the project sets it, else every ``CSRF_TRUSTED_ORIGINS`` entry and
    ``https://<host>`` for each ``ALLOWED_HOSTS`` entry (``.example.com`` meaning the
    domain and its subdomains). ``*`` in ``ALLOWED_HOSTS`` allows no origin."""
    configured = ws_setting("ALLOWED_ORIGINS")
    if configured is not None:
        return list(configured)
    origins = list(getattr(settings, "CSRF_TRUSTED_ORIGINS", []))
    for host in settings.ALLOWED_HOSTS:
        if host == "*" or not host:
            continue
        if host.startswith("."):
            origins += [f"https://{host[1:]}", f"https://*{host}"]
        else:
            origins.append(f"https://{host}")
    return origins


def origin_allowed(origin):
    """True when ``origin`` has the scheme, host and port of an allowed origin
    (``https://*.example.com`` covers the subdomains of example.com, same scheme and
    port). With ``DEBUG`` and no ``ALLOWED_HOSTS``, pages on this machine's loopback
    names are allowed too, as Django allows them as hosts."""
    if len(origin) > MAX_ORIGIN_LENGTH or "," in origin:
        return False
    found = _origin_parts(origin)
    if found is None:
        return False
    scheme, host, port = found
    if settings.DEBUG and not settings.ALLOWED_HOSTS and (host in ("localhost", "127.0.0.1", "[::1]", "::1")):
        return True
    for allowed in allowed_origins():
        wildcard = "://*." in allowed
        expected = _origin_parts(allowed.replace("://*.", "://", 1))
        if expected is None or (expected[0], expected[2]) != (scheme, port):
            continue
        if host == expected[1] or (wildcard and host.endswith("." + expected[1])):
            return True
    return False

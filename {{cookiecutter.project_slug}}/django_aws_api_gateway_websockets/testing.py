"""Helpers for testing WebSocket views in your own test suite, with no AWS at all.

Requests as API Gateway sends them
----------------------------------
:class:`WebSocketTestClient` plays API Gateway: it POSTs ``$connect``, messages and
``$disconnect`` to your view through Django's test client, with exactly the headers
API Gateway sends (``User-Agent: AmazonAPIGateway_<api id>``, the API id, a trace id,
``X-Forwarded-*``, and what provisioning maps: ``Connectionid``, the gateway secret
from the ``WEBSOCKET_GATEWAY_SECRET`` setting, and on ``$connect`` the handshake's
``Sec-WebSocket-*``, ``Cookie``, ``Origin`` and the ``channel`` and ``ws_token``
query values). Paths default to the
``ApiGateway`` record's ``target_base_endpoint`` plus ``connect``, ``default`` or
``disconnect``, as API Gateway would call them::

    from django_aws_api_gateway_websockets.models import ApiGateway
    from django_aws_api_gateway_websockets.testing import WebSocketTestClient

    def test_chat_message(client, django_user_model):
        user = django_user_model.objects.create_user("alice", password="secret")
        client.force_login(user)                      # the browser
        gateway = ApiGateway.objects.create(
            api_name="test", api_id="abc123defg", target_base_endpoint="https://testserver/ws/"
        )
        ws = WebSocketTestClient(gateway, client)
        assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 200
        response = ws.message({"action": "chat_message", "message": "Hello"})
        assert response.status_code == 204
        assert ws.disconnect().status_code == 200

``client`` is the *browser*: its cookies go with ``$connect`` (as API Gateway
forwards them) and :meth:`WebSocketTestClient.fetch_token` asks the token endpoint
as that browser. API Gateway's own requests go through a separate, cookie-less test
client, so messages carry no cookies, as on AWS. Every method returns Django's test
response; ``connect`` remembers the connection id for later calls when it succeeds.

What would have been sent
-------------------------
:func:`capture_messages` records every send (unicast, multicast, broadcast, from any
thread) instead of posting it to API Gateway, and reports them delivered::

    from django_aws_api_gateway_websockets.testing import capture_messages

    def test_reply_goes_to_the_sender(...):
        with capture_messages() as sent:
            ws.message({"action": "default", "handler": "ping"})
        assert [m.payload["type"] for m in sent] == ["pong"]
        assert sent[0].connection_id == ws.connection_id

Each :class:`~django_aws_api_gateway_websockets.sending.capture.CapturedMessage` has
``connection_id``, ``channel_name``, ``user_id`` and the decoded ``payload``.
"""

import base64
import json
import secrets
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.middleware.csrf import CSRF_ALLOWED_CHARS
from django.test import Client
from django.urls import reverse
from django.utils.crypto import get_random_string

from .conf import gateway_secret
from .request_checks import GATEWAY_SECRET_HEADER
from .sending import capture

# ---------------------------------------------------------------------------
# Request client: API-Gateway-shaped $connect / message / $disconnect requests
# ---------------------------------------------------------------------------

TEST_CLIENT_IP = "203.0.113.7"  # TEST-NET-3, never a real client


def new_connection_id():
    """A fresh connection id shaped like AWS's: 16 characters of base64 ending in '='."""
    return base64.b64encode(secrets.token_bytes(11)).decode()


def new_trace_id():
    return f"Root=1-{secrets.token_hex(4)}-{secrets.token_hex(12)}"


def fetch_websocket_token(client):
    """Ask the token endpoint (``websocket_token``) for a token as the logged-in
    test ``client``, passing its CSRF check if it enforces one. Returns the token."""
    extra = {}
    if getattr(client.handler, "enforce_csrf_checks", False):
        secret = client.cookies[settings.CSRF_COOKIE_NAME].value if settings.CSRF_COOKIE_NAME in client.cookies else ""
        if not secret:
            secret = get_random_string(32, CSRF_ALLOWED_CHARS)
            client.cookies[settings.CSRF_COOKIE_NAME] = secret
        extra["headers"] = {"X-CSRFToken": secret}
    response = client.post(reverse("websocket_token"), **extra)
    if response.status_code != 200:
        raise AssertionError(f"the token endpoint answered {response.status_code}: {response.content[:200]!r}")
    return response.json()["token"]


def browser_cookie_header(client):
    """The ``Cookie`` header a browser with the test ``client``'s cookies sends with
    its socket's handshake (the binding cookie the token endpoint set included)."""
    return "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())


class WebSocketTestClient:
    """Sends API-Gateway-shaped requests for one ``ApiGateway`` record (see the
    module docstring). ``client`` is the browser's Django test client (optional);
    ``base_path`` replaces the path of the record's ``target_base_endpoint``."""

    def __init__(
        self,
        api_gateway,
        client=None,
        *,
        base_path=None,
        client_ip=TEST_CLIENT_IP,
        forwarded_port="443",
        proto="https",
        gateway_secret=None,
    ):
        self.api_gateway = api_gateway
        self.client = client
        self.gateway_client = Client()
        self.client_ip = client_ip
        self.forwarded_port = str(forwarded_port)
        self.proto = proto
        # What API Gateway's mapping sends; None: the project's current secret.
        self.gateway_secret = gateway_secret
        target = urlsplit(api_gateway.target_base_endpoint)
        self.host = target.netloc
        # Where connect/default/disconnect are appended; defaults to the target's path.
        base_path = base_path or target.path or "/"
        self.base_path = base_path if base_path.endswith("/") else f"{base_path}/"
        self.connection_id = None

    # -- what API Gateway sends ------------------------------------------------

    def gateway_headers(self, connection_id):
        """The headers API Gateway puts on every integration request."""
        api_id = self.api_gateway.api_id
        return {
            "Host": self.host,
            "User-Agent": f"AmazonAPIGateway_{api_id}",
            "X-Amzn-Apigateway-Api-Id": api_id,
            "X-Amzn-Trace-Id": new_trace_id(),
            "X-Forwarded-For": self.client_ip,
            "X-Forwarded-Port": self.forwarded_port,
            "X-Forwarded-Proto": self.proto,
            "Connectionid": connection_id,
            GATEWAY_SECRET_HEADER: gateway_secret() if self.gateway_secret is None else self.gateway_secret,
        }

    def route_path(self, route):
        """The integration path API Gateway calls for ``route`` (``connect``, ...)."""
        return f"{self.base_path}{route}"

    def browser_cookie_header(self, cookies=None):
        """The ``Cookie`` header the browser sends: ``cookies`` (a dict) when given,
        else the browser client's cookies."""
        if cookies is None:
            return browser_cookie_header(self.client) if self.client else ""
        return "; ".join(f"{key}={value}" for key, value in cookies.items())

    def fetch_token(self):
        """A token from the token endpoint, asked for by the browser client."""
        if self.client is None:
            raise ValueError("WebSocketTestClient needs the browser's client to fetch a token")
        return fetch_websocket_token(self.client)

    # -- the three kinds of request --------------------------------------------

    def connect(
        self,
        path=None,
        *,
        channel=None,
        token=None,
        cookies=None,
        origin=None,
        connection_id=None,
        headers=None,
        query=None,
        body=b"",
    ):
        """``$connect``: the handshake of a new connection. ``channel``/``token`` go
        in the query string (``query`` adds more), ``cookies`` (dict) replaces the
        browser's cookies, ``origin`` sets ``Origin``; ``headers`` adds or, with
        None values, removes headers. API Gateway sends no body (``body`` exists for
        tests of what a view does with one)."""
        connection_id = connection_id or new_connection_id()
        params = {}
        if channel is not None:
            params["channel"] = channel
        if token is not None:
            params["ws_token"] = token
        params.update(query or {})
        url = path or self.route_path("connect")
        if params:
            url = f"{url}?{urlencode(params, doseq=True)}"
        handshake = {
            "Sec-WebSocket-Key": base64.b64encode(secrets.token_bytes(16)).decode(),
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        }
        cookie_header = self.browser_cookie_header(cookies)
        if cookie_header:
            handshake["Cookie"] = cookie_header
        if origin is not None:
            handshake["Origin"] = origin
        response = self._post(url, body, {**self.gateway_headers(connection_id), **handshake}, headers)
        if response.status_code == 200:
            self.connection_id = connection_id
        response.connection_id = connection_id
        return response

    def message(self, body, *, path=None, route="default", connection_id=None, headers=None):
        """A message frame: ``body`` as a dict or list (sent as JSON), or as raw
        text/bytes. Sent to ``route`` (``default``: ``$default``) or to ``path``."""
        if isinstance(body, dict | list):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        url = path or self.route_path(route)
        return self._post(url, body, self.gateway_headers(self._connection(connection_id)), headers)

    def disconnect(self, path=None, *, connection_id=None, headers=None, body=b""):
        """``$disconnect``, which API Gateway sends (with no body) after the socket closed."""
        url = path or self.route_path("disconnect")
        return self._post(url, body, self.gateway_headers(self._connection(connection_id)), headers)

    def _connection(self, connection_id):
        connection_id = connection_id or self.connection_id
        if not connection_id:
            raise ValueError("no connection: connect() first or pass connection_id=")
        return connection_id

    def _post(self, url, body, headers, overrides):
        headers = {**headers, **(overrides or {})}
        headers = {name: value for name, value in headers.items() if value is not None}
        return self.gateway_client.post(url, data=body, content_type="application/json", headers=headers)


# ---------------------------------------------------------------------------
# Capturing sends: what would have been posted to API Gateway
# ---------------------------------------------------------------------------


@contextmanager
def capture_messages():
    """Record sends instead of posting them; yields the list of captured messages."""
    recording = capture.start()
    try:
        yield recording
    finally:
        capture.stop(recording)

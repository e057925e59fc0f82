"""HTTP views: ``WebSocketView``, which API Gateway calls for every WebSocket event,
and ``WebSocketTokenView``, which browsers call for a token before connecting."""

import contextlib
import logging
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Exists
from django.http import HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import get_resolver
from django.utils.decorators import method_decorator
from django.utils.functional import SimpleLazyObject
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from . import channel_access, ratelimit, session_rows
from .conf import ViewSetting, ws_setting
from .gateway_request import (
    api_id_of,
    check_required_headers,
    check_user_agent,
    client_ip,
    connection_id_of,
    parse_message,
    read_body,
)
from .handlers import HEARTBEAT_HANDLER, select_handler
from .handshake import check_origin, query_value, session_key_from_cookie, validate_channel_name
from .models import ApiGateway, WebSocketSession
from .rejections import Rejection, forbidden
from .tokens import consume_token, issue_token, issuing_rate_limited

logger = logging.getLogger(__name__)

CONNECT_ROUTE = "connect"
DISCONNECT_ROUTE = "disconnect"


class WebSocketView(View):
    """The Django end of a WebSocket API: API Gateway POSTs every event here.

    Route it as ``path("ws/<slug:route>", MyView.as_view(), name=...)``: API Gateway
    calls ``.../ws/connect``, ``.../ws/disconnect``, ``.../ws/default`` and
    ``.../ws/<custom route>``. A view routed without ``<slug:route>`` (one URL per
    custom route) treats every request as a message for its ``route_key``.

    Every request must look like API Gateway's (headers, API id of a registered
    ``ApiGateway``, User-Agent, body size); anything else gets a 4xx with a short
    ``{"error": ...}`` reason, a log line with the real one, and changes nothing.

    ``$connect`` opens a ``WebSocketSession`` for the channel in ``?channel=`` (else
    the API's default channel), after the single-use ``?ws_token=`` (when
    ``USE_WS_TOKEN``), the page's ``Origin``, the rate limits, the permissions and
    :meth:`can_join_channel` allowed it. Once a ``$connect`` gets past the checks
    that need no identity, it counts as a connection attempt (a ``ConnectionRateLimit``
    row, kept even when it is then refused) and the token it presented is spent,
    whatever comes next: single use means a single presentation. ``$disconnect``
    closes the session.

    Messages (a JSON object each) go to a handler method chosen by
    ``body["handler"]``, then ``body["action"]``, then the route, then
    :meth:`default` (see ``handlers``). Inside a handler ``self.body`` is the
    message, ``self.websocket_session`` the sender's session and ``request.user``
    its user. A handler returns None (204) or an ``HttpResponse``; API Gateway sends
    a non-empty answer back to the sender when the route has a route response.

    The class attributes below are the knobs; those declared with ``ViewSetting``
    read the project's ``WEBSOCKETS`` settings dictionary until a subclass sets them.
    """

    http_method_names = ["post"]

    # Tunables with project-wide defaults in settings.WEBSOCKETS.
    USE_WS_TOKEN = ViewSetting()
    RATE_LIMIT_ENABLED = ViewSetting()
    RATE_LIMIT_MAX_ATTEMPTS = ViewSetting()
    RATE_LIMIT_WINDOW_MINUTES = ViewSetting()
    MAX_BODY_SIZE = ViewSetting()
    MAX_CHANNEL_NAME_LENGTH = ViewSetting()
    CHANNEL_NAME_PATTERN = ViewSetting()

    # Handler selection (see handlers.py).
    ALLOWED_HANDLERS = None
    ADDITIONAL_ALLOWED_HANDLERS = ()
    route_selection_key = "action"
    handler_selection_key = "handler"
    route_key = "default"

    # Who may connect and send.
    permissions_required = ()
    all_permissions_required = ()

    # What a request from API Gateway looks like.
    aws_api_gateway_id = None
    required_headers = ("Host", "User-Agent", "X-Amzn-Apigateway-Api-Id", "Connectionid")
    additional_required_headers = ()
    required_connection_headers = ("Sec-WebSocket-Key", "Sec-WebSocket-Version")
    expected_useragent_prefix = "AmazonAPIGateway_"

    # Filled in while a request is handled.
    route = None
    body = None
    connection_id = None
    api_id = None
    api_gateway = None
    channel_name = None
    websocket_session = None

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        # API Gateway carries no CSRF token; browsers prove themselves through the
        # CSRF-protected token endpoint instead.
        view.csrf_exempt = True
        # Token consumption and rate limiting rely on each statement committing on
        # its own, so this view never runs inside ATOMIC_REQUESTS' transaction.
        return transaction.non_atomic_requests(view)

    # ------------------------------------------------------------------ dispatch

    def post(self, request, *args, **kwargs):
        self.route = kwargs.get("route", self.route_key)
        try:
            self.check_gateway_request(request)
        except Rejection as rejection:
            return self.reject(rejection)
        if self.route == CONNECT_ROUTE:
            return self.connect(request, *args, **kwargs)
        if self.route == DISCONNECT_ROUTE:
            return self.disconnect(request, *args, **kwargs)
        return self.receive_message(request, *args, **kwargs)

    def check_gateway_request(self, request):
        """The checks every route shares; none of them touches the database."""
        is_connect = self.route == CONNECT_ROUTE
        headers = [*self.required_headers, *self.additional_required_headers]
        if is_connect:
            headers += list(self.required_connection_headers)
        check_required_headers(request, headers)
        self.connection_id = connection_id_of(request)
        self.api_id = api_id_of(request)
        if self.aws_api_gateway_id and self.api_id != self.aws_api_gateway_id:
            raise forbidden("unknown API", f"this view only serves API {self.aws_api_gateway_id!r}")
        if not is_connect:
            # On $connect the browser's own User-Agent may arrive instead.
            check_user_agent(request, self.expected_useragent_prefix, self.api_id)
        raw_body = read_body(request, int(self.MAX_BODY_SIZE))
        self.body = {} if is_connect or self.route == DISCONNECT_ROUTE else parse_message(raw_body)

    def reject(self, rejection):
        """Log why ``rejection`` happened and answer with its short reason."""
        logger.warning(
            "Refused %s for connection %s of API %s from %s: %s",
            self._route_label(),
            self.connection_id or "?",
            self.api_id or "?",
            self.request.headers.get("X-Forwarded-For", "?")[:100],
            rejection.detail,
        )
        return rejection.response()

    def _route_label(self):
        if self.route in (CONNECT_ROUTE, DISCONNECT_ROUTE):
            return f"${self.route}"
        return f"message on route {self.route!r}"

    # ------------------------------------------------------------------- connect

    def connect(self, request, *args, **kwargs):
        """``$connect``: open the session, or refuse the handshake with a 4xx.

        Override to add behaviour; call ``super().connect(...)`` first and act only
        when its answer is 200 (``self.websocket_session`` is then the new session).
        """
        try:
            self._open_session(request)
        except Rejection as rejection:
            return self.reject(rejection)
        return HttpResponse(status=200)

    def _open_session(self, request):
        # Checks that write nothing come first.
        self.api_gateway = self._gateway_for_connect()
        check_origin(request)
        self.channel_name = self._requested_channel(request)
        ip_address = client_ip(request)
        # Then the identity, the attempt (counted whether or not the token was
        # good, so guessing is rate limited too), and what the user may do.
        user_id, refusal = self._identify(request)
        attempt_id = None
        if self.RATE_LIMIT_ENABLED:
            attempt_id = ratelimit.record_attempt(
                ip_address,
                user_id,
                max_attempts=int(self.RATE_LIMIT_MAX_ATTEMPTS),
                window_minutes=float(self.RATE_LIMIT_WINDOW_MINUTES),
            )
        if refusal is not None:
            raise refusal
        if self.USE_WS_TOKEN:
            request.user = SimpleLazyObject(lambda: _load_user(user_id))
        user = request.user
        if not self.has_websocket_permissions(user):
            raise forbidden("permission denied", f"user {user_id} lacks the permissions this view requires")
        if not self.can_join_channel(request, user, self.channel_name):
            raise forbidden("channel not allowed", f"user {user_id} may not join channel {self.channel_name!r}")
        session = session_rows.open_session(
            connection_id=self.connection_id,
            channel_name=self.channel_name,
            user_id=user_id,
            api_gateway=self.api_gateway,
        )
        if session is None:
            raise Rejection(409, "connection already exists", f"connection {self.connection_id} opened twice at once")
        self.websocket_session = session
        if attempt_id is not None:
            ratelimit.mark_successful(attempt_id)

    def _gateway_for_connect(self):
        """The registered ``ApiGateway`` of the calling API, in the same query as
        whether the connection id already has a session."""
        taken = WebSocketSession.objects.filter(connection_id=self.connection_id)
        gateway = ApiGateway.objects.filter(api_id=self.api_id).annotate(connection_taken=Exists(taken)).first()
        if gateway is None:
            raise forbidden("unknown API", f"API id {self.api_id!r} belongs to no registered ApiGateway")
        if gateway.connection_taken:
            raise Rejection(409, "connection already exists", f"connection {self.connection_id} already has a session")
        return gateway

    def _requested_channel(self, request):
        requested = query_value(request, "channel")
        if requested is None:
            return self.api_gateway.default_channel_name
        column_length = WebSocketSession._meta.get_field("channel_name").max_length
        max_length = min(int(self.MAX_CHANNEL_NAME_LENGTH), column_length)
        return validate_channel_name(requested, self.CHANNEL_NAME_PATTERN, max_length)

    def _identify(self, request):
        """``(user id or None, Rejection or None)`` for the connecting client."""
        if not self.USE_WS_TOKEN:
            user = _user_from_forwarded_cookie(request)
            return (user.pk if user.is_authenticated else None), None
        raw_token = query_value(request, "ws_token")
        if raw_token is None:
            return None, forbidden("invalid token", "no ws_token in the query string")
        consumed = consume_token(raw_token)
        if consumed is None:
            return None, forbidden("invalid token", "ws_token is unknown, already used or expired")
        if ws_setting("TOKEN_SESSION_BINDING") and not consumed.matches_session(session_key_from_cookie(request)):
            return consumed.user_id, forbidden(
                "invalid token", f"the token of user {consumed.user_id} was issued to another browser session"
            )
        return consumed.user_id, None

    def has_websocket_permissions(self, user):
        """True when ``user`` has one of ``permissions_required`` (if any) and all
        of ``all_permissions_required`` (if any). Anonymous users have none."""
        if self.permissions_required and not any(user.has_perm(name) for name in self.permissions_required):
            return False
        return not (self.all_permissions_required and not user.has_perms(self.all_permissions_required))

    def can_join_channel(self, request, user, channel_name):
        """May ``user`` join ``channel_name``? By default, what the policies
        registered in ``channel_access`` say (open when none applies)."""
        return channel_access.may_join(user, channel_name)

    # ---------------------------------------------------------------- disconnect

    def disconnect(self, request, *args, **kwargs):
        """``$disconnect``: mark the session disconnected (API Gateway calls this
        after the socket closed, best effort). Override and call super() to act on
        it; ``self.websocket_session`` is the closed session when the answer is 200."""
        session = session_rows.close_session(self.connection_id, self.api_id)
        if session is None:
            return self.reject(session_rows.why_no_open_session(self.connection_id, self.api_id))
        self.websocket_session = session
        return HttpResponse(status=200)

    # ------------------------------------------------------------------ messages

    def receive_message(self, request, *args, **kwargs):
        """A message: choose the handler, count the message on the session, call it."""
        base = WebSocketView
        try:
            handler_name = select_handler(type(self), base, self.body, self.route)
            if handler_name == HEARTBEAT_HANDLER and type(self).heartbeat is base.heartbeat:
                return self.heartbeat(request, *args, **kwargs)
            self.websocket_session = self._session_for_message()
        except Rejection as rejection:
            return self.reject(rejection)
        session = self.websocket_session
        request.user = SimpleLazyObject(lambda: _active_or_anonymous(session.user))
        response = getattr(self, handler_name)(request, *args, **kwargs)
        if response is None:
            return HttpResponse(status=204)
        if isinstance(response, HttpResponseBase):
            return response
        raise TypeError(
            f"{type(self).__name__}.{handler_name}() returned {type(response).__name__}; "
            "a handler returns None or an HttpResponse"
        )

    def _session_for_message(self):
        """The sender's open session, with this message counted. One statement,
        unless the view checks permissions: then the session is read first, so that
        a refused message is not counted."""
        if self.permissions_required or self.all_permissions_required:
            found = session_rows.find_open_session(self.connection_id, self.api_id)
            if found is None:
                raise session_rows.why_no_open_session(self.connection_id, self.api_id)
            if not self.has_websocket_permissions(_active_or_anonymous(found.user)):
                raise forbidden("permission denied", f"user {found.user_id} lacks the permissions this view requires")
        session = session_rows.count_message(self.connection_id, self.api_id)
        if session is None:
            raise session_rows.why_no_open_session(self.connection_id, self.api_id)
        if self.permissions_required or self.all_permissions_required:
            session.user = found.user
        return session

    def heartbeat(self, request, *args, **kwargs):
        """Built-in keep-alive (``{"action": "heartbeat"}``, sent by the JavaScript
        client): refresh the session's ``updated_on`` in one UPDATE and answer 204;
        410 when the connection is not open. Nothing else runs."""
        if session_rows.touch(self.connection_id, self.api_id):
            return HttpResponse(status=204)
        rejection = session_rows.why_no_open_session(self.connection_id, self.api_id)
        if rejection.status == 404:
            rejection = Rejection(410, "connection closed", rejection.detail)
        return self.reject(rejection)

    def default(self, request, *args, **kwargs):
        """Messages that no other handler takes. Answers 204; override it."""
        return None


def websocket_view_classes():
    """``WebSocketView`` and every subclass of it, the routed ones included: loading
    the URLconf imports them (a broken URLconf is left to Django's own checks)."""
    with contextlib.suppress(Exception):
        get_resolver().url_patterns  # noqa: B018
    found, pending = [WebSocketView], list(WebSocketView.__subclasses__())
    while pending:
        view_class = pending.pop()
        found.append(view_class)
        pending.extend(view_class.__subclasses__())
    return found


def _load_user(user_id):
    return _active_or_anonymous(get_user_model()._default_manager.filter(pk=user_id).first())


def _active_or_anonymous(user):
    # As Django's ModelBackend: a deactivated user is nobody, also on a socket
    # that opened before the account was deactivated.
    return user if user is not None and user.is_active else AnonymousUser()


def _user_from_forwarded_cookie(request):
    """The user of the Django session in the forwarded ``Cookie`` header (API
    Gateway forwards it on ``$connect``); anonymous without one."""
    if not hasattr(request, "user"):
        if not hasattr(request, "session"):
            engine = import_module(settings.SESSION_ENGINE)
            request.session = engine.SessionStore(session_key_from_cookie(request))
        request.user = get_user(request)
    return request.user


@method_decorator([csrf_protect, never_cache], name="dispatch")
class WebSocketTokenView(View):
    """POST: hand the logged-in browser session a short-lived, single-use token.

    Answers ``{"token": "...", "expires_in": seconds}``; 401 when not logged in,
    429 when the user asked for too many tokens, 403 without a valid CSRF token.
    """

    http_method_names = ["post", "options"]

    @classmethod
    def as_view(cls, **initkwargs):
        # The token limit counts committed rows (see tokens.issue_token), so this view
        # never runs inside ATOMIC_REQUESTS' transaction either.
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    def post(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"error": "authentication required"}, status=401)
        if issuing_rate_limited(request.user):
            return self._too_many(request)
        if not request.session.session_key:
            request.session.save()
        issued = issue_token(request.user, request.session.session_key)
        if issued is None:
            return self._too_many(request)
        token, expires_in = issued
        return JsonResponse({"token": token, "expires_in": expires_in})

    def _too_many(self, request):
        logger.warning("WebSocket token refused for user %s: token rate limit reached", request.user.pk)
        return JsonResponse({"error": "too many token requests"}, status=429)

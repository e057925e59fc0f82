"""HTTP views: ``WebSocketView``, which API Gateway calls for every WebSocket event,
and ``WebSocketTokenView``, which browsers call for a token before connecting."""

import contextlib
import functools
import inspect
import logging
import re
import secrets
from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user
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

from . import channel_access
from .conf import ViewSetting, ws_setting
from .models import ApiGateway, ConnectionRateLimit, MessageLimit, NoOpenSession, WebSocketSession, WebSocketToken
from .request_checks import (
    Rejection,
    accepted_gateway_secrets,
    api_id_of,
    check_gateway_secret,
    check_origin,
    check_required_headers,
    check_user_agent,
    client_ip,
    connection_id_of,
    forbidden,
    not_from_api_gateway,
    parse_message,
    query_value,
    read_body,
    session_key_from_cookie,
    short_hash,
    validate_channel_name,
)

logger = logging.getLogger(__name__)

CONNECT_ROUTE = "connect"
DISCONNECT_ROUTE = "disconnect"
DEFAULT_HANDLER = "default"
HEARTBEAT_HANDLER = "heartbeat"
# Always allowed, whatever a view's handler lists say.
ALWAYS_ALLOWED_HANDLERS = frozenset({DEFAULT_HANDLER, HEARTBEAT_HANDLER})
HANDLER_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")


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
    :meth:`default` (see :meth:`select_handler`). Inside a handler ``self.body`` is the
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
    MAX_MESSAGE_DEPTH = ViewSetting()
    MESSAGE_RATE_LIMIT_ENABLED = ViewSetting()
    MESSAGE_RATE_LIMIT_MAX_MESSAGES = ViewSetting()
    MESSAGE_RATE_LIMIT_USER_MAX_MESSAGES = ViewSetting()
    MESSAGE_RATE_LIMIT_WINDOW_SECONDS = ViewSetting()
    MAX_CHANNEL_NAME_LENGTH = ViewSetting()
    CHANNEL_NAME_PATTERN = ViewSetting()

    # Handler selection (see select_handler).
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
        """The checks every route shares; none of them touches the database. The
        gateway secret comes first: without it nothing else is looked at."""
        check_gateway_secret(request, accepted_gateway_secrets())
        is_connect = self.route == CONNECT_ROUTE
        headers = [*self.required_headers, *self.additional_required_headers]
        if is_connect:
            headers += list(self.required_connection_headers)
        check_required_headers(request, headers)
        self.connection_id = connection_id_of(request)
        self.api_id = api_id_of(request)
        if self.aws_api_gateway_id and self.api_id != self.aws_api_gateway_id:
            raise not_from_api_gateway(f"this view only serves API {self.aws_api_gateway_id!r}")
        if not is_connect:
            # On $connect the browser's own User-Agent may arrive instead.
            check_user_agent(request, self.expected_useragent_prefix, self.api_id)
        raw_body = read_body(request, int(self.MAX_BODY_SIZE))
        if is_connect or self.route == DISCONNECT_ROUTE:
            self.body = {}
        else:
            self.body = parse_message(raw_body, int(self.MAX_MESSAGE_DEPTH))

    def reject(self, rejection):
        """Log why ``rejection`` happened and answer with its short reason."""
        # The connection id is logged as a short digest: enough to follow it, useless
        # to act as it (a forged callback needs the id of a live connection).
        logger.warning(
            "Refused %s for connection %s of API %s from %s: %s",
            self._route_label(),
            short_hash(self.connection_id) if self.connection_id else "?",
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
        self.api_gateway = self._gateway_for_connect()
        ip_address = client_ip(request, int(ws_setting("FORWARDED_FOR_PROXIES")))
        # Every attempt counts towards the rate limit, whatever is wrong with it, so
        # guessing (tokens, channels) is slowed down too. The first refusal found is
        # kept and raised once the attempt is counted; a refused Origin or channel
        # still spends the token it presented (single use is a single presentation).
        refusal = None
        try:
            check_origin(request)
            self.channel_name = self._requested_channel(request)
        except Rejection as rejection:
            refusal = rejection
        user_id, browser_session, token_refusal = self._identify(request)
        refusal = refusal or token_refusal
        attempt_id = self._record_attempt(ip_address, user_id) if self.RATE_LIMIT_ENABLED else None
        if refusal is not None:
            raise refusal
        user = request.user
        if not self.has_websocket_permissions(user):
            raise forbidden("permission denied", f"user {user_id} lacks the permissions this view requires")
        if not self.can_join_channel(request, user, self.channel_name):
            raise forbidden("channel not allowed", f"user {user_id} may not join channel {self.channel_name!r}")
        session = WebSocketSession.objects.open(
            connection_id=self.connection_id,
            channel_name=self.channel_name,
            user_id=user_id,
            api_gateway=self.api_gateway,
            browser_session=browser_session,
        )
        if session is None:
            raise Rejection(409, "connection already exists", f"connection {self.connection_id} opened twice at once")
        self.websocket_session = session
        if attempt_id is not None:
            ConnectionRateLimit.objects.mark_successful(attempt_id)

    def _record_attempt(self, ip_address, user_id):
        """Count this connection attempt; 429 when the address or the user made more
        than ``RATE_LIMIT_MAX_ATTEMPTS`` in the window (this one included)."""
        window_minutes = float(self.RATE_LIMIT_WINDOW_MINUTES)
        limit = int(self.RATE_LIMIT_MAX_ATTEMPTS)
        attempts = ConnectionRateLimit.objects.record_attempt(ip_address, user_id, window_minutes=window_minutes)
        if attempts.exceeds(limit):
            raise Rejection(
                429,
                "too many connection attempts",
                f"{attempts.by_address} attempts from {ip_address} and {attempts.by_user} by user {user_id} "
                f"in {window_minutes} min (limit {limit})",
            )
        return attempts.attempt_id

    def _gateway_for_connect(self):
        """The registered ``ApiGateway`` of the calling API, in the same query as
        whether the connection id already has a session."""
        taken = WebSocketSession.objects.filter(connection_id=self.connection_id)
        gateway = ApiGateway.objects.filter(api_id=self.api_id).annotate(connection_taken=Exists(taken)).first()
        if gateway is None:
            raise not_from_api_gateway(f"API id {self.api_id!r} belongs to no registered ApiGateway")
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
        """``(user id or None, login session key, Rejection or None)`` for the client,
        and ``request.user`` set to its user.

        With tokens, the token must be one the token endpoint issued, unused and
        unexpired; it must come back from the browser it went to (its binding cookie,
        when ``TOKEN_SESSION_BINDING``), and the login session it was issued in must
        still be alive for that same, active user: a token minted before a logout, a
        password change or a deactivation is refused after it.
        """
        if not self.USE_WS_TOKEN:
            user = _user_from_forwarded_cookie(request)
            return (user.pk if user.is_authenticated else None), session_key_from_cookie(request) or "", None
        request.user = AnonymousUser()
        raw_token = query_value(request, "ws_token")
        if raw_token is None:
            return None, "", forbidden("invalid token", "no ws_token in the query string")
        consumed = WebSocketToken.objects.consume(raw_token)
        if consumed is None:
            return None, "", forbidden("invalid token", "ws_token is unknown, already used or expired")
        binding_cookie = request.COOKIES.get(ws_setting("BINDING_COOKIE_NAME"))
        if ws_setting("TOKEN_SESSION_BINDING") and not consumed.issued_to_browser(binding_cookie):
            return (
                consumed.user_id,
                "",
                forbidden("invalid token", f"the token of user {consumed.user_id} came back from another browser"),
            )
        user = _user_of_login_session(consumed.session_key)
        if user.pk != consumed.user_id:
            return (
                consumed.user_id,
                "",
                forbidden(
                    "invalid token", f"the login session the token of user {consumed.user_id} was issued in has ended"
                ),
            )
        request.user = user
        return user.pk, consumed.session_key, None

    def has_websocket_permissions(self, user):
        """True when ``user`` has one of ``permissions_required`` (if any) and all
        of ``all_permissions_required`` (if any). Anonymous users have none.

        Checked on ``$connect`` and for every message. Override it to decide who may
        connect and send (call ``super()`` to keep the permission lists)."""
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
        session = WebSocketSession.objects.close(self.connection_id, self.api_id)
        if session is None:
            return self.reject(self._no_open_session())
        self.websocket_session = session
        return HttpResponse(status=200)

    # ------------------------------------------------------------------ messages

    def receive_message(self, request, *args, **kwargs):
        """A message: choose the handler, count the message on the session, call it."""
        try:
            handler_name = self.select_handler(self.body, self.route)
            if handler_name == HEARTBEAT_HANDLER and type(self).heartbeat is WebSocketView.heartbeat:
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

    # ---------------------------------------------------------- handler selection

    @classmethod
    def select_handler(cls, body, route_name):
        """The name of the method that handles ``body`` arriving on ``route_name``.

        API Gateway has already chosen the route (and so the view); the view chooses
        its method from the message, in this order:

        1. ``body[handler_selection_key]`` (``"handler"``), when the client names one;
        2. else ``body[route_selection_key]`` (``"action"``);
        3. else the route: the URL's ``route`` slug, or the view's ``route_key``.

        The name chosen is used when it is an allowed handler (see
        :meth:`allowed_handlers`); otherwise, or when nothing names a handler, the
        message goes to :meth:`default`, with ``self.body`` intact. A name that is not
        allowed is logged (at info level) and never called.
        """
        handler_key, action_key = cls.handler_selection_key, cls.route_selection_key
        if handler_key and handler_key in body:
            # The client asked for this method: anything else is worth a log line.
            return cls._allowed_or_default(body[handler_key], handler_key, log_refusal=True)
        if action_key and action_key in body:
            # An action usually names the route, and only sometimes a method.
            return cls._allowed_or_default(body[action_key], action_key)
        if route_name:
            return cls._allowed_or_default(route_name, "route")
        return DEFAULT_HANDLER

    @classmethod
    def _allowed_or_default(cls, name, source, log_refusal=False):
        if isinstance(name, str) and name in cls.allowed_handlers():
            return name
        if log_refusal or not isinstance(name, str) or is_reserved_handler_name(name):
            logger.info(
                "%s: %s %r is not an allowed handler; the message goes to %s()",
                cls.__name__,
                source,
                str(name)[:100],
                DEFAULT_HANDLER,
            )
        return DEFAULT_HANDLER

    @classmethod
    def allowed_handlers(cls):
        """The handler names clients may select: ``ALLOWED_HANDLERS`` when the view
        sets it; otherwise the public methods defined on the view's own classes (the
        subclasses of ``WebSocketView``, not mixins), plus
        ``ADDITIONAL_ALLOWED_HANDLERS``. ``default`` and ``heartbeat`` always; never a
        reserved name (see :func:`is_reserved_handler_name`)."""
        return _allowed_handlers(cls)

    # ------------------------------------------------------------------- sessions

    def _session_for_message(self):
        """The sender's open session, with this message counted in its total and in
        its rate-limit window. One statement, unless the view checks permissions: then
        the session is read first, so that a refused message is not counted."""
        checks_permissions = self._checks_permissions()
        if checks_permissions:
            found = WebSocketSession.objects.find_open(self.connection_id, self.api_id)
            if found is None:
                raise self._no_open_session()
            if not self.has_websocket_permissions(_active_or_anonymous(found.user)):
                raise forbidden("permission denied", f"user {found.user_id} lacks the permissions this view requires")
        limit = self.message_limit()
        session = WebSocketSession.objects.count_message(self.connection_id, self.api_id, limit)
        if session is None:
            raise self._no_open_session(limit)
        if checks_permissions:
            session.user = found.user
        return session

    def message_limit(self):
        """The :class:`~.managers.MessageLimit` of this view's message routes, or None
        when ``MESSAGE_RATE_LIMIT_ENABLED`` is off."""
        if not self.MESSAGE_RATE_LIMIT_ENABLED:
            return None
        return MessageLimit(
            per_connection=int(self.MESSAGE_RATE_LIMIT_MAX_MESSAGES),
            per_user=int(self.MESSAGE_RATE_LIMIT_USER_MAX_MESSAGES),
            window_seconds=float(self.MESSAGE_RATE_LIMIT_WINDOW_SECONDS),
        )

    def _checks_permissions(self):
        """Whether messages need :meth:`has_websocket_permissions`: the view lists
        permissions, or overrides the method."""
        overridden = type(self).has_websocket_permissions is not WebSocketView.has_websocket_permissions
        return bool(self.permissions_required or self.all_permissions_required or overridden)

    def _no_open_session(self, limit=None, heartbeat=False):
        """The :class:`Rejection` for a request whose connection has no open session
        (for a heartbeat, an unknown connection is just a closed one: 410)."""
        reason = WebSocketSession.objects.why_not_open(self.connection_id, self.api_id, limit)
        if heartbeat and reason == NoOpenSession.UNKNOWN_CONNECTION:
            reason = NoOpenSession.CLOSED
        detail = f"connection {short_hash(self.connection_id)} of API {self.api_id!r}: {reason.value}"
        if reason in (NoOpenSession.UNKNOWN_API, NoOpenSession.OTHER_API, NoOpenSession.UNKNOWN_CONNECTION):
            return not_from_api_gateway(detail)
        status, short = {
            NoOpenSession.CLOSED: (410, "connection closed"),
            NoOpenSession.CONNECTION_RATE_LIMITED: (429, "too many messages"),
            NoOpenSession.USER_RATE_LIMITED: (429, "too many messages"),
            NoOpenSession.CHANGED: (409, "connection changed"),
        }[reason]
        return Rejection(status, short, detail)

    def heartbeat(self, request, *args, **kwargs):
        """Built-in keep-alive (``{"action": "heartbeat"}``, sent by the JavaScript
        client): refresh the session's ``updated_on`` in one UPDATE and answer 204;
        410 when the connection is not open. Nothing else runs, and heartbeats do not
        count towards the message rate limit."""
        if WebSocketSession.objects.touch(self.connection_id, self.api_id):
            return HttpResponse(status=204)
        return self.reject(self._no_open_session(heartbeat=True))

    def default(self, request, *args, **kwargs):
        """Messages that no other handler takes. Answers 204; override it."""
        return None


@functools.cache
def _allowed_handlers(view_class):
    # Computed once per view class.
    explicit = view_class.ALLOWED_HANDLERS
    if isinstance(explicit, str):
        explicit = [explicit]
    if explicit:
        names = set(explicit)
    else:
        names = set()
        for klass in view_class.__mro__:
            if klass is not WebSocketView and issubclass(klass, WebSocketView):
                names.update(name for name, value in vars(klass).items() if inspect.isfunction(value))
        additional = view_class.ADDITIONAL_ALLOWED_HANDLERS or ()
        names.update([additional] if isinstance(additional, str) else additional)
    names.update(ALWAYS_ALLOWED_HANDLERS)
    return frozenset(
        name
        for name in names
        if isinstance(name, str)
        and HANDLER_NAME_PATTERN.fullmatch(name)
        and not is_reserved_handler_name(name)
        and callable(getattr(view_class, name, None))
    )


@functools.cache
def _reserved_handler_names():
    # Public names of WebSocketView and Django's View, and every HTTP method name.
    names = {name for name in dir(WebSocketView) if not name.startswith("_")}
    names.update(View.http_method_names)
    return frozenset(names - ALWAYS_ALLOWED_HANDLERS)


def is_reserved_handler_name(name):
    """True for names that are the view's machinery, never a handler: names starting
    with ``_`` and every name Django's ``View`` or ``WebSocketView`` defines
    (``dispatch``, ``setup``, ``connect``, ``disconnect``, ``as_view``, ...)."""
    return name.startswith("_") or name in _reserved_handler_names()


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


def _active_or_anonymous(user):
    # As Django's ModelBackend: a deactivated user is nobody, also on a socket
    # that opened before the account was deactivated.
    return user if user is not None and user.is_active else AnonymousUser()


def set_binding_cookie(response, name, value):
    """The browser's binding cookie: sent with the socket's handshake (to the
    WebSocket domain, so on ``BINDING_COOKIE_DOMAIN``, by default the session cookie's
    domain), never readable by the page's JavaScript."""
    response.set_cookie(
        name,
        value,
        max_age=settings.SESSION_COOKIE_AGE,
        domain=ws_setting("BINDING_COOKIE_DOMAIN") or settings.SESSION_COOKIE_DOMAIN,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite=settings.SESSION_COOKIE_SAMESITE or "Lax",
    )


def _user_of_login_session(session_key):
    """The user logged in to Django session ``session_key``, as Django's own
    ``get_user`` finds it (session alive, password unchanged, account active);
    anonymous otherwise."""
    engine = import_module(settings.SESSION_ENGINE)
    return get_user(SimpleNamespace(session=engine.SessionStore(session_key or None)))


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
        # The token limit counts committed rows (see WebSocketToken.objects.issue), so this view
        # never runs inside ATOMIC_REQUESTS' transaction either.
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    def post(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"error": "authentication required"}, status=401)
        if WebSocketToken.objects.issuing_limited(request.user):
            return self._too_many(request)
        if not request.session.session_key:
            request.session.save()
        binding_name = ws_setting("BINDING_COOKIE_NAME")
        binding = request.COOKIES.get(binding_name) or secrets.token_urlsafe(32)
        issued = WebSocketToken.objects.issue(request.user, request.session.session_key, binding)
        if issued is None:
            return self._too_many(request)
        token, expires_in = issued
        response = JsonResponse({"token": token, "expires_in": expires_in})
        if request.COOKIES.get(binding_name) != binding:
            set_binding_cookie(response, binding_name, binding)
        return response

    def _too_many(self, request):
        logger.warning("WebSocket token refused for user %s: token rate limit reached", request.user.pk)
        return JsonResponse({"error": "too many token requests"}, status=429)

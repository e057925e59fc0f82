"""Where the app's tunable values come from.

Three layers, most specific first: a class attribute set on a view subclass, then
the project's ``WEBSOCKETS`` settings dictionary, then the documented default.
Values are read when used, so ``override_settings`` in tests takes effect.
"""

from django.conf import settings

# The stage an ApiGateway record deploys to when it names none.
DEFAULT_STAGE_NAME = "production"

DEFAULTS = {
    # Connections
    "USE_WS_TOKEN": True,
    "RATE_LIMIT_ENABLED": True,
    "RATE_LIMIT_MAX_ATTEMPTS": 20,
    "RATE_LIMIT_WINDOW_MINUTES": 5,
    "MAX_BODY_SIZE": 128 * 1024,
    # Levels of nesting a message may have (the object itself is level 1).
    "MAX_MESSAGE_DEPTH": 32,
    "MAX_CHANNEL_NAME_LENGTH": 191,
    "CHANNEL_NAME_PATTERN": r"^[A-Za-z0-9_-]+$",
    # Origins of the pages that may open a socket (scheme, host and port). None: the
    # CSRF_TRUSTED_ORIGINS, and https:// on each of ALLOWED_HOSTS.
    "ALLOWED_ORIGINS": None,
    # Proxies of the deployment's own that append to X-Forwarded-For between API
    # Gateway and Django (an ALB: 1). The client address is the entry API Gateway added.
    "FORWARDED_FOR_PROXIES": 0,
    # Messages per connection, and per user over all their connections, in a window.
    "MESSAGE_RATE_LIMIT_ENABLED": True,
    "MESSAGE_RATE_LIMIT_MAX_MESSAGES": 60,
    "MESSAGE_RATE_LIMIT_USER_MAX_MESSAGES": 180,
    "MESSAGE_RATE_LIMIT_WINDOW_SECONDS": 10,
    # Tokens
    "TOKEN_EXPIRY_SECONDS": 60,
    "TOKEN_RATE_LIMIT_MAX": 30,
    "TOKEN_RATE_LIMIT_WINDOW_MINUTES": 5,
    # A token only opens a socket for the browser that asked for it (a cookie of its
    # own, BINDING_COOKIE_NAME, on BINDING_COOKIE_DOMAIN: None is SESSION_COOKIE_DOMAIN),
    # and only while that browser's login session lasts.
    "TOKEN_SESSION_BINDING": True,
    "BINDING_COOKIE_NAME": "ws_binding",
    "BINDING_COOKIE_DOMAIN": None,
    # Sending through the management API
    # Posts in flight at once. At a region's ~30 ms round trip, 200 give some 6,000
    # messages a second, inside API Gateway's account-wide 10,000 requests a second.
    "SEND_CONCURRENCY": 200,
    "SEND_TIMEOUT_SECONDS": 10.0,
    "SEND_THROTTLE_RETRIES": 5,
    "SEND_THROTTLE_BASE_DELAY_SECONDS": 0.05,
    # Retries of a post answered 5xx, or whose connection failed before any answer.
    "SEND_RETRIES": 2,
    # A whole send: posts still unanswered then are reported failed, never waited for.
    "SEND_MAX_WAIT_SECONDS": 60.0,
    # Background sends (Celery): sessions per task, and the request rate shared by all
    # workers (posts a second and burst; None: no shared limit), in this Redis (None:
    # the Celery broker's, when it is Redis).
    "BACKGROUND_SEND_CHUNK_SIZE": 1000,
    "BACKGROUND_SEND_RATE_LIMIT": None,
    "BACKGROUND_SEND_BURST": None,
    "BACKGROUND_SEND_REDIS_URL": None,
    # A 410 for a session younger than this is its $connect still in progress, not a
    # gone client: the session is not marked disconnected.
    "NEW_CONNECTION_GRACE_SECONDS": 5,
    # Provisioning: saving a route or the target endpoint of a created API syncs AWS.
    "AUTO_SYNC_API_GATEWAY": True,
    # The stage's default route throttling (requests per second, and burst); None
    # leaves API Gateway's account-level limits.
    "STAGE_THROTTLING_RATE_LIMIT": None,
    "STAGE_THROTTLING_BURST_LIMIT": None,
    # Clean-up: API Gateway closes every connection after two hours.
    "MAX_CONNECTION_SECONDS": 2 * 60 * 60,
}


def gateway_secret(previous=False):
    """The shared secret API Gateway sends with every call (a stage variable that
    provisioning maps into a header): the project's ``WEBSOCKET_GATEWAY_SECRET``
    setting, or with ``previous`` its ``WEBSOCKET_GATEWAY_SECRET_PREVIOUS``, accepted
    too during a rotation. Top-level settings, not ``WEBSOCKETS`` keys: a secret comes
    from the environment, and overriding ``WEBSOCKETS`` in a test must not drop it."""
    name = "WEBSOCKET_GATEWAY_SECRET_PREVIOUS" if previous else "WEBSOCKET_GATEWAY_SECRET"
    return getattr(settings, name, "") or ""


def ws_setting(name):
    """The project's ``WEBSOCKETS[name]``, else the documented default."""
    overrides = getattr(settings, "WEBSOCKETS", None) or {}
    if name in overrides:
        return overrides[name]
    return DEFAULTS[name]


class ViewSetting:
    """A class attribute that reads ``WEBSOCKETS`` until a subclass sets a value.

    ``WebSocketView.RATE_LIMIT_MAX_ATTEMPTS`` reads as 20 (or the project's
    setting); ``class MyView(WebSocketView): RATE_LIMIT_MAX_ATTEMPTS = 40`` replaces
    the descriptor with a plain value, which then wins.
    """

    def __set_name__(self, owner, attribute):
        # The attribute is named after its setting.
        self.name = attribute

    def __get__(self, instance, owner=None):
        return ws_setting(self.name)

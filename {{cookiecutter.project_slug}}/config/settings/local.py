"""Settings for ``make dev``: a laptop, with the local API Gateway instead of AWS."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# localdev (``manage.py dev`` and ``manage.py localgateway``, the demo users) is
# development tooling: only these settings and the test settings install it, and the
# production package and image do not contain it.
INSTALLED_APPS = ["whitenoise.runserver_nostatic", *INSTALLED_APPS, "localdev"]  # noqa: F405

# The local API Gateway (`manage.py localgateway`) plays AWS on this port: its
# control plane answers the provisioning code, its data plane holds the sockets and
# calls Django back on DJANGO_PORT.
DJANGO_PORT = env.int("DJANGO_PORT", default=8000)
LOCAL_GATEWAY_PORT = env.int("LOCAL_GATEWAY_PORT", default=8001)
# The pages' origins: what the WebSocket app's Origin check compares (scheme, host, port).
CSRF_TRUSTED_ORIGINS = [f"http://{host}:{DJANGO_PORT}" for host in ("127.0.0.1", "localhost", "[::1]")]
# Pages open their sockets to the local gateway.
SECURE_CSP = {
    **SECURE_CSP,  # noqa: F405
    "connect-src": ["'self'", *(f"ws://{host}:{LOCAL_GATEWAY_PORT}" for host in ("127.0.0.1", "localhost"))],
}
AWS_ENDPOINT_URL_APIGATEWAYV2 = f"http://127.0.0.1:{LOCAL_GATEWAY_PORT}"
# createCustomDomain's Route 53 alias record goes to the gateway's small Route 53 too.
AWS_ENDPOINT_URL_ROUTE53 = f"http://127.0.0.1:{LOCAL_GATEWAY_PORT}"
# Where the local gateway keeps its APIs between runs of `make dev` (so ids stay put).
LOCAL_GATEWAY_STATE_FILE = env("LOCAL_GATEWAY_STATE_FILE", default=str(BASE_DIR / ".localgateway-state.json"))
# The local gateway accepts any signature; boto3 still needs something to sign with.
AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default="local-gateway")
AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default="local-gateway")
AWS_IAM_PROFILE = None

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# runserver's request log leaves out the query string of the WebSocket callbacks
# (the connection token travels there). The routine loggers (runserver's line per
# request, the autoreloader's, the local gateway's line per connection) log at
# DEV_ROUTINE_LOG_LEVEL: make dev sets WARNING, so that its banner stays on screen,
# and INFO with VERBOSE=1.
ROUTINE_LOG_LEVEL = env("DEV_ROUTINE_LOG_LEVEL", default="INFO")
LOGGING = {
    **LOGGING,  # noqa: F405
    "filters": {"hide_callback_query_strings": {"()": "localdev.logs.HideCallbackQueryStrings"}},
    "loggers": {
        **LOGGING["loggers"],  # noqa: F405
        # Django's own console handler (on with DEBUG) would print each of its lines a
        # second time, beside the root logger's.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {
            "handlers": ["console"],
            "level": ROUTINE_LOG_LEVEL,
            "filters": ["hide_callback_query_strings"],
            "propagate": False,
        },
        "django.utils.autoreload": {"level": ROUTINE_LOG_LEVEL},
        "localgateway": {"level": ROUTINE_LOG_LEVEL},
    },
}

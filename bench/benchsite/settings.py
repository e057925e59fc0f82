"""Settings shared by both implementations (see ``benchsite/__init__.py``).

The database comes from ``BENCH_DATABASE_URL``: ``sqlite:///<path>`` or
``postgres://user@host:port/name``. Parsed here, because the published package's
throwaway environment has no django-environ.
"""

import os
from urllib.parse import urlsplit

from .secret import GATEWAY_SECRET

IMPL = os.environ.get("BENCH_IMPL", "ours")
if IMPL not in ("ours", "theirs"):
    raise RuntimeError(f"BENCH_IMPL must be 'ours' or 'theirs', not {IMPL!r}")

SECRET_KEY = "bench-only-not-secret"  # noqa: S105
DEBUG = False
# The published package compares the raw Host header with this list on $connect.
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django_aws_api_gateway_websockets",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "benchsite.urls"
WSGI_APPLICATION = "benchsite.wsgi.application"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _database(url):
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # Two gunicorn workers write at once: WAL lets readers and the writer overlap, and
        # the timeout makes a writer wait for the lock rather than fail. Without WAL both
        # packages spend most of a request in SQLite's lock-retry sleeps (see README).
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": parts.path,
            "OPTIONS": {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parts.path.lstrip("/"),
            "USER": parts.username or "postgres",
            "PASSWORD": parts.password or "",
            "HOST": parts.hostname or "127.0.0.1",
            "PORT": str(parts.port or 5432),
            # Persistent connections, as a production gunicorn deployment would use.
            "CONN_MAX_AGE": 600,
        }
    raise RuntimeError(f"Unsupported BENCH_DATABASE_URL {url!r}")


DATABASES = {"default": _database(os.environ.get("BENCH_DATABASE_URL", "sqlite:///bench.sqlite3"))}
DATABASES["default"]["ATOMIC_REQUESTS"] = False

# Dummy credentials: the local gateway checks that requests are signed, not by whom.
AWS_GATEWAY_REGION_NAME = "us-east-1"
AWS_IAM_PROFILE = None
AWS_ACCESS_KEY_ID = "bench-key-id"
AWS_SECRET_ACCESS_KEY = "bench-secret-key"  # noqa: S105

# Each package's own defaults, except that neither may call AWS when a record is saved.
WEBSOCKETS = {"AUTO_SYNC_API_GATEWAY": False} if IMPL == "ours" else {"push_changes_to_aws": False}
if IMPL == "ours":
    # The secret API Gateway sends with every call (X-Gateway-Secret; the published package
    # has none and ignores the header), and the pages' origin the $connect check accepts.
    WEBSOCKET_GATEWAY_SECRET = GATEWAY_SECRET
    WEBSOCKETS["ALLOWED_ORIGINS"] = ["http://testserver"]
    # wrk sends each of the 100 sessions more messages a second than a person could: the
    # message rate limit stays on (its count is part of the statement measured) with a
    # ceiling the bench never reaches, so every callback does the full work of a 204.
    WEBSOCKETS["MESSAGE_RATE_LIMIT_MAX_MESSAGES"] = 10**9
    WEBSOCKETS["MESSAGE_RATE_LIMIT_USER_MAX_MESSAGES"] = 10**9
# For experiments only (make bench leaves it unset): our sender's concurrency bound.
if IMPL == "ours" and os.environ.get("BENCH_SEND_CONCURRENCY"):
    WEBSOCKETS["SEND_CONCURRENCY"] = int(os.environ["BENCH_SEND_CONCURRENCY"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    # Errors only: a log line per request would measure the terminal, not the code.
    "root": {"handlers": ["stderr"], "level": "ERROR"},
}

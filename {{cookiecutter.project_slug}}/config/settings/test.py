"""Settings for the test suite: SQLite unless DATABASE_URL points elsewhere."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env

SECRET_KEY = "test-only-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# The development tooling (make dev's commands and the local gateway) is tested too.
INSTALLED_APPS = [*INSTALLED_APPS, "localdev"]  # noqa: F405
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'test.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not Django's in-memory test database. The live server answers in threads of
    # its own; pytest-django lends them the test thread's connection to that database only
    # if the database existed when the live server started, and once Playwright runs its
    # asyncio loop in the test's thread Django opens another connection there anyway (its
    # connections follow the asyncio context). Two connections to one shared-cache
    # in-memory database lock each other out at once, no busy timeout applying ("database
    # table is locked"), whenever one writes while the other reads. With a file in WAL
    # mode every thread has a connection of its own: readers never wait, a writer waits
    # its turn for up to `timeout` seconds, and BEGIN IMMEDIATE takes the write lock when
    # a transaction starts, never halfway through. tests/conftest.py puts the file in the
    # test run's temporary folder.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
    }
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests never reach AWS: a test that wants the automatic sync turns it back on.
WEBSOCKETS = {**WEBSOCKETS, "AUTO_SYNC_API_GATEWAY": False}  # noqa: F405
# The tests' own gateway secret (the test clients send it as API Gateway would).
WEBSOCKET_GATEWAY_SECRET = "test-gateway-secret-not-for-production-0123456789"  # noqa: S105
WEBSOCKET_GATEWAY_SECRET_PREVIOUS = ""
# Region fixed and dummy credentials.
AWS_GATEWAY_REGION_NAME = "{{ cookiecutter.aws_region }}"
AWS_IAM_PROFILE = None
AWS_ACCESS_KEY_ID = "test-key-id"
AWS_SECRET_ACCESS_KEY = "test-secret-key"  # noqa: S105
# Browser tests run the local gateway on a free port of 127.0.0.1.
SECURE_CSP = {**SECURE_CSP, "connect-src": ["'self'", "ws://127.0.0.1:*"]}  # noqa: F405
# Serve static files from the apps' folders, as in development: no collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
{%- if cookiecutter.background_sends == "celery" %}
# Background sends run in the test's own process (Celery's eager mode), once the
# transaction that asked for them commits.
CELERY_TASK_ALWAYS_EAGER = True
{%- endif %}

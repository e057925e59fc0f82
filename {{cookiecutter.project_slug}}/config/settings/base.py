"""Settings shared by every environment."""

from pathlib import Path

import environ
{%- if cookiecutter.django_version == "6.1" %}
from django.utils.csp import CSP
{%- endif %}

BASE_DIR = Path(__file__).resolve().parent.parent.parent
APPS_DIR = BASE_DIR / "{{ cookiecutter.project_slug }}"

env = environ.Env()
# A developer's .env fills in what the real environment does not set.
env.read_env(BASE_DIR / ".env")

PROJECT_NAME = "{{ cookiecutter.project_name }}"
# The site answers on www.<domain>; API Gateway carries the sockets on ws.<domain>.
DOMAIN_NAME = env("DOMAIN_NAME", default="{{ cookiecutter.domain_name }}")
SITE_HOST = env("SITE_HOST", default=f"www.{DOMAIN_NAME}")
WEBSOCKET_HOST = env("WEBSOCKET_HOST", default=f"ws.{DOMAIN_NAME}")

# Required in production (production.py insists); .env provides one locally.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[SITE_HOST])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_aws_api_gateway_websockets",
    "{{ cookiecutter.project_slug }}.users",
{%- if cookiecutter.use_chat %}
    "{{ cookiecutter.project_slug }}.chat",
{%- endif %}
{%- if cookiecutter.use_dashboard %}
    "{{ cookiecutter.project_slug }}.dashboard",
{%- endif %}
{%- if cookiecutter.use_notifications %}
    "{{ cookiecutter.project_slug }}.notifications",
{%- endif %}
]

MIDDLEWARE = [
    "{{ cookiecutter.project_slug }}.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
{%- if cookiecutter.django_version == "6.1" %}
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
{%- else %}
    # Django 5.2 has no CSP middleware; this one sends the same header from SECURE_CSP.
    "{{ cookiecutter.project_slug }}.csp.ContentSecurityPolicyMiddleware",
{%- endif %}
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [APPS_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "{{ cookiecutter.project_slug }}.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "{{ cookiecutter.timezone }}"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic writes here and whitenoise serves from here (a writable path on servers).
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [APPS_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Pages load everything from the site itself and open sockets to the site and the
# WebSocket domain only. WEBSOCKET_CSP_CONNECT_SRC adds sources (the API's own
# wss://<id>.execute-api... URL, before the custom domain exists).
{%- if cookiecutter.django_version == "6.1" %}
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF, f"wss://{WEBSOCKET_HOST}", *env.list("WEBSOCKET_CSP_CONNECT_SRC", default=[])],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
{%- else %}
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'", f"wss://{WEBSOCKET_HOST}", *env.list("WEBSOCKET_CSP_CONNECT_SRC", default=[])],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
{%- endif %}

# The WebSocket token endpoint reads the CSRF cookie from JavaScript.
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# AWS: region first from AWS_GATEWAY_REGION_NAME, then AWS_REGION_NAME. Credentials
# come from AWS_IAM_PROFILE, then AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then the
# environment or the instance/task role. Never write keys into this file.
AWS_GATEWAY_REGION_NAME = env("AWS_GATEWAY_REGION_NAME", default="{{ cookiecutter.aws_region }}")
AWS_IAM_PROFILE = env("AWS_IAM_PROFILE", default=None)
AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default=None)
AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default=None)
AWS_SESSION_TOKEN = env("AWS_SESSION_TOKEN", default=None)
AWS_ACCOUNT_ID = env("AWS_ACCOUNT_ID", default="{{ cookiecutter.aws_account_id }}")
# Point boto3 at other endpoints (the local gateway plays both in development and tests).
AWS_ENDPOINT_URL_APIGATEWAYV2 = env("AWS_ENDPOINT_URL_APIGATEWAYV2", default=None)
AWS_ENDPOINT_URL_ROUTE53 = env("AWS_ENDPOINT_URL_ROUTE53", default=None)

# The secret API Gateway sends with every call (provisioning puts it in a stage
# variable mapped into a header). From the environment only, never a tracked file;
# during a rotation the previous one is accepted too (manage.py rotategatewaysecret).
WEBSOCKET_GATEWAY_SECRET = env("WEBSOCKET_GATEWAY_SECRET", default="")
WEBSOCKET_GATEWAY_SECRET_PREVIOUS = env("WEBSOCKET_GATEWAY_SECRET_PREVIOUS", default="")

# Defaults for every WebSocketView; a view's class attribute wins over these.
WEBSOCKETS = {
    # Proxies of yours that append to X-Forwarded-For after API Gateway (an ALB: 1).
    "FORWARDED_FOR_PROXIES": env.int("WEBSOCKET_FORWARDED_FOR_PROXIES", default=0),
    "TOKEN_EXPIRY_SECONDS": env.int("WEBSOCKET_TOKEN_EXPIRY_SECONDS", default=60),
    "RATE_LIMIT_MAX_ATTEMPTS": env.int("WEBSOCKET_RATE_LIMIT_MAX_ATTEMPTS", default=20),
    "RATE_LIMIT_WINDOW_MINUTES": env.int("WEBSOCKET_RATE_LIMIT_WINDOW_MINUTES", default=5),
    "MESSAGE_RATE_LIMIT_MAX_MESSAGES": env.int("WEBSOCKET_MESSAGE_RATE_LIMIT_MAX_MESSAGES", default=60),
    "MESSAGE_RATE_LIMIT_USER_MAX_MESSAGES": env.int("WEBSOCKET_MESSAGE_RATE_LIMIT_USER_MAX_MESSAGES", default=180),
    "MESSAGE_RATE_LIMIT_WINDOW_SECONDS": env.int("WEBSOCKET_MESSAGE_RATE_LIMIT_WINDOW_SECONDS", default=10),
    # The stage's throttling, set by provisioning (None: API Gateway's account limits).
    "STAGE_THROTTLING_RATE_LIMIT": env.float("WEBSOCKET_STAGE_THROTTLING_RATE_LIMIT", default=None),
    "STAGE_THROTTLING_BURST_LIMIT": env.int("WEBSOCKET_STAGE_THROTTLING_BURST_LIMIT", default=None),
{%- if cookiecutter.background_sends == "celery" %}
    # Background sends: sessions per task, and the request rate all workers share
    # (posts a second and burst, under API Gateway's account-level 10,000 a second;
    # unset: no shared limit), kept in WEBSOCKET_BACKGROUND_SEND_REDIS_URL's Redis or,
    # when unset, the broker's.
    "BACKGROUND_SEND_CHUNK_SIZE": env.int("WEBSOCKET_BACKGROUND_SEND_CHUNK_SIZE", default=1000),
    "BACKGROUND_SEND_RATE_LIMIT": env.float("WEBSOCKET_BACKGROUND_SEND_RATE_LIMIT", default=None),
    "BACKGROUND_SEND_BURST": env.int("WEBSOCKET_BACKGROUND_SEND_BURST", default=None),
    "BACKGROUND_SEND_REDIS_URL": env("WEBSOCKET_BACKGROUND_SEND_REDIS_URL", default=None),
{%- endif %}
}
{%- if cookiecutter.background_sends == "celery" %}

# Background sends: WebSocketSession.objects.filter(...).send_message(payload,
# background=True) hands a broadcast to the Celery workers (config/celery.py) and
# returns at once. The broker: Redis (redis://host:6379/0), or Amazon SQS (sqs://,
# in the region below, with the credentials the rest of AWS uses).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
# The queue the tasks go to, named after the project: projects may share a broker.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="{{ cookiecutter.project_slug }}")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "region": AWS_GATEWAY_REGION_NAME,
    # A task taken by a worker that vanished (killed, its machine gone) is handed to
    # another after this many seconds. Keep it well above the longest chunk: a task
    # still running then is handed out a second time.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
}
# At least once: a task is acknowledged when it is done, and handed back when the
# process running it dies; a worker takes one task at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
{%- endif %}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django_aws_api_gateway_websockets": {"level": env("WEBSOCKETS_LOG_LEVEL", default="INFO")},
    },
}

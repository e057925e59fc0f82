"""Settings for production: behind a TLS-terminating proxy (nginx or a load balancer),
with AWS API Gateway holding the sockets on ws.<domain> and calling Django back on
https://www.<domain>/ws/<route>.

Every value can be overridden from the environment (see .env.example for the list);
`manage.py check --deploy --fail-level WARNING` must stay clean, and deploy/release.sh
refuses to release when it is not.
"""

from .base import *  # noqa: F403
from .base import DOMAIN_NAME, SITE_HOST, env

SECRET_KEY = env("DJANGO_SECRET_KEY")
# Overridable like everything else, but the release script's `check --deploy`
# refuses to release a production build with DEBUG on.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# API Gateway calls Django on the site host too, so one host is enough by default.
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[SITE_HOST])
# Also the origins whose pages may open a socket (the WebSocket app's Origin check).
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[f"https://{SITE_HOST}"])

# The session and CSRF cookies stay on the site's own host (www.<domain>): the
# WebSocket domain never needs them. The socket's handshake to ws.<domain> carries
# only the binding cookie, set by the token endpoint on the apex, which ties a
# connection token to the browser that asked for it.
SESSION_COOKIE_SAMESITE = env("DJANGO_SESSION_COOKIE_SAMESITE", default="Lax")
CSRF_COOKIE_SAMESITE = env("DJANGO_CSRF_COOKIE_SAMESITE", default="Lax")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=True)
WEBSOCKETS = {
    **WEBSOCKETS,  # noqa: F405
    "BINDING_COOKIE_DOMAIN": env("WEBSOCKET_BINDING_COOKIE_DOMAIN", default=f".{DOMAIN_NAME}"),
}
# Required: without it Django refuses to start (and every callback would be refused).
WEBSOCKET_GATEWAY_SECRET = env("WEBSOCKET_GATEWAY_SECRET")

# TLS ends at the proxy, which tells Django the original scheme with this header.
# The proxy must overwrite any X-Forwarded-Proto a client sent (deploy/ does).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = env.list("DJANGO_SECURE_REDIRECT_EXEMPT", default=[r"^healthz$"])
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Static files: whitenoise serves what collectstatic wrote, compressed and with a
# content hash in every name (base.py's STORAGES), so browsers cache them forever.
WHITENOISE_MAX_AGE = env.int("WHITENOISE_MAX_AGE", default=60)

{% if cookiecutter.aws_credentials == "iam_role" -%}
# AWS credentials come from the EC2 instance role or the ECS task role: boto3 finds
# them by itself, so nothing is set here. (AWS_IAM_PROFILE or AWS_ACCESS_KEY_ID in
# the environment would still take precedence; base.py reads them.)
{%- elif cookiecutter.aws_credentials == "profile" -%}
# AWS credentials come from a named profile in the service user's ~/.aws/config and
# ~/.aws/credentials (or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE); the profile
# name is all this file knows.
AWS_IAM_PROFILE = env("AWS_IAM_PROFILE", default="{{ cookiecutter.project_slug }}")
{%- elif cookiecutter.aws_credentials == "access_keys" -%}
# AWS credentials are access keys read from the environment (the systemd
# EnvironmentFile or the container's environment), never from a tracked file.
# Starting without them fails here, with the name of the missing variable.
AWS_IAM_PROFILE = None
AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY")
{%- endif %}

# Logs go to stdout, one line per record: journald or the container runtime keeps them.
LOG_LEVEL = env("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"},
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Propagate to root's stdout handler; no handler of their own, so nothing is logged twice.
        "django": {"level": LOG_LEVEL, "propagate": True},
        "django_aws_api_gateway_websockets": {"level": env("WEBSOCKETS_LOG_LEVEL", default=LOG_LEVEL)},
    },
}

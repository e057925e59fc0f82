"""AWS sessions and clients, built from the project's settings when first needed.

Credentials, in the documented order: ``AWS_IAM_PROFILE``; else
``AWS_ACCESS_KEY_ID`` with ``AWS_SECRET_ACCESS_KEY``; else whatever boto3 finds in
the environment or the instance/task role. Region: ``AWS_GATEWAY_REGION_NAME``, else
``AWS_REGION_NAME``, else the profile's own region.

Settings are read on every call and the caches are keyed by what they depend on,
so changing settings at run time (``override_settings``) takes effect, while a
steady configuration reuses one thread-safe botocore client per endpoint.
"""

import hashlib
import threading
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .conf import DEFAULT_STAGE_NAME

_lock = threading.Lock()
_sessions = {}
_clients = {}


class MissingRegion(ImproperlyConfigured):
    pass


def _credential_settings():
    profile = getattr(settings, "AWS_IAM_PROFILE", None) or None
    key_id = getattr(settings, "AWS_ACCESS_KEY_ID", None) or None
    secret = getattr(settings, "AWS_SECRET_ACCESS_KEY", None) or None
    token = getattr(settings, "AWS_SESSION_TOKEN", None) or None
    return profile, key_id, secret, token


def _configured_region():
    return getattr(settings, "AWS_GATEWAY_REGION_NAME", None) or getattr(settings, "AWS_REGION_NAME", None) or None


def _session_key():
    profile, key_id, secret, token = _credential_settings()
    # The key holds a digest, never the secret itself.
    secret_digest = hashlib.sha256(f"{secret}|{token}".encode()).hexdigest() if secret else None
    return (profile, key_id if not profile else None, secret_digest if not profile else None, _configured_region())


def get_session():
    """The boto3 session for the current settings (cached per configuration)."""
    key = _session_key()
    with _lock:
        session = _sessions.get(key)
        if session is None:
            session = _build_session()
            _sessions[key] = session
        return session


def _build_session():
    profile, key_id, secret, token = _credential_settings()
    region = _configured_region()
    if profile:
        session = boto3.session.Session(profile_name=profile, region_name=region)
    elif key_id and secret:
        session = boto3.session.Session(
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=token,
            region_name=region,
        )
    else:
        session = boto3.session.Session(region_name=region)
    if not session.region_name:
        raise MissingRegion(
            "No AWS region is configured: set AWS_GATEWAY_REGION_NAME (or AWS_REGION_NAME) "
            "in your Django settings, or use an AWS_IAM_PROFILE that has a region."
        )
    return session


def get_region():
    return get_session().region_name


def endpoint_override(service_name):
    """``AWS_ENDPOINT_URL_<SERVICE>`` from settings (e.g. the local API Gateway)."""
    return getattr(settings, f"AWS_ENDPOINT_URL_{service_name.upper()}", None) or None


def get_client(service_name, endpoint_url=None, max_pool_connections=10):
    """A cached botocore client for ``service_name`` under the current settings."""
    endpoint_url = endpoint_url or endpoint_override(service_name)
    key = (service_name, endpoint_url, max_pool_connections, _session_key())
    with _lock:
        client = _clients.get(key)
    if client is not None:
        return client
    session = get_session()
    client = session.client(
        service_name,
        endpoint_url=endpoint_url,
        config=Config(
            max_pool_connections=max_pool_connections,
            retries={"mode": "standard", "max_attempts": 4},
            connect_timeout=5,
            read_timeout=30,
        ),
    )
    with _lock:
        return _clients.setdefault(key, client)


def get_frozen_credentials():
    """Credentials to sign with right now (refreshed by boto3 when they rotate)."""
    credentials = get_session().get_credentials()
    if credentials is None:
        raise ImproperlyConfigured(
            "No AWS credentials found: set AWS_IAM_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run with an instance or task role."
        )
    return credentials.get_frozen_credentials()


def management_endpoint(api_endpoint, stage_name):
    """The management API's base URL for a WebSocket API endpoint and stage.

    ``wss://abc.execute-api.eu-west-1.amazonaws.com`` with stage ``production``
    gives ``https://abc.execute-api.eu-west-1.amazonaws.com/production``; the local
    gateway's ``ws://127.0.0.1:8001`` gives ``http://127.0.0.1:8001/production``.
    """
    parts = urlsplit(api_endpoint)
    scheme = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/") + "/" + stage_name.strip("/")
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def management_endpoint_url(api_endpoint, stage_name):
    """:func:`management_endpoint`, or "" before the API exists (no ``api_endpoint``)."""
    if not api_endpoint:
        return ""
    return management_endpoint(api_endpoint, stage_name or DEFAULT_STAGE_NAME)


def clear_caches():
    """Forget cached sessions and clients (tests, credential rotation by hand)."""
    with _lock:
        _sessions.clear()
        _clients.clear()

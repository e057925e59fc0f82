"""What the browser sent with its WebSocket handshake (``$connect`` only).

API Gateway forwards the client's query string (``?channel=...&ws_token=...``) and
its ``Cookie`` and ``Origin`` headers on ``$connect`` and never again, so this is the
only moment Django learns who is connecting, from where, and to which channel.
"""

import re
import unicodedata
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from .rejections import bad_request, forbidden

MAX_ORIGIN_LENGTH = 2048


def query_value(request, name):
    """The single value of query parameter ``name``; None when absent or empty."""
    values = request.GET.getlist(name)
    if len(values) > 1:
        raise bad_request("duplicated query parameter", f"query parameter {name} was given {len(values)} times")
    return values[0] if values and values[0] else None


def validate_channel_name(name, pattern, max_length):
    """Refuse channel names that are too long, hold control characters or do not
    match ``pattern``."""
    if len(name) > max_length:
        raise bad_request("invalid channel name", f"channel name is {len(name)} characters, over {max_length}")
    # Whatever a project's pattern allows: PostgreSQL cannot store NUL, and no other
    # control character belongs in a name either.
    if any(unicodedata.category(character) == "Cc" for character in name):
        raise bad_request("invalid channel name", f"channel name {name[:200]!r} holds control characters")
    if not re.fullmatch(pattern, name):
        raise bad_request("invalid channel name", f"channel name {name[:200]!r} does not match {pattern!r}")
    return name


def session_key_from_cookie(request):
    """The Django session key in the forwarded ``Cookie`` header, if any."""
    return request.COOKIES.get(settings.SESSION_COOKIE_NAME) or None


def check_origin(request):
    """Refuse a handshake started by a page on another site.

    Browsers send ``Origin`` with every WebSocket handshake and attach the site's
    cookies whatever page opened the socket, so without this check any site could
    open a socket as the visitor (cross-site WebSocket hijacking). Clients that are
    not browsers send no ``Origin`` and are judged by their token alone.
    """
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(origin):
        raise forbidden("origin not allowed", f"Origin {origin[:200]!r} is not an allowed host or trusted origin")


def origin_allowed(origin):
    """True when ``origin`` names a host in ``ALLOWED_HOSTS`` or an entry of
    ``CSRF_TRUSTED_ORIGINS`` (``https://*.example.com`` wildcards included)."""
    if len(origin) > MAX_ORIGIN_LENGTH or "," in origin:
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        return False
    netloc = parts.netloc.lower()
    domain, _port = split_domain_port(netloc)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if domain and validate_host(domain, allowed_hosts):
        return True
    for trusted in getattr(settings, "CSRF_TRUSTED_ORIGINS", []):
        trusted_parts = urlsplit(trusted.lower())
        if "*" in trusted_parts.netloc:
            if trusted_parts.scheme == parts.scheme and is_same_domain(netloc, trusted_parts.netloc.lstrip("*")):
                return True
        elif trusted_parts.scheme == parts.scheme and trusted_parts.netloc == netloc:
            return True
    return False

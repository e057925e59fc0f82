"""WebSocket routes that installed apps declare for local development.

An app declares its custom route keys on its AppConfig, each with the URL name of
the Django view that handles it::

    class ChatConfig(AppConfig):
        name = "mysite.chat"
        websocket_routes = [("chat", "chat:websocket")]

``make dev`` turns each pair into an ``ApiGatewayAdditionalRoute`` of the local API,
so a message ``{"action": "chat", ...}`` reaches that view. The URL pattern may take
the ``route`` slug or not.
"""

import logging
from dataclasses import dataclass

from django.apps import apps
from django.urls import NoReverseMatch, reverse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeclaredRoute:
    app_label: str
    route_key: str
    url_name: str


def declared_routes():
    """Every (route key, URL name) pair of the installed apps, in app order."""
    found = []
    for config in apps.get_app_configs():
        for route_key, url_name in getattr(config, "websocket_routes", None) or ():
            found.append(DeclaredRoute(config.label, route_key, url_name))
    return found


def route_path(declared):
    """The URL path of a declared route's view, or None if it does not resolve."""
    for kwargs in (None, {"route": declared.route_key}):
        try:
            return reverse(declared.url_name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    logger.warning(
        "App %s declares WebSocket route %r with URL name %r, which does not resolve; skipped",
        declared.app_label,
        declared.route_key,
        declared.url_name,
    )
    return None

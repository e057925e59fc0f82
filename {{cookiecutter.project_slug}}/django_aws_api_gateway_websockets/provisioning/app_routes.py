"""WebSocket routes that installed apps declare, and registering them on an API.

An app declares its custom route keys on its AppConfig, each with the URL name of
the Django view that handles it::

    class ChatConfig(AppConfig):
        name = "mysite.chat"
        websocket_routes = [("chat", "chat:websocket")]

:func:`register_declared_routes` turns each pair into an ``ApiGatewayAdditionalRoute``
whose integration URL is the site's URL of that view, so that a message
``{"action": "chat", ...}`` reaches it. ``make dev`` registers them on the local API
and the release script (``ensureapigateway --site-url``) on the production one; the
provisioning sync then creates the routes in API Gateway. The URL pattern may take
the ``route`` slug or not.
"""

import logging
from dataclasses import dataclass

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from ..models import ApiGatewayAdditionalRoute

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


def register_declared_routes(api_gateway, site_url, remove_undeclared=False):
    """Create or update ``api_gateway``'s additional routes for the declared ones,
    at ``site_url`` (e.g. ``https://www.example.com``). With ``remove_undeclared``,
    routes no app declares are deleted (``make dev`` owns its local record; on a
    production record, routes added by hand in the admin are kept).

    Saving a route of a created API syncs it (see signals); callers that provision
    right after wrap this in ``auto_sync_suspended()``. Returns notes of what changed.
    """
    site_url = site_url.rstrip("/")
    notes = []
    wanted = {}
    for declared in declared_routes():
        path = route_path(declared)
        if path is None:
            notes.append(f"skipped route {declared.route_key!r}: URL name {declared.url_name!r} does not resolve")
        else:
            wanted[declared.route_key] = (declared, site_url + path)

    if remove_undeclared:
        for route in api_gateway.additional_routes.exclude(route_key__in=list(wanted)):
            notes.append(f"removed route {route.route_key!r} (no app declares it any more)")
            route.delete()
    for route_key, (declared, url) in wanted.items():
        route, created = ApiGatewayAdditionalRoute.objects.get_or_create(
            api_gateway=api_gateway,
            route_key=route_key,
            defaults={"name": f"{declared.app_label}: {route_key}", "integration_url": url},
        )
        if created:
            notes.append(f"added route {route_key!r} -> {url}")
        elif route.integration_url != url:
            route.integration_url = url
            route.save()
            notes.append(f"moved route {route_key!r} -> {url}")
    return notes

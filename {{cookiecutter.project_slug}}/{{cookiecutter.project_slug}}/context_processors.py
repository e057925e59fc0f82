"""Template context shared by every page: the project name, the navigation and, in
development, the demo staff login.

Each example app adds itself to the navigation through attributes of its AppConfig
(``nav_title``, ``nav_url_name`` and optionally ``nav_description``, shown on the home
page), so removing an app removes its link. An app whose page is not for everyone
also defines ``shows_in_navigation(user)``: its link then shows only to those users
(the dashboard's to staff who may watch it).
"""

from django.apps import apps
from django.conf import settings
from django.urls import reverse


def site(request):
    user = getattr(request, "user", None)
    nav_items = [
        {
            "title": config.nav_title,
            "url": reverse(config.nav_url_name),
            "description": getattr(config, "nav_description", ""),
        }
        for config in apps.get_app_configs()
        if getattr(config, "nav_url_name", None) and _shown_to(config, user)
    ]
    return {"project_name": settings.PROJECT_NAME, "nav_items": nav_items, "demo_staff_login": demo_staff_login()}


def _shown_to(config, user):
    shows = getattr(config, "shows_in_navigation", None)
    return shows is None or (user is not None and shows(user))


def demo_staff_login():
    """``(username, password)`` of the staff user ``make dev`` creates, in development
    only (DEBUG on and the development tooling installed); None everywhere else."""
    if not settings.DEBUG or not apps.is_installed("localdev"):
        return None
    from localdev.local_api import DEMO_USERS

    return next(((username, password) for username, password, staff in DEMO_USERS if staff), None)

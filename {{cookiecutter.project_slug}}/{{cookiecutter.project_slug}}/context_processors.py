"""Template context shared by every page: the project name and the navigation.

Each example app adds itself to the navigation through attributes of its AppConfig
(``nav_title``, ``nav_url_name`` and optionally ``nav_description``, shown on the home
page), so removing an app removes its link.
"""

from django.apps import apps
from django.conf import settings
from django.urls import reverse


def site(request):
    nav_items = [
        {
            "title": config.nav_title,
            "url": reverse(config.nav_url_name),
            "description": getattr(config, "nav_description", ""),
        }
        for config in apps.get_app_configs()
        if getattr(config, "nav_url_name", None)
    ]
    return {"project_name": settings.PROJECT_NAME, "nav_items": nav_items}

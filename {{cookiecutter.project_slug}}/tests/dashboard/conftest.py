"""Fixtures for the dashboard tests: staff who may watch, users who may not, and
sockets opened the way API Gateway opens them."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse


@pytest.fixture
def make_user(db, password):
    def make(username, *, watch=False, **fields):
        user = get_user_model().objects.create_user(username, f"{username}@example.com", password, **fields)
        if watch:
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label="dashboard", codename="watch_dashboard")
            )
        return get_user_model().objects.get(pk=user.pk)  # without cached permissions

    return make


@pytest.fixture
def staff(make_user):
    """Staff with the permission to watch the dashboard."""
    return make_user("staff", is_staff=True, watch=True)


def dashboard(ws, handler, **params):
    """A message from the dashboard page, as API Gateway's ``dashboard`` route delivers it."""
    return ws.message({"action": "dashboard", "handler": handler, **params}, path=reverse("dashboard:websocket"))

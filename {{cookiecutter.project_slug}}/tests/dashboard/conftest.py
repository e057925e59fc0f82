"""Fixtures for the dashboard tests: staff who may watch, users who may not, and
sockets opened the way API Gateway opens them."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.testing import WebSocketTestClient


@pytest.fixture
def gateway(db):
    return ApiGateway.objects.create(
        api_name="Dashboard tests",
        api_id="dash123abc",
        target_base_endpoint="https://testserver/ws/",
        api_endpoint="wss://dash123abc.execute-api.eu-west-1.amazonaws.com",
        api_created=True,
    )


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


@pytest.fixture
def socket_for(gateway):
    """``socket_for(user, channel)``: a WebSocketTestClient whose connection is open."""

    def open_socket(user, channel):
        browser = Client()
        browser.force_login(user)
        ws = WebSocketTestClient(gateway, browser)
        response = ws.connect(channel=channel, token=ws.fetch_token())
        assert response.status_code == 200, response.content
        return ws

    return open_socket


def dashboard(ws, handler, **params):
    """A message from the dashboard page, as API Gateway's ``dashboard`` route delivers it."""
    return ws.message({"action": "dashboard", "handler": handler, **params}, path=reverse("dashboard:websocket"))

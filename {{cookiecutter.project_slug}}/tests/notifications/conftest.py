"""Fixtures for the notifications tests: people and their open tabs (sockets opened
the way API Gateway opens them)."""

import pytest
from django.test import Client
from django.urls import reverse

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.testing import WebSocketTestClient


@pytest.fixture
def gateway(db):
    return ApiGateway.objects.create(
        api_name="Notifications tests",
        api_id="note123abc",
        target_base_endpoint="https://testserver/ws/",
        api_endpoint="wss://note123abc.execute-api.eu-west-1.amazonaws.com",
        api_created=True,
    )


@pytest.fixture
def socket_for(gateway):
    """``socket_for(user, channel="notifications")``: an open tab of ``user``."""

    def open_socket(user, channel="notifications"):
        browser = Client()
        browser.force_login(user)
        ws = WebSocketTestClient(gateway, browser)
        response = ws.connect(channel=channel, token=ws.fetch_token())
        assert response.status_code == 200, response.content
        return ws

    return open_socket


def notifications(ws, handler, **params):
    """A message from the notifications page, as API Gateway's ``notifications`` route delivers it."""
    return ws.message(
        {"action": "notifications", "handler": handler, **params}, path=reverse("notifications:websocket")
    )

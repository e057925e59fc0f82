"""Fixtures shared by the whole suite."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.testing import WebSocketTestClient


@pytest.fixture
def password():
    return "correct horse battery staple"


@pytest.fixture
def user(db, password):
    return get_user_model().objects.create_user("alice", "alice@example.com", password)


@pytest.fixture
def other_user(db, password):
    return get_user_model().objects.create_user("bob", "bob@example.com", password)


@pytest.fixture
def logged_in_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def gateway(db):
    """A created API Gateway record: the API whose calls the tests play."""
    return ApiGateway.objects.create(
        api_name="Tests",
        api_id="test123abc",
        target_base_endpoint="https://testserver/ws/",
        api_endpoint="wss://test123abc.execute-api.eu-west-1.amazonaws.com",
        api_created=True,
    )


@pytest.fixture
def socket_for(gateway):
    """``socket_for(user, channel)``: an open connection of ``user``'s browser, opened
    the way API Gateway opens it (a fresh token, then ``$connect``)."""

    def open_socket(user, channel):
        browser = Client()
        browser.force_login(user)
        ws = WebSocketTestClient(gateway, browser)
        response = ws.connect(channel=channel, token=ws.fetch_token())
        assert response.status_code == 200, response.content
        return ws

    return open_socket

"""Fixtures shared by the whole suite."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from django_aws_api_gateway_websockets.testing import WebSocketTestClient

from .records import OTHER_API_ID, make_api_gateway


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite the test database is a file (config/settings/test.py says why), in
    this run's temporary folder, so that two runs never share one."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("database") / "test.sqlite3")


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
def api_gateway(db):
    """The created API Gateway record whose calls the tests play."""
    return make_api_gateway()


@pytest.fixture
def other_api_gateway(db):
    """A second registered API: requests naming it must not reach the first one's sessions."""
    return make_api_gateway(OTHER_API_ID)


@pytest.fixture
def socket_for(api_gateway):
    """``socket_for(user, channel)``: an open connection of ``user``'s browser, opened
    the way API Gateway opens it (a fresh token, then ``$connect``)."""

    def open_socket(user, channel):
        browser = Client()
        browser.force_login(user)
        ws = WebSocketTestClient(api_gateway, browser)
        response = ws.connect(channel=channel, token=ws.fetch_token())
        assert response.status_code == 200, response.content
        return ws

    return open_socket

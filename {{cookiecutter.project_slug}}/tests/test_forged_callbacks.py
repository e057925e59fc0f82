"""Nobody but API Gateway can act on a connection: a callback carrying everything an
outsider can learn (the API id, API Gateway's User-Agent, a live connection id) but
not the gateway secret is refused (403) by every WebSocket view of the project,
before anything runs; the same callback with the secret goes through.

The views are found in the URLconf (the site's ``ws/<route>`` view, and each route an
app declares in ``websocket_routes``), so a view you add is checked too.
"""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import resolve

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.provisioning.app_routes import declared_routes, route_path
from django_aws_api_gateway_websockets.testing import WebSocketTestClient, capture_messages

FORBIDDEN = b'{"error": "forbidden"}'
SITE_CALLBACKS = "/ws/"


def message_endpoints():
    """(path, handler) for every handler of every routed WebSocket view."""
    endpoints = [(f"{SITE_CALLBACKS}default", resolve(f"{SITE_CALLBACKS}default").func.view_class)]
    for declared in declared_routes():
        path = route_path(declared)
        endpoints.append((path, resolve(path).func.view_class))
    return [(path, handler) for path, view in endpoints for handler in sorted(view.allowed_handlers())]


def every_row():
    """Every row of every model: what a refused callback must leave as it was."""
    return {
        model._meta.label: sorted(map(repr, model._default_manager.values_list()))
        for model in apps.get_models()
        if model._meta.managed
    }


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.com", "correct horse battery")


@pytest.fixture
def admins_socket(api_gateway, admin):
    """The admin's open connection, opened the way API Gateway opens it."""
    browser = Client()
    browser.force_login(admin)
    ws = WebSocketTestClient(api_gateway, browser)
    assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 200
    return ws


def forger_of(api_gateway, secret):
    """An outsider with everything but the secret: API Gateway's headers, its User-Agent."""
    return WebSocketTestClient(api_gateway, gateway_secret=secret)


@pytest.mark.parametrize("secret", ["", "guessed"])
def test_a_forged_connect_opens_nothing(api_gateway, admin, secret):
    browser = Client()
    browser.force_login(admin)
    token = WebSocketTestClient(api_gateway, browser).fetch_token()
    forger = WebSocketTestClient(api_gateway, browser, gateway_secret=secret)
    before = every_row()
    response = forger.connect(channel="general", token=token)
    assert (response.status_code, response.content) == (403, FORBIDDEN)
    assert every_row() == before


@pytest.mark.parametrize(("path", "handler"), message_endpoints())
def test_a_forged_message_to_any_handler_runs_nothing(api_gateway, admins_socket, path, handler):
    body = {"action": handler, "handler": handler, "text": "posted as the admin", "ids": [1], "all": True}
    forger = forger_of(api_gateway, "guessed")
    before = every_row()
    with capture_messages() as sent:
        response = forger.message(body, path=path, connection_id=admins_socket.connection_id)
    assert (response.status_code, response.content) == (403, FORBIDDEN)
    assert every_row() == before
    assert sent == []


@pytest.mark.parametrize(("path", "handler"), message_endpoints())
def test_the_same_message_with_the_secret_reaches_the_view(admins_socket, path, handler):
    body = {"action": handler, "handler": handler, "text": "hello", "ids": [1], "all": True}
    with capture_messages():
        response = admins_socket.message(body, path=path)
    assert response.content != FORBIDDEN
    # Counted: it got past every check to the view (a heartbeat is answered, not counted).
    expected_count = 0 if handler == "heartbeat" else 1
    assert WebSocketSession.objects.get(connection_id=admins_socket.connection_id).request_count == expected_count
    assert response.status_code < 500


def test_a_forged_disconnect_leaves_the_connection_open(api_gateway, admins_socket):
    forger = forger_of(api_gateway, "guessed")
    response = forger.disconnect(connection_id=admins_socket.connection_id)
    assert (response.status_code, response.content) == (403, FORBIDDEN)
    assert WebSocketSession.objects.get(connection_id=admins_socket.connection_id).connected
    assert admins_socket.disconnect().status_code == 200

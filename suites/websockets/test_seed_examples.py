"""Every code example of the behaviour documents does what the document says.

The examples live, as written, in ``seed_examples/`` (one sub-package per document)
and are routed by ``seed_examples/urls.py``.
"""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from django_aws_api_gateway_websockets.models import ApiGatewayAdditionalRoute, WebSocketSession
from django_aws_api_gateway_websockets.testing import WebSocketTestClient
from tests.records import make_api_gateway

from .conftest import assert_refused
from .seed_examples.api_gateway_setup import subdomain_settings as setup_cookie_settings
from .seed_examples.settings_page import (
    installed_apps,
    local_settings,
    production_settings,
    rate_limit_views,
    subdomain_settings,
)
from .test_mixins import TEST_TEMPLATES

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.websockets.seed_examples.urls")]


def snippet(module):
    """The settings a documented settings snippet assigns."""
    return {name: value for name, value in vars(module).items() if name.isupper()}


@pytest.fixture
def seed_ws(api_gateway, logged_in_client):
    """``seed_ws(base_path)``: API Gateway in front of a seed view, for the logged-in browser."""

    def make(base_path, browser=logged_in_client, gateway=api_gateway):
        return WebSocketTestClient(gateway, browser, base_path=base_path)

    return make


def connect(ws, **kwargs):
    response = ws.connect(token=ws.fetch_token(), **kwargs)
    assert response.status_code == 200, response.content
    return response


def give_chat_permissions(user, *codenames):
    chat, _ = ContentType.objects.get_or_create(app_label="chat", model="seedexamplepermissions")
    for codename in codenames:
        permission, _ = Permission.objects.get_or_create(
            content_type=chat, codename=codename, defaults={"name": codename}
        )
        user.user_permissions.add(permission)


# ------------------------------------------------- 000 API Gateway setup


def test_setup_guide_url_route_is_named_and_takes_the_route_slug():
    assert reverse("setup:example_websocket", kwargs={"route": "connect"}) == "/setup/ws/connect"


def test_setup_guide_example_view_answers_with_the_action(seed_ws):
    ws = seed_ws("/setup/ws/")
    connect(ws, channel="my-example-channel")
    response = ws.message({"action": "default", "message": "Hello from the browser"})
    assert response.json() == {"received": "default"}
    assert WebSocketSession.objects.get().channel_name == "my-example-channel"


def test_setup_guide_custom_route_action_falls_back_to_default(seed_ws):
    # "If a matching method is not found, the default handler can be used as a fallback."
    ws = seed_ws("/setup/ws/")
    connect(ws)
    response = ws.message({"action": "notifications", "message": "Show a notification"})
    assert response.json() == {"received": "notifications"}


def test_setup_guide_the_default_method_is_called_if_no_method_matches_the_route_or_action(seed_ws):
    # "The default method will be called if a method does not exist matching the
    # route/action you wish to take", whatever the message names.
    ws = seed_ws("/setup/ws/")
    connect(ws)
    for body in (
        {"action": "no_such_method"},
        {"action": "dispatch"},
        {"action": "default", "handler": "disconnect"},
        {"action": "_private", "handler": "__init__"},
    ):
        assert ws.message(body).json() == {"received": body["action"]}
    assert WebSocketSession.objects.get().connected is True


@pytest.mark.parametrize(
    "body",
    [
        b'{"action": "deep", "x": ' + b"[" * 40 + b"]" * 40 + b"}",
        b'{"action": "deep", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        # An action the example view echoes back: as deep as the parser allows.
        b'{"action": ' + b"[" * 900 + b"]" * 900 + b"}",
        b'{"action": "\\ud800"}',
        b'{"action": "nul\\u0000"}',
        b'{"action": 123456789012345678901234567890}',
    ],
    ids=["40 levels", "5000 levels", "echoed 900 levels", "lone surrogate", "NUL", "huge integer"],
)
def test_setup_guide_example_view_never_answers_500_and_hostile_bodies_never_reach_it(seed_ws, body):
    ws = seed_ws("/setup/ws/")
    connect(ws)
    response = ws.message(body)
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert WebSocketSession.objects.get().request_count == 0


def test_setup_guide_a_message_nested_up_to_the_documented_limit_reaches_the_view(seed_ws):
    # MAX_MESSAGE_DEPTH (32): the message object is level 1.
    ws = seed_ws("/setup/ws/")
    connect(ws)
    nested = b'{"action": "deep", "x": ' + b"[" * 31 + b"]" * 31 + b"}"
    assert ws.message(nested).json() == {"received": "deep"}
    too_deep = b'{"action": "deep", "x": ' + b"[" * 32 + b"]" * 32 + b"}"
    assert ws.message(too_deep).json() == {"error": "message nested too deeply"}


def test_setup_guide_browser_connection_needs_a_token_when_tokens_are_enabled(seed_ws):
    ws = seed_ws("/setup/ws/")
    # new WebSocket("wss://ws.example.com?channel=my-example-channel")
    assert_refused(ws.connect(channel="my-example-channel"), 403)
    # wss://ws.example.com?ws_token=<token>&channel=my-example-channel
    assert ws.connect(token=ws.fetch_token(), channel="my-example-channel").status_code == 200


def test_setup_guide_connect_message_disconnect_flow(seed_ws):
    ws = seed_ws("/setup/ws/")
    connect(ws, channel="my-example-channel")
    assert ws.message({"action": "default", "message": "Hello"}).status_code == 200
    assert ws.disconnect().status_code == 200
    assert WebSocketSession.objects.get().connected is False


@pytest.mark.parametrize("origin", ["https://www.example.com", "https://ws.example.com"])
def test_setup_guide_subdomain_cookie_settings(db, user, origin):
    with override_settings(**snippet(setup_cookie_settings), ALLOWED_HOSTS=["www.example.com"]):
        browser = Client(HTTP_HOST="www.example.com")
        browser.force_login(user)
        assert settings.SESSION_COOKIE_NAME == "mysessionid"
        assert browser.cookies["mysessionid"]["domain"] == ".example.com"
        gateway = make_api_gateway(target_base_endpoint="https://www.example.com/setup/ws/")
        ws = WebSocketTestClient(gateway, browser)
        assert ws.connect(token=ws.fetch_token(), origin=origin).status_code == 200
        assert_refused(ws.connect(token=ws.fetch_token(), origin="https://evil.example.org"), 403)


# ------------------------------------------------------------------ 001 FAQ


def test_faq_url_pattern():
    assert reverse("faq:example_websocket", kwargs={"route": "default"}) == "/faq/ws/default"


def test_faq_public_view_connects_without_a_token(seed_ws, client):
    ws = seed_ws("/faq/public/", browser=client)
    assert ws.connect(channel="general").status_code == 200
    assert ws.message({"action": "anything"}).status_code == 204


def test_faq_change_channel_by_reconnecting(seed_ws):
    ws = seed_ws("/faq/ws/")
    connect(ws, channel="general")
    assert ws.disconnect().status_code == 200
    connect(ws, channel="support")
    assert sorted(WebSocketSession.objects.values_list("channel_name", "connected")) == [
        ("general", False),
        ("support", True),
    ]


@pytest.fixture
def faq_sessions(seed_ws, client):
    """Three tokenless connections: two in "general", one in "support", one closed."""
    sockets = {}
    for name, channel in [("me", "general"), ("friend", "general"), ("helper", "support"), ("gone", "general")]:
        ws = seed_ws("/faq/messaging/", browser=client)
        assert ws.connect(channel=channel).status_code == 200
        sockets[name] = ws
    assert sockets["gone"].disconnect().status_code == 200
    return sockets


def test_faq_send_back_to_the_current_connection(faq_sessions, sent):
    assert faq_sessions["me"].message({"action": "reply"}).status_code == 204
    assert [(m.connection_id, m.payload) for m in sent] == [
        (faq_sessions["me"].connection_id, {"type": "reply", "message": "Hello from Django"})
    ]


def test_faq_send_to_everyone_in_a_channel(faq_sessions, sent):
    assert faq_sessions["helper"].message({"action": "to_channel"}).status_code == 204
    assert sorted(m.connection_id for m in sent) == sorted(
        [faq_sessions["me"].connection_id, faq_sessions["friend"].connection_id]
    )
    assert {m.payload["message"] for m in sent} == {"Hello everyone in general."}


def test_faq_send_to_all_connected_users(faq_sessions, sent):
    assert faq_sessions["me"].message({"action": "to_everyone"}).status_code == 204
    assert len(sent) == 3
    assert faq_sessions["gone"].connection_id not in {m.connection_id for m in sent}


def test_faq_sending_from_a_handler_costs_no_extra_query(faq_sessions, sent, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert faq_sessions["me"].message({"action": "reply"}).status_code == 204
    assert len(sent) == 1


# -------------------------------------------------------------- 002 Concepts


def test_concepts_handler_example(seed_ws):
    ws = seed_ws("/concepts/chat/")
    connect(ws, channel="general")
    assert ws.message({"action": "chat_message", "message": "Hello everyone"}).json() == {"ok": True}
    # Only chat_message is a handler here: other actions fall back to default (204).
    assert ws.message({"action": "send_message", "message": "Hello"}).status_code == 204
    # {"handler": "fetch_history"} names no handler of this view: default answers (204).
    assert ws.message({"handler": "fetch_history"}).status_code == 204


def test_concepts_target_base_endpoint(db):
    api_gateway = make_api_gateway(target_base_endpoint="https://www.example.com/ws")  # "/" is added
    assert [api_gateway.integration_url_for(route) for route in ("connect", "disconnect", "default")] == [
        "https://www.example.com/ws/connect",
        "https://www.example.com/ws/disconnect",
        "https://www.example.com/ws/default",
    ]
    assert reverse("concepts:example_websocket", kwargs={"route": "default"}) == "/concepts/ws/default"


@pytest.mark.parametrize(
    "handler,channels,message",
    [
        ("unicast", ["general"], "This message is only for this connection."),
        ("channel", ["general", "general"], "Hello general room."),
        ("multicast", ["support"], "Hello support room."),
        ("broadcast", ["general", "general", "support"], "Maintenance will begin in 5 minutes."),
    ],
)
def test_concepts_unicast_multicast_broadcast(seed_ws, user, sent, handler, channels, message):
    sockets = []
    for channel in ["general", "general", "support"]:
        browser = Client()
        browser.force_login(user)
        ws = seed_ws("/concepts/casting/", browser=browser)
        connect(ws, channel=channel)
        sockets.append(ws)
    assert sockets[0].message({"action": handler}).status_code == 204
    assert sorted(m.channel_name for m in sent) == channels
    assert {m.payload["message"] for m in sent} == {message}
    if handler == "unicast":
        assert sent[0].connection_id == sockets[0].connection_id


def test_concepts_the_full_authenticated_flow(seed_ws, user):
    ws = seed_ws("/concepts/chat/")
    token = ws.fetch_token()  # 2. page requests a WebSocket token
    assert ws.connect(token=token, channel="general").status_code == 200  # 3-7
    session = WebSocketSession.objects.get()
    assert (session.user, session.channel_name, session.connected) == (user, "general", True)
    response = ws.message({"action": "chat_message", "message": "Hello"})  # 8-11
    assert response.json() == {"ok": True}


# -------------------------------------------------------- 003 Adding new routes


def test_new_routes_url_pattern_and_view(seed_ws):
    assert reverse("routes:websocket-notifications") == "/routes/websockets/notifications/"
    ws = seed_ws("/faq/public/")
    assert ws.connect(channel="general").status_code == 200
    response = ws.message(
        {"action": "notifications", "message": "Show a notification"}, path="/routes/websockets/notifications/"
    )
    assert response.status_code == 204
    assert WebSocketSession.objects.get().request_count == 1


def test_new_routes_view_refuses_what_is_not_api_gateway(seed_ws, unchanged):
    ws = seed_ws("/faq/public/")
    assert ws.connect(channel="general").status_code == 200
    with unchanged():
        response = ws.message(
            {"action": "notifications"}, path="/routes/websockets/notifications/", headers={"User-Agent": "x"}
        )
    assert_refused(response, 403)


# ---------------------------------------------------------------- 004 Settings


def test_settings_installed_apps():
    assert set(snippet(installed_apps)["INSTALLED_APPS"]) <= set(settings.INSTALLED_APPS)


def test_settings_use_ws_token_examples(seed_ws, client):
    with_token = seed_ws("/settings-page/token/", browser=client)
    assert_refused(with_token.connect(channel="general"), 403)
    public = seed_ws("/settings-page/public/", browser=client)
    assert public.connect(channel="general").status_code == 200
    assert public.message({"action": "x"}).status_code == 204


def test_settings_rate_limit_example_allows_forty_attempts(seed_ws, client):
    view = rate_limit_views.NotificationsWebSocketView
    assert (view.RATE_LIMIT_ENABLED, view.RATE_LIMIT_MAX_ATTEMPTS, view.RATE_LIMIT_WINDOW_MINUTES) == (True, 40, 5)
    ws = seed_ws("/settings-page/rate-limit/", browser=client)
    statuses = [ws.connect(channel="general").status_code for _ in range(41)]
    assert statuses == [403] * 40 + [429]  # no token: refused, but every attempt counts


def test_settings_allowed_handlers_example(seed_ws):
    ws = seed_ws("/settings-page/chat/")
    connect(ws)
    for handler in ("send_message", "fetch_history", "default"):
        assert ws.message({"handler": handler}).status_code == 204
    # Not in ALLOWED_HANDLERS: the default method answers, the named one never runs.
    assert ws.message({"handler": "dispatch"}).status_code == 204
    assert ws.message({"handler": "get_context_data"}).status_code == 204


def test_settings_additional_allowed_handlers_example(seed_ws, client):
    ws = seed_ws("/settings-page/layered/", browser=client)
    assert ws.connect().status_code == 200
    assert ws.message({"handler": "send_message", "message": "Hi"}).json() == {"sent": "Hi"}
    assert ws.message({"handler": "fetch_history"}).json() == {"history": []}
    assert ws.message({"handler": "delete_history"}).status_code == 204  # default
    assert ws.message({"action": "delete_history"}).status_code == 204  # default


def test_settings_permissions_required_example(seed_ws, user):
    ws = seed_ws("/settings-page/chat-permission/")
    assert_refused(ws.connect(token=ws.fetch_token()), 403, "permission denied")
    give_chat_permissions(user, "can_use_chat")
    connect(ws)
    assert ws.message({"action": "default"}).status_code == 204


def test_settings_all_permissions_required_example(seed_ws, user):
    ws = seed_ws("/settings-page/moderation/")
    give_chat_permissions(user, "can_use_chat")
    assert_refused(ws.connect(token=ws.fetch_token()), 403, "permission denied")
    give_chat_permissions(user, "can_moderate_chat")
    connect(ws)


def test_settings_aws_api_gateway_id_example(logged_in_client, db):
    pinned = make_api_gateway("abc123")
    other = make_api_gateway("def456")
    ws = WebSocketTestClient(pinned, logged_in_client, base_path="/settings-page/gateway-id/")
    connect(ws)
    assert ws.message({"action": "default"}).status_code == 204
    intruder = WebSocketTestClient(other, logged_in_client, base_path="/settings-page/gateway-id/")
    assert_refused(intruder.connect(token=intruder.fetch_token()), 403, "forbidden")


def test_settings_recommended_production_setup(db, user):
    give_chat_permissions(user, "can_use_chat")
    with override_settings(**snippet(production_settings)):
        browser = Client(HTTP_HOST="www.example.com")
        browser.force_login(user)
        gateway = make_api_gateway(target_base_endpoint="https://www.example.com/settings-page/production/")
        ws = WebSocketTestClient(gateway, browser)
        token = ws.fetch_token()
        assert ws.connect(token=token, channel="general", origin="https://www.example.com").status_code == 200
        for handler in ("send_message", "fetch_history"):
            # Listed, but this view lacks them: the default method answers.
            assert ws.message({"handler": handler}).status_code == 204
        assert ws.message({"handler": "default"}).status_code == 204
        assert_refused(ws.connect(token=ws.fetch_token(), origin="https://evil.example.org"), 403)


def test_settings_subdomain_example(db, user):
    with override_settings(**snippet(subdomain_settings)):
        browser = Client(HTTP_HOST="www.example.com")
        browser.force_login(user)
        gateway = make_api_gateway(target_base_endpoint="https://www.example.com/setup/ws/")
        ws = WebSocketTestClient(gateway, browser)
        assert ws.connect(token=ws.fetch_token(), origin="https://ws.example.com").status_code == 200


def test_settings_recommended_local_setup_through_a_tunnel(db, user):
    with override_settings(**snippet(local_settings)):
        browser = Client(HTTP_HOST="example-tunnel.ngrok-free.app")
        browser.force_login(user)
        gateway = make_api_gateway(target_base_endpoint="https://example-tunnel.ngrok-free.app/setup/ws/")
        ws = WebSocketTestClient(gateway, browser)
        response = ws.connect(token=ws.fetch_token(), origin="https://example-tunnel.ngrok-free.app")
        assert response.status_code == 200
        assert ws.message({"action": "default"}).json() == {"received": "default"}


@pytest.fixture
def dashboard_route(api_gateway):
    return ApiGatewayAdditionalRoute.objects.create(
        api_gateway=api_gateway, name="Dashboard", route_key="dashboard", integration_url="https://www.example.com/ws/d"
    )


def render(view_class):
    response = view_class.as_view()(RequestFactory().get("/"))
    response.render()
    return response


def test_settings_add_websocket_route_to_context_mixin_example(dashboard_route, settings):
    from .seed_examples.settings_page.mixin_views import DashboardView

    settings.TEMPLATES = TEST_TEMPLATES
    context = render(DashboardView).context_data
    assert context["api_gateway_route"] == dashboard_route
    assert context["channel_name"] == "dashboard"
    assert context["websocket_action"] == "dashboard"
    assert context["websocket_url"] == "wss://abc123defg.execute-api.eu-west-1.amazonaws.com/production"


def test_settings_app_channel_mixin_example(api_gateway, settings):
    settings.TEMPLATES = TEST_TEMPLATES
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "tests.websockets.seed_examples.dashboard_app"]
    from .seed_examples.dashboard_app.views import DashboardView

    context = render(DashboardView).context_data
    assert context["channel_name"] == "custom_dashboard_channel"
    assert context["websocket_action"] == "dashboard_app"
    assert context["api_gateway_route"] is None

"""Where a view's tunables come from: its class attribute, else the project's
WEBSOCKETS setting, else the documented default; read when used."""

import pytest
from django.test import override_settings

from django_aws_api_gateway_websockets.views import WebSocketView

from .views import TightLimitView

pytestmark = pytest.mark.urls("tests.websockets.urls")

DOCUMENTED_DEFAULTS = {
    "USE_WS_TOKEN": True,
    "RATE_LIMIT_ENABLED": True,
    "RATE_LIMIT_MAX_ATTEMPTS": 20,
    "RATE_LIMIT_WINDOW_MINUTES": 5,
    "MAX_BODY_SIZE": 128 * 1024,
    "MAX_CHANNEL_NAME_LENGTH": 191,
}


@override_settings(WEBSOCKETS={})
@pytest.mark.parametrize("name,value", DOCUMENTED_DEFAULTS.items())
def test_documented_defaults(name, value):
    assert getattr(WebSocketView, name) == value
    assert getattr(WebSocketView(), name) == value


def test_the_projects_settings_keep_the_documented_defaults():
    for name, value in DOCUMENTED_DEFAULTS.items():
        assert getattr(WebSocketView, name) == value


@override_settings(WEBSOCKETS={})
@pytest.mark.parametrize("channel", ["general", "tenant_123", "notifications_user_456", "a-b"])
def test_the_default_channel_pattern_allows_letters_digits_underscore_hyphen(channel):
    import re

    assert re.fullmatch(WebSocketView.CHANNEL_NAME_PATTERN, channel)
    assert not re.fullmatch(WebSocketView.CHANNEL_NAME_PATTERN, channel + ".x")


def test_other_attribute_defaults():
    assert WebSocketView.ALLOWED_HANDLERS is None
    assert tuple(WebSocketView.ADDITIONAL_ALLOWED_HANDLERS) == ()
    assert WebSocketView.route_selection_key == "action"
    assert WebSocketView.handler_selection_key == "handler"
    assert not WebSocketView.permissions_required
    assert not WebSocketView.all_permissions_required
    assert WebSocketView.aws_api_gateway_id is None
    assert set(WebSocketView.required_headers) == {"Host", "User-Agent", "X-Amzn-Apigateway-Api-Id", "Connectionid"}
    assert tuple(WebSocketView.additional_required_headers) == ()
    assert set(WebSocketView.required_connection_headers) == {"Sec-WebSocket-Key", "Sec-WebSocket-Version"}
    assert WebSocketView.expected_useragent_prefix == "AmazonAPIGateway_"
    assert WebSocketView.route_key == "default"


@override_settings(WEBSOCKETS={"RATE_LIMIT_MAX_ATTEMPTS": 7, "MAX_BODY_SIZE": 10})
def test_the_websockets_setting_overrides_the_defaults():
    assert WebSocketView.RATE_LIMIT_MAX_ATTEMPTS == 7
    assert WebSocketView.MAX_BODY_SIZE == 10
    assert WebSocketView.RATE_LIMIT_WINDOW_MINUTES == 5


@override_settings(WEBSOCKETS={"RATE_LIMIT_MAX_ATTEMPTS": 7})
def test_a_class_attribute_wins_over_the_setting():
    assert TightLimitView.RATE_LIMIT_MAX_ATTEMPTS == 3
    assert TightLimitView().RATE_LIMIT_MAX_ATTEMPTS == 3


def test_settings_are_read_when_used():
    with override_settings(WEBSOCKETS={"USE_WS_TOKEN": False}):
        assert WebSocketView.USE_WS_TOKEN is False
    assert WebSocketView.USE_WS_TOKEN is True


def test_use_ws_token_from_the_setting_changes_behaviour(ws):
    # The project's SiteWebSocketView keeps the inherited (settings-driven) value.
    assert ws.connect(channel="general").status_code == 403
    with override_settings(WEBSOCKETS={"USE_WS_TOKEN": False}):
        assert ws.connect(channel="general").status_code == 200

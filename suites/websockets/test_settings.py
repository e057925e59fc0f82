"""Where a view's tunables come from: its class attribute, else the project's
WEBSOCKETS setting, else the documented default; read when used.

(The defaults themselves are the documented values in ``conf.DEFAULTS``; the seed
examples' tests check the behaviour they cause.)"""

import pytest
from django.test import override_settings

from django_aws_api_gateway_websockets.views import WebSocketView

from .views import TightLimitView

pytestmark = pytest.mark.urls("tests.websockets.urls")


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

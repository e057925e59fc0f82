"""System checks catch handler lists that name what can never be a handler."""

import pytest

from django_aws_api_gateway_websockets.checks import (
    channel_pattern_errors,
    check_websocket_views,
    handler_list_errors,
)
from django_aws_api_gateway_websockets.views import WebSocketView


def ids(errors):
    return [error.id for error in errors]


def test_the_project_views_pass_and_a_wrong_test_view_is_caught():
    errors = check_websocket_views()
    assert [error.msg for error in errors if not error.msg.startswith("tests.")] == []
    assert any(
        error.msg.startswith("tests.websockets.views.AdditionalHandlersView.ADDITIONAL_ALLOWED_HANDLERS names 'setup'")
        for error in errors
    )


@pytest.mark.parametrize("name", ["dispatch", "setup", "connect", "_private", "__init__", "as_view", "get", "bad-name"])
def test_internal_or_malformed_names_are_errors(name):
    class Listed(WebSocketView):
        ALLOWED_HANDLERS = {"default", name}

    class Additional(WebSocketView):
        ADDITIONAL_ALLOWED_HANDLERS = [name]

    assert ids(handler_list_errors(Listed)) == ["websockets.E002"]
    assert ids(handler_list_errors(Additional)) == ["websockets.E002"]


def test_a_string_instead_of_a_list_is_an_error():
    class Stringly(WebSocketView):
        ALLOWED_HANDLERS = "default"

    assert ids(handler_list_errors(Stringly)) == ["websockets.E001"]


def test_names_that_a_subclass_will_define_are_fine():
    class Base(WebSocketView):
        ADDITIONAL_ALLOWED_HANDLERS = ["send_message", "fetch_history"]

    assert handler_list_errors(Base) == []


def test_a_channel_pattern_that_is_not_a_regex_is_an_error():
    class Broken(WebSocketView):
        CHANNEL_NAME_PATTERN = "[unclosed"

    assert ids(channel_pattern_errors(Broken)) == ["websockets.E003"]

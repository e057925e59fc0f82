"""Messages: the session is counted and loaded in one statement, then a handler is
chosen by handler, action, route, default; refusals change nothing."""

import pytest
from django.test import override_settings

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.views import WebSocketView

from .conftest import assert_refused, grant

pytestmark = pytest.mark.urls("tests.websockets.urls")


@pytest.fixture
def handlers(make_ws, logged_in_client):
    """A connection of the logged-in user to the handler test view."""
    ws = make_ws("/t/handlers/", browser=logged_in_client)
    assert ws.connect(channel="general").status_code == 200
    return ws


def session_of(ws):
    return WebSocketSession.objects.get(connection_id=ws.connection_id)


def answer(response):
    assert response.status_code == 200, response.content
    return response.json()


# ------------------------------------------------------------ what a handler sees


def test_a_message_reaches_its_handler_with_body_session_and_user(handlers):
    body = {"action": "chat_message", "message": "Hello", "nested": {"list": [1, 2]}}
    seen = answer(handlers.message(body))
    session = session_of(handlers)
    assert seen == {
        "handler": "chat_message",
        "route": "default",
        "body": body,
        "user": "alice",
        "request_count": 1,
        "session_pk": session.pk,
    }
    assert session.request_count == 1


def test_each_message_is_counted_and_refreshes_updated_on(handlers):
    first = session_of(handlers).updated_on
    for expected in (1, 2, 3):
        assert answer(handlers.message({"action": "default"}))["request_count"] == expected
    session = session_of(handlers)
    assert session.request_count == 3
    assert session.updated_on > first


def test_the_session_in_a_handler_is_a_real_model_instance(handlers):
    from django.urls import path

    captured = {}

    class Inspect(WebSocketView):
        USE_WS_TOKEN = False

        def default(self, request, *args, **kwargs):
            captured["session"] = self.websocket_session
            captured["user"] = request.user
            return None

    urlpatterns = [path("inspect/<slug:route>", Inspect.as_view())]
    with override_settings(ROOT_URLCONF=type("Urls", (), {"urlpatterns": urlpatterns})):
        handlers.base_path = "/inspect/"
        assert handlers.message({"action": "x"}).status_code == 204
    session = captured["session"]
    assert isinstance(session, WebSocketSession)
    stored = session_of(handlers)
    assert (session.pk, session.connection_id, session.channel_name, session.user_id) == (
        stored.pk,
        stored.connection_id,
        stored.channel_name,
        stored.user_id,
    )
    assert (session.connected, session.request_count, session.created_on, session.updated_on) == (
        True,
        1,
        stored.created_on,
        stored.updated_on,
    )
    gateway = session.api_gateway
    assert (gateway.api_id, gateway.api_endpoint, gateway.stage_name) == (
        "abc123defg",
        "wss://abc123defg.execute-api.eu-west-1.amazonaws.com",
        "production",
    )
    assert session.user.username == "alice"
    assert captured["user"].username == "alice"


def test_an_anonymous_sessions_user_is_anonymous(make_ws):
    ws = make_ws("/t/handlers/")
    assert ws.connect().status_code == 200
    assert answer(ws.message({"action": "default"}))["user"] is None


def test_a_message_to_a_handler_costs_one_query(handlers, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert handlers.message({"action": "quiet"}).status_code == 204


def test_a_handler_that_reads_the_user_costs_one_query_more(handlers, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert answer(handlers.message({"action": "chat_message"}))["user"] == "alice"


def test_a_user_deactivated_after_connecting_is_anonymous_to_handlers(handlers, user):
    # A bulk update sends no signal, so the connection stays open (see
    # test_revocation.py for a save): the view itself sees nobody.
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert answer(handlers.message({"action": "chat_message"}))["user"] is None


# ----------------------------------------------------------- handler selection


@pytest.mark.parametrize(
    "body,expected",
    [
        ({"handler": "fetch_history", "action": "chat_message"}, "fetch_history"),
        ({"action": "chat_message"}, "chat_message"),
        ({"action": "no_such_method"}, "default"),
        ({"action": ""}, "default"),
        ({"action": 42}, "default"),
        ({"action": None}, "default"),
        ({"message": "no selection key"}, "default"),
        ({}, "default"),
        ({"action": "default", "handler": "chat_message"}, "chat_message"),
    ],
)
def test_handler_then_action_then_route_then_default(handlers, body, expected):
    assert answer(handlers.message(body))["handler"] == expected


def test_the_route_picks_the_handler_when_the_body_does_not(handlers):
    assert answer(handlers.message({"text": "hi"}, route="chat_message"))["handler"] == "chat_message"
    assert answer(handlers.message({"text": "hi"}, route="fetch_history"))["route"] == "fetch_history"
    assert answer(handlers.message({"text": "hi"}, route="unknown_route"))["handler"] == "default"
    # The body still wins over the route.
    assert answer(handlers.message({"action": "fetch_history"}, route="chat_message"))["handler"] == "fetch_history"


@pytest.mark.parametrize(
    "name",
    [
        "no_such_method",
        "_private",
        "__init__",
        "__class__",
        "dispatch",
        "setup",
        "connect",
        "disconnect",
        "http_method_not_allowed",
        "options",
        "as_view",
        "post",
        "get",
        "put",
        "reject",
        "receive_message",
        "check_gateway_request",
        "has_websocket_permissions",
        "can_join_channel",
        "route_key",
        "body",
        "mixin_method",
        "",
        "chat-message",
        "chat_message ",
    ],
)
def test_a_handler_that_is_not_allowed_goes_to_default_and_is_never_called(handlers, name, caplog):
    """Setup document: "The default method will be called if a method does not exist
    matching the route/action you wish to take"; FAQ: messages go to the default
    handler when "the handler is not allowed"."""
    body = {"handler": name, "text": "kept"}
    with caplog.at_level("INFO", logger="django_aws_api_gateway_websockets.views"):
        seen = answer(handlers.message(body))
    assert (seen["handler"], seen["body"]) == ("default", body)
    # The named method did not run: the connection is open and counted this message once.
    session = session_of(handlers)
    assert (session.connected, session.request_count) == (True, 1)
    assert f"handler {name!r} is not an allowed handler" in caplog.text


@pytest.mark.parametrize("name", [42, None, ["chat_message"], {"name": "chat_message"}, True])
def test_a_handler_that_is_not_a_string_goes_to_default(handlers, name):
    assert answer(handlers.message({"handler": name}))["handler"] == "default"


@pytest.mark.parametrize(
    "name", ["_private", "__init__", "__dict__", "dispatch", "setup", "connect", "disconnect", "as_view", "post"]
)
def test_an_action_naming_internals_goes_to_default_and_is_never_called(handlers, name, caplog):
    with caplog.at_level("INFO", logger="django_aws_api_gateway_websockets.views"):
        seen = answer(handlers.message({"action": name}))
    assert (seen["handler"], seen["body"]) == ("default", {"action": name})
    assert session_of(handlers).connected
    assert f"action {name!r} is not an allowed handler" in caplog.text


def test_a_route_naming_internals_goes_to_default(handlers):
    assert answer(handlers.message({"text": "x"}, route="dispatch"))["handler"] == "default"
    assert session_of(handlers).connected


def test_handlers_defined_on_a_parent_view_are_inherited(make_ws):
    ws = make_ws("/t/child/")
    assert ws.connect().status_code == 200
    assert answer(ws.message({"handler": "child_only"}))["handler"] == "child_only"
    assert answer(ws.message({"handler": "chat_message"}))["handler"] == "chat_message"


def test_allowed_handlers_is_the_whole_list(make_ws):
    ws = make_ws("/t/allowed/")
    assert ws.connect().status_code == 200
    assert answer(ws.message({"handler": "listed"}))["handler"] == "listed"
    assert answer(ws.message({"action": "unlisted"}))["handler"] == "default"
    assert answer(ws.message({"handler": "unlisted"}))["handler"] == "default"
    # Listed by mistake: internals and missing methods stay uncallable.
    assert answer(ws.message({"handler": "dispatch"}))["handler"] == "default"
    assert answer(ws.message({"handler": "missing"}))["handler"] == "default"


def test_additional_allowed_handlers_extend_the_detected_ones(make_ws):
    ws = make_ws("/t/additional/")
    assert ws.connect().status_code == 200
    assert answer(ws.message({"handler": "mixin_method"}))["handler"] == "mixin_method"
    # Listed, yet machinery: WebSocketView's own default answers (204, no content).
    response = ws.message({"handler": "setup"})
    assert (response.status_code, response.content) == (204, b"")


def test_mixin_methods_are_not_handlers_unless_listed(handlers):
    assert answer(handlers.message({"action": "mixin_method"}))["handler"] == "default"


def test_a_view_without_handlers_answers_204(make_ws):
    ws = make_ws("/t/default-only/")
    assert ws.connect().status_code == 200
    response = ws.message({"action": "anything"})
    assert response.status_code == 204
    assert response.content == b""
    assert session_of(ws).request_count == 1


# --------------------------------------------------------------- handler answers


def test_a_handler_returning_none_answers_204(handlers):
    response = handlers.message({"handler": "quiet"})
    assert (response.status_code, response.content) == (204, b"")


def test_a_handler_returning_a_response_answers_with_it(handlers):
    response = handlers.message({"handler": "teapot"})
    assert (response.status_code, response.content) == (418, b"short and stout")


def test_a_handler_returning_something_else_is_a_programming_error(handlers):
    with pytest.raises(TypeError, match="returns None or an HttpResponse"):
        handlers.message({"handler": "not_a_response"})


# ------------------------------------------------------------ unknown / closed


def test_a_message_from_an_unknown_connection_is_refused(handlers, unchanged):
    with unchanged():
        response = handlers.message({"action": "chat_message"}, connection_id="UnKnOwNcOnNeC1D=")
    assert_refused(response, 403, "forbidden")


def test_a_message_from_a_disconnected_connection_is_refused(handlers, unchanged):
    assert handlers.disconnect().status_code == 200
    with unchanged():
        response = handlers.message({"action": "chat_message"})
    assert_refused(response, 410, "connection closed")


# ------------------------------------------------------------------ permissions


@pytest.fixture
def permitted(make_ws, logged_in_client, user):
    grant(user, "view_user", "change_user")
    ws = make_ws("/t/all-permissions/", browser=logged_in_client)
    assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 200
    return ws


def test_permissions_are_checked_again_on_every_message(permitted, user, unchanged):
    assert answer(permitted.message({"action": "default"}))["request_count"] == 1
    user.user_permissions.clear()
    with unchanged():
        assert_refused(permitted.message({"action": "default"}), 403, "permission denied")
    assert session_of(permitted).request_count == 1


def test_a_deactivated_user_loses_the_permissions_on_the_next_message(permitted, user, unchanged):
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    with unchanged():
        assert_refused(permitted.message({"action": "default"}), 403, "permission denied")


def test_a_permission_checked_message_costs_a_few_queries(permitted, django_assert_max_num_queries):
    # read the session and user, the user's and groups' permissions, count it
    with django_assert_max_num_queries(4):
        assert permitted.message({"action": "default"}).status_code == 200


# ------------------------------------------------------------------- heartbeat


def test_a_heartbeat_refreshes_updated_on_in_one_query(handlers, django_assert_num_queries):
    before = session_of(handlers)
    with django_assert_num_queries(1):
        response = handlers.message({"action": "heartbeat"})
    assert (response.status_code, response.content) == (204, b"")
    after = session_of(handlers)
    assert after.updated_on > before.updated_on
    assert after.request_count == before.request_count == 0


def test_a_heartbeat_by_handler_key_works_too(handlers):
    assert handlers.message({"action": "default", "handler": "heartbeat"}).status_code == 204


@pytest.mark.parametrize("close", ["unknown", "disconnected"])
def test_a_heartbeat_of_a_closed_connection_answers_410(handlers, unchanged, close):
    if close == "disconnected":
        assert handlers.disconnect().status_code == 200
    else:
        handlers.connection_id = "UnKnOwNcOnNeC1D="
    with unchanged():
        assert_refused(handlers.message({"action": "heartbeat"}), 410, "connection closed")


def test_a_heartbeat_passes_the_gateway_checks(handlers, unchanged):
    with unchanged():
        assert_refused(handlers.message({"action": "heartbeat"}, headers={"User-Agent": "x"}), 403)


def test_a_heartbeat_survives_an_explicit_allowed_handlers_list(make_ws):
    ws = make_ws("/t/allowed/")
    assert ws.connect().status_code == 200
    assert ws.message({"action": "heartbeat"}).status_code == 204


def test_an_overridden_heartbeat_is_an_ordinary_handler(make_ws):
    ws = make_ws("/t/custom-heartbeat/")
    assert ws.connect().status_code == 200
    seen = answer(ws.message({"action": "heartbeat"}))
    assert (seen["handler"], seen["request_count"]) == ("custom heartbeat", 1)


# -------------------------------------------------- views routed without <route>


@pytest.fixture
def notifications(make_ws, api_gateway):
    """A connection opened through /t/public/, messaging the route-less view."""
    ws = make_ws("/t/public/")
    assert ws.connect(channel="general").status_code == 200
    return ws


def test_a_view_without_a_route_slug_serves_its_route_key(notifications):
    seen = answer(notifications.message({"action": "notifications"}, path="/t/notifications/"))
    assert (seen["handler"], seen["route"]) == ("notifications", "notifications")
    seen = answer(notifications.message({"text": "no action"}, path="/t/notifications/"))
    assert seen["handler"] == "notifications"
    seen = answer(notifications.message({"action": "notifications", "handler": "mark_read"}, path="/t/notifications/"))
    assert seen["handler"] == "mark_read"
    seen = answer(notifications.message({"action": "something_else"}, path="/t/notifications/"))
    assert seen["handler"] == "default"

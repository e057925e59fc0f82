"""Only API Gateway can call the view: every callback must carry the gateway secret.

Everything else a callback carries (the User-Agent, the API id, a connection id) can
be learnt or guessed and sent by anyone who can reach Django; the secret is what
provisioning gives API Gateway alone. It is compared before anything is looked up,
and every refusal an outsider could learn from is the same 403.
"""

import pytest
from django.test import override_settings

from django_aws_api_gateway_websockets.request_checks import GATEWAY_SECRET_HEADER
from django_aws_api_gateway_websockets.testing import capture_messages

from .conftest import assert_refused

pytestmark = pytest.mark.urls("tests.websockets.urls")

WRONG_SECRETS = ["", "wrong", "test-gateway-secret-not-for-production-012345678", "x" * 5000]


@pytest.fixture
def open_connection(make_ws, logged_in_client):
    """A connection on the handler test view, opened with the right secret."""
    ws = make_ws("/t/handlers/", browser=logged_in_client)
    assert ws.connect(channel="general").status_code == 200
    return ws


def forged(ws, secret):
    """The same client, sending ``secret`` instead of the real one."""
    ws.gateway_secret = secret
    return ws


@pytest.mark.parametrize("secret", WRONG_SECRETS)
def test_a_forged_connect_is_refused_before_any_query(make_ws, secret, unchanged, django_assert_num_queries):
    ws = forged(make_ws("/t/public/"), secret)
    with unchanged(), django_assert_num_queries(0):
        response = ws.connect(channel="general")
    assert_refused(response, 403, "forbidden")


@pytest.mark.parametrize("secret", WRONG_SECRETS)
@pytest.mark.parametrize("route", ["default", "chat_message", "disconnect"])
def test_a_forged_message_or_disconnect_for_a_live_connection_runs_nothing(
    open_connection, secret, route, unchanged, django_assert_num_queries
):
    # No query at all: no session was counted, loaded or closed, so no handler ran.
    ws = forged(open_connection, secret)
    send = ws.disconnect if route == "disconnect" else lambda: ws.message({"action": route, "text": "as you"})
    with unchanged(), capture_messages() as sent, django_assert_num_queries(0):
        response = send()
    assert_refused(response, 403, "forbidden")
    assert sent == []


def test_the_secret_header_dropped_altogether_is_refused(open_connection, unchanged):
    with unchanged():
        response = open_connection.message({"action": "default"}, headers={GATEWAY_SECRET_HEADER: None})
    assert_refused(response, 403, "forbidden")


def test_the_refusal_is_the_same_whatever_an_outsider_got_wrong(open_connection, make_ws, api_gateway):
    """Wrong secret, unknown API, unknown connection, wrong User-Agent: one answer."""
    wrong_secret = forged(make_ws("/t/handlers/"), "wrong").message({}, connection_id=open_connection.connection_id)
    unknown_api = open_connection.message({}, headers={"X-Amzn-Apigateway-Api-Id": "nosuchapi1"})
    unknown_connection = open_connection.message({}, connection_id="UnKnOwNcOnNeC1D=")
    wrong_agent = open_connection.message({}, headers={"User-Agent": "curl/8.0"})
    answers = {(r.status_code, r.content) for r in (wrong_secret, unknown_api, unknown_connection, wrong_agent)}
    assert answers == {(403, b'{"error": "forbidden"}')}


@override_settings(WEBSOCKET_GATEWAY_SECRET="the-new-secret-0123456789abcdefghij")
def test_during_a_rotation_the_previous_secret_is_accepted_too(make_ws):
    new = forged(make_ws("/t/public/"), "the-new-secret-0123456789abcdefghij")
    old = forged(make_ws("/t/public/"), "the-old-secret-0123456789abcdefghij")
    assert new.connect().status_code == 200
    assert_refused(old.connect(), 403, "forbidden")
    with override_settings(WEBSOCKET_GATEWAY_SECRET_PREVIOUS="the-old-secret-0123456789abcdefghij"):
        assert old.connect().status_code == 200
        assert new.connect().status_code == 200


@override_settings(WEBSOCKET_GATEWAY_SECRET="")
def test_without_a_configured_secret_every_call_is_refused(make_ws, unchanged):
    """Fail closed: a project that forgot the secret accepts nothing (and its system
    check says why), rather than anything."""
    ws = forged(make_ws("/t/public/"), "")
    with unchanged():
        assert_refused(ws.connect(), 403, "forbidden")


def test_the_system_checks_name_a_missing_or_short_secret(settings):
    from django_aws_api_gateway_websockets.checks import check_gateway_secret

    assert check_gateway_secret() == []
    settings.WEBSOCKET_GATEWAY_SECRET = ""
    assert [problem.id for problem in check_gateway_secret()] == ["websockets.E004"]
    settings.WEBSOCKET_GATEWAY_SECRET = "short"
    settings.WEBSOCKET_GATEWAY_SECRET_PREVIOUS = "also short"
    assert [problem.id for problem in check_gateway_secret()] == ["websockets.W005", "websockets.W005"]

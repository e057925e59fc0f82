"""$connect: who may open a connection, to which channel, and what it records."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.utils import timezone

from django_aws_api_gateway_websockets.channel_access import register_channel_policy, unregister_channel_policy
from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession, WebSocketToken
from django_aws_api_gateway_websockets.testing import fetch_websocket_token
from tests.database_state import database_state

from .conftest import assert_refused, grant
from .views import HooksView

pytestmark = pytest.mark.urls("tests.websockets.urls")


def only_attempt_added(before, *, successful=False):
    """The database state after a refusal that was counted as a connection attempt."""
    after = database_state()
    assert after["sessions"] == before["sessions"]
    assert len(after["attempts"]) == len(before["attempts"]) + 1
    assert bool(after["attempts"][-1][-1]) is successful  # the last column: successful
    return after


# ------------------------------------------------------------------ accepted


def test_a_connect_with_a_token_opens_a_session(ws, user, api_gateway):
    response = ws.connect(channel="general", token=ws.fetch_token())
    assert response.status_code == 200
    session = WebSocketSession.objects.get()
    assert session.connection_id == response.connection_id == ws.connection_id
    assert session.channel_name == "general"
    assert session.user == user
    assert session.api_gateway == api_gateway
    assert session.connected is True
    assert session.request_count == 0
    attempt = ConnectionRateLimit.objects.get()
    assert (attempt.ip_address, attempt.user, attempt.successful) == ("203.0.113.7", user, True)
    assert WebSocketToken.objects.get().used is True


def test_without_a_channel_the_api_gateways_default_channel_is_used(ws):
    assert ws.connect(token=ws.fetch_token()).status_code == 200
    assert WebSocketSession.objects.get().channel_name == "lobby"


@pytest.mark.parametrize("channel", ["general", "tenant_123", "notifications_user_456", "a", "A-b_C-9", "x" * 191])
def test_valid_channel_names_are_accepted(make_ws, channel):
    ws = make_ws("/t/public/")
    assert ws.connect(channel=channel).status_code == 200
    assert WebSocketSession.objects.get().channel_name == channel


def test_a_connection_without_tokens_takes_the_user_of_the_forwarded_session_cookie(make_ws, logged_in_client, user):
    ws = make_ws("/t/public/", browser=logged_in_client)
    assert ws.connect(channel="general").status_code == 200
    assert WebSocketSession.objects.get().user == user


@pytest.mark.parametrize(
    "middleware",
    [
        ["django.contrib.sessions.middleware.SessionMiddleware"],
        [],
    ],
    ids=["sessions-only", "none"],
)
def test_the_cookie_user_is_found_without_the_auth_middleware(make_ws, logged_in_client, user, settings, middleware):
    settings.MIDDLEWARE = middleware
    ws = make_ws("/t/public/", browser=logged_in_client)
    assert ws.connect(channel="general").status_code == 200
    assert WebSocketSession.objects.get().user == user


def test_a_connection_without_tokens_or_cookie_is_anonymous(make_ws):
    ws = make_ws("/t/public/")
    assert ws.connect(channel="general").status_code == 200
    assert WebSocketSession.objects.get().user is None


def test_a_connect_with_a_token_costs_at_most_eight_queries(ws, django_assert_max_num_queries):
    token = ws.fetch_token()
    with django_assert_max_num_queries(8) as captured:
        assert ws.connect(channel="general", token=token).status_code == 200
    # gateway + taken?, token, the login session, its user, attempt, count, session,
    # attempt successful
    assert len(captured) == 8


def test_the_connect_hook_runs_after_the_session_exists(make_ws):
    HooksView.events.clear()
    ws = make_ws("/t/hooks/")
    assert ws.connect(channel="general").status_code == 200
    assert HooksView.events == [("connect", 200, WebSocketSession.objects.get().pk)]
    assert ws.connect(channel="forbidden-by-override").status_code == 403
    assert HooksView.events[-1] == ("connect", 403, None)


# ----------------------------------------------------------- channel names


@pytest.mark.parametrize("channel", ["bad channel", "a.b", "admin/x", "caf\u00e9", "a\nb", "x" * 192, "general\n"])
def test_an_invalid_channel_name_is_refused_and_counted_as_an_attempt(make_ws, channel):
    ws = make_ws("/t/public/")
    before = database_state()
    assert_refused(ws.connect(channel=channel), 400, "invalid channel name")
    only_attempt_added(before)


def test_a_channel_given_twice_is_refused(make_ws):
    ws = make_ws("/t/public/")
    before = database_state()
    assert_refused(ws.connect(query={"channel": ["one", "two"]}), 400, "duplicated query parameter")
    only_attempt_added(before)


@override_settings(WEBSOCKETS={"MAX_CHANNEL_NAME_LENGTH": 8, "CHANNEL_NAME_PATTERN": r"^[a-z]+$"})
def test_channel_rules_come_from_the_websockets_setting(make_ws):
    ws = make_ws("/t/public/")
    assert_refused(ws.connect(channel="abcdefghi"), 400)
    assert_refused(ws.connect(channel="ABC"), 400)
    assert not WebSocketSession.objects.exists()
    assert ws.connect(channel="abcdefgh").status_code == 200


# -------------------------------------------------------------------- tokens


def test_a_connect_without_a_token_is_refused(ws, unchanged):
    before = database_state()
    assert_refused(ws.connect(channel="general"), 403, "invalid token")
    only_attempt_added(before)


@pytest.mark.parametrize("token", ["x", "not-a-real-token-" * 3, "x" * 300])
def test_an_unknown_token_is_refused(ws, token):
    ws.fetch_token()
    before = database_state()
    assert_refused(ws.connect(channel="general", token=token), 403, "invalid token")
    only_attempt_added(before)


def test_a_token_works_once(ws):
    token = ws.fetch_token()
    assert ws.connect(channel="general", token=token).status_code == 200
    before = database_state()
    assert_refused(ws.connect(channel="general", token=token), 403, "invalid token")
    only_attempt_added(before)


def test_an_expired_token_is_refused(ws):
    token = ws.fetch_token()
    WebSocketToken.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    before = database_state()
    assert_refused(ws.connect(channel="general", token=token), 403, "invalid token")
    after = only_attempt_added(before)
    assert after["tokens"] == before["tokens"]


def test_a_token_from_another_browser_session_is_refused_and_spent(ws, user):
    token = ws.fetch_token()
    thief = Client()
    thief.force_login(user)  # same user, another browser session
    before = database_state()
    response = ws.connect(channel="general", token=token, cookies={"sessionid": thief.cookies["sessionid"].value})
    assert_refused(response, 403, "invalid token")
    only_attempt_added(before)
    assert WebSocketToken.objects.get().used is True
    # Spent: not even the right session can use it now.
    assert ws.connect(channel="general", token=token).status_code == 403


def test_a_token_without_the_session_cookie_is_refused(ws):
    token = ws.fetch_token()
    assert_refused(ws.connect(channel="general", token=token, cookies={}), 403, "invalid token")


@override_settings(WEBSOCKETS={"TOKEN_SESSION_BINDING": False})
def test_session_binding_can_be_switched_off(ws):
    assert ws.connect(channel="general", token=ws.fetch_token(), cookies={}).status_code == 200


@override_settings(SESSION_COOKIE_NAME="mysessionid")
def test_the_session_binding_reads_session_cookie_name(api_gateway, user):
    from django_aws_api_gateway_websockets.testing import WebSocketTestClient

    browser = Client()
    browser.force_login(user)
    assert "mysessionid" in browser.cookies
    ws = WebSocketTestClient(api_gateway, browser)
    assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 200


def test_two_browsers_of_one_user_each_connect_with_their_own_token(api_gateway, user):
    from django_aws_api_gateway_websockets.testing import WebSocketTestClient

    clients = []
    for _ in range(2):
        browser = Client()
        browser.force_login(user)
        clients.append(WebSocketTestClient(api_gateway, browser))
    for ws in clients:
        assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 200
    assert WebSocketSession.objects.filter(user=user).count() == 2


def test_a_token_given_twice_in_the_query_is_refused(ws):
    token = ws.fetch_token()
    response = ws.connect(query={"ws_token": [token, token]})
    assert_refused(response, 400, "duplicated query parameter")
    assert WebSocketToken.objects.get().used is False


def test_a_token_is_fetched_through_a_csrf_enforcing_browser(api_gateway, user):
    from django_aws_api_gateway_websockets.testing import WebSocketTestClient

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.post("/websockets/token/").status_code == 403
    ws = WebSocketTestClient(api_gateway, browser)
    assert ws.connect(channel="general", token=fetch_websocket_token(browser)).status_code == 200


# -------------------------------------------------------------------- origin


@pytest.mark.parametrize("origin", ["https://testserver", "https://localhost", "https://localhost:443"])
def test_a_page_of_an_allowed_host_over_https_may_connect(ws, origin):
    assert ws.connect(channel="general", token=ws.fetch_token(), origin=origin).status_code == 200


@pytest.mark.parametrize("origin", ["http://testserver", "http://localhost:8000", "https://testserver:8443"])
def test_the_origin_check_compares_scheme_and_port_too(ws, origin):
    """A page of an allowed host, on plain HTTP or another port, is another origin: a
    network attacker's injected page, or another service on that host."""
    assert_refused(ws.connect(channel="general", token=ws.fetch_token(), origin=origin), 403, "origin not allowed")


@override_settings(CSRF_TRUSTED_ORIGINS=["http://localhost:8000"])
def test_a_trusted_origin_names_its_scheme_and_port(ws):
    assert ws.connect(channel="general", token=ws.fetch_token(), origin="http://localhost:8000").status_code == 200
    token = ws.fetch_token()
    assert_refused(ws.connect(channel="general", token=token, origin="http://localhost:8001"), 403)


@override_settings(
    ALLOWED_HOSTS=["www.example.com", "testserver"],
    CSRF_TRUSTED_ORIGINS=["https://ws.example.com", "https://*.apps.example.com"],
)
@pytest.mark.parametrize("origin", ["https://www.example.com", "https://ws.example.com", "https://a.apps.example.com"])
def test_a_page_of_a_trusted_origin_may_connect(ws, origin):
    assert ws.connect(channel="general", token=ws.fetch_token(), origin=origin).status_code == 200


@override_settings(ALLOWED_HOSTS=["www.example.com", "testserver"], CSRF_TRUSTED_ORIGINS=["https://ws.example.com"])
@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.net",
        "https://www.example.com.evil.net",
        "http://ws.example.com",
        "null",
        "file://",
        "https://www.example.com/path",
        "https://[::1",
    ],
)
def test_a_cross_site_page_may_not_connect(ws, origin):
    token = ws.fetch_token()
    before = database_state()
    assert_refused(ws.connect(channel="general", token=token, origin=origin), 403, "origin not allowed")
    only_attempt_added(before)
    # The token was presented, so it is spent: it cannot be tried again from elsewhere.
    assert_refused(ws.connect(channel="general", token=token), 403, "invalid token")


def test_a_cross_site_page_may_not_ride_on_the_session_cookie(make_ws, logged_in_client):
    # Without tokens, the cookie alone would authenticate: Origin is the defence.
    ws = make_ws("/t/public/", browser=logged_in_client)
    before = database_state()
    assert_refused(ws.connect(channel="general", origin="https://evil.example.net"), 403)
    only_attempt_added(before)


# --------------------------------------------------------------- permissions


@pytest.mark.parametrize("path", ["/t/any-permission/", "/t/all-permissions/"])
def test_a_user_without_the_permissions_may_not_connect(make_ws, logged_in_client, path):
    ws = make_ws(path, browser=logged_in_client)
    before = database_state()
    assert_refused(ws.connect(channel="general", token=ws.fetch_token()), 403, "permission denied")
    only_attempt_added(before)


def test_one_of_permissions_required_is_enough(make_ws, logged_in_client, user):
    grant(user, "change_user")
    ws = make_ws("/t/any-permission/", browser=logged_in_client)
    assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 200


def test_all_permissions_required_means_all(make_ws, logged_in_client, user):
    grant(user, "change_user")
    ws = make_ws("/t/all-permissions/", browser=logged_in_client)
    assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 403
    grant(user, "view_user")
    assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 200


def test_a_superuser_has_every_permission(make_ws, client):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    ws = make_ws("/t/all-permissions/", browser=client)
    assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 200


def test_an_anonymous_user_has_no_permissions(make_ws):
    ws = make_ws("/t/anonymous-permission/")
    assert_refused(ws.connect(channel="general"), 403, "permission denied")
    assert not WebSocketSession.objects.exists()


# ---------------------------------------------------------- channel policies


@pytest.fixture
def staff_policy():
    def staff_only(user, channel_name):
        return user.is_staff

    register_channel_policy(staff_only, prefix="staff-")
    yield staff_only
    unregister_channel_policy(staff_only)


def test_a_channel_policy_refuses_users_it_does_not_allow(ws, staff_policy):
    before = database_state()
    assert_refused(ws.connect(channel="staff-room", token=ws.fetch_token()), 403, "channel not allowed")
    only_attempt_added(before)
    assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 200


def test_a_channel_policy_admits_users_it_allows(ws, user, staff_policy):
    user.is_staff = True
    user.save()
    assert ws.connect(channel="staff-room", token=ws.fetch_token()).status_code == 200


def test_an_exact_name_policy_and_anonymous_users(make_ws, db):
    seen = []

    def members_only(user, channel_name):
        seen.append((user.is_authenticated, channel_name))
        return user.is_authenticated

    register_channel_policy(members_only, name="members")
    try:
        ws = make_ws("/t/public/")
        assert ws.connect(channel="members").status_code == 403
        assert ws.connect(channel="members-extra").status_code == 200
    finally:
        unregister_channel_policy(members_only)
    assert seen == [(False, "members")]


def test_can_join_channel_can_be_overridden(make_ws, unchanged):
    ws = make_ws("/t/hooks/")
    before = database_state()
    assert_refused(ws.connect(channel="forbidden-by-override"), 403, "channel not allowed")
    only_attempt_added(before)


# ------------------------------------------------------- connection ids


def test_a_connection_id_that_already_has_a_session_is_refused(ws, unchanged):
    assert ws.connect(channel="general", token=ws.fetch_token()).status_code == 200
    token = ws.fetch_token()
    with unchanged():
        response = ws.connect(channel="other", token=token, connection_id=ws.connection_id)
    assert_refused(response, 409, "connection already exists")
    assert WebSocketToken.objects.filter(used=False).count() == 1


def test_a_disconnected_connection_id_cannot_be_reopened(make_ws, unchanged):
    ws = make_ws("/t/public/")
    assert ws.connect().status_code == 200
    assert ws.disconnect().status_code == 200
    with unchanged():
        assert_refused(ws.connect(connection_id=ws.connection_id), 409)

"""Access that ends: a user's sockets close when the user's access does, and a token
minted before the end of a login session cannot open one after it."""

import pytest
from django.test import Client

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.testing import WebSocketTestClient, capture_messages

from .conftest import assert_refused

pytestmark = pytest.mark.urls("tests.websockets.urls")


@pytest.fixture
def browser_of(user):
    def make():
        browser = Client()
        browser.force_login(user)
        return browser

    return make


def open_socket(api_gateway, browser, channel="general"):
    ws = WebSocketTestClient(api_gateway, browser)
    assert ws.connect(channel=channel, token=ws.fetch_token()).status_code == 200
    return ws


def closed_ids(captured):
    return sorted(message.connection_id for message in captured if message.closed)


def test_logging_out_closes_the_sockets_of_that_browser_only(api_gateway, browser_of, other_user):
    laptop, phone = browser_of(), browser_of()
    laptop_tabs = [open_socket(api_gateway, laptop), open_socket(api_gateway, laptop)]
    phone_tab = open_socket(api_gateway, phone)
    stranger = Client()
    stranger.force_login(other_user)
    stranger_tab = open_socket(api_gateway, stranger)

    with capture_messages() as captured:
        laptop.logout()

    assert closed_ids(captured) == sorted(tab.connection_id for tab in laptop_tabs)
    open_now = set(WebSocketSession.objects.filter(connected=True).values_list("connection_id", flat=True))
    assert open_now == {phone_tab.connection_id, stranger_tab.connection_id}
    # The closed connections' next messages are refused: nothing runs for them.
    assert_refused(laptop_tabs[0].message({"action": "default"}), 410, "connection closed")


def test_a_token_minted_before_logout_is_refused_after_it(api_gateway, browser_of):
    browser = browser_of()
    ws = WebSocketTestClient(api_gateway, browser)
    token = ws.fetch_token()
    cookies = {name: morsel.value for name, morsel in browser.cookies.items()}
    browser.logout()
    assert_refused(ws.connect(channel="general", token=token, cookies=cookies), 403, "invalid token")
    assert not WebSocketSession.objects.exists()


def test_a_token_minted_before_a_password_change_is_refused_after_it(api_gateway, browser_of, user):
    browser = browser_of()
    ws = WebSocketTestClient(api_gateway, browser)
    token = ws.fetch_token()
    user.set_password("a new password, elsewhere")
    user.save()
    assert_refused(ws.connect(channel="general", token=token), 403, "invalid token")


def test_deactivating_a_user_closes_all_their_sockets(api_gateway, browser_of, user):
    tabs = [open_socket(api_gateway, browser_of()) for _ in range(3)]
    with capture_messages() as captured:
        user.is_active = False
        user.save()
    assert closed_ids(captured) == sorted(tab.connection_id for tab in tabs)
    assert not WebSocketSession.objects.filter(connected=True).exists()


def test_a_token_of_a_user_deactivated_since_is_refused(api_gateway, browser_of, user):
    browser = browser_of()
    ws = WebSocketTestClient(api_gateway, browser)
    token = ws.fetch_token()
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert_refused(ws.connect(channel="general", token=token), 403, "invalid token")


def test_deleting_a_user_closes_their_sockets_before_the_rows_go(api_gateway, browser_of, user):
    tab = open_socket(api_gateway, browser_of())
    with capture_messages() as captured:
        user.delete()
    assert closed_ids(captured) == [tab.connection_id]


def test_a_token_comes_back_only_from_the_browser_it_went_to(api_gateway, browser_of):
    ws = WebSocketTestClient(api_gateway, browser_of())
    token = ws.fetch_token()
    # The same login session's cookie, but not the binding cookie the token endpoint set.
    session_only = {"sessionid": ws.client.cookies["sessionid"].value}
    assert_refused(ws.connect(channel="general", token=token, cookies=session_only), 403, "invalid token")


def test_the_binding_cookie_is_set_once_http_only_and_kept(api_gateway, browser_of, settings):
    browser = browser_of()
    first = browser.post("/websockets/token/")
    binding = first.cookies[settings.WEBSOCKETS.get("BINDING_COOKIE_NAME", "ws_binding")]
    assert binding["httponly"]
    assert binding["samesite"] == "Lax"
    second = browser.post("/websockets/token/")
    assert "ws_binding" not in second.cookies  # the browser already holds it

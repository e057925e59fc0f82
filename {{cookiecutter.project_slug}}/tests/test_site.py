"""The project skeleton: pages, login and logout, static files, the token endpoint, the
Content-Security-Policy header."""

import pytest
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.module_loading import import_string

from config.settings import base

pytestmark = pytest.mark.django_db


def test_home_page_renders_with_navigation_and_login_link(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b"Log in" in response.content


def test_the_site_has_an_icon_at_favicon_ico_too(client):
    icon = static("favicon.ico")
    assert f'<link rel="icon" href="{icon}">'.encode() in client.get(reverse("home")).content
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response.url == icon
    served = client.get(icon)
    assert served.status_code == 200
    assert b"".join(served.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_login_with_password_then_logout(client, user, password):
    response = client.post(reverse("login"), {"username": user.username, "password": password})
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == user
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_wrong_password_is_refused(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert response.status_code == 200
    assert not response.context["user"].is_authenticated


def test_token_endpoint_needs_a_logged_in_session(client):
    response = client.post(reverse("websocket_token"))
    assert response.status_code == 401


def test_token_endpoint_hands_out_a_single_use_token(logged_in_client):
    response = logged_in_client.post(reverse("websocket_token"))
    assert response.status_code == 200
    body = response.json()
    assert len(body["token"]) >= 40
    assert body["expires_in"] > 0
    assert logged_in_client.post(reverse("websocket_token")).json()["token"] != body["token"]


def test_health_check_answers_any_host_over_plain_http(client, settings):
    settings.ALLOWED_HOSTS = ["www.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.0.3.7")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert client.get("/", HTTP_HOST="10.0.3.7").status_code == 400


def test_every_page_gets_the_content_security_policy(client):
    """The test settings let pages open sockets to the local gateway on any port of 127.0.0.1."""
    response = client.get(reverse("home"))
    assert response["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws://127.0.0.1:*; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def test_the_production_policy_allows_sockets_to_the_websocket_domain_only(client, settings):
    """The header a deployed page gets, from base.py's SECURE_CSP (Django's own middleware on
    Django 6.1, the project's on 5.2: the same header)."""
    settings.SECURE_CSP = base.SECURE_CSP
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    # WEBSOCKET_CSP_CONNECT_SRC may add sources after these.
    assert policy.startswith(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' wss://{base.WEBSOCKET_HOST}"
    )
    assert policy.endswith("; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def test_a_view_that_sets_its_own_policy_keeps_it(rf, settings):
    (path,) = [name for name in settings.MIDDLEWARE if name.endswith(".ContentSecurityPolicyMiddleware")]
    own = "script-src 'self' 'unsafe-inline'"
    middleware = import_string(path)(lambda request: HttpResponse(headers={"Content-Security-Policy": own}))
    assert middleware(rf.get("/"))["Content-Security-Policy"] == own

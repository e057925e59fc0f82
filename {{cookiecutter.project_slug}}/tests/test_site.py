"""The project skeleton: pages, login and logout, static files, the token endpoint."""

import pytest
from django.templatetags.static import static
from django.urls import reverse

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

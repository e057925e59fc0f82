"""The dashboard page and how the app plugs into the site."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from django_aws_api_gateway_websockets.provisioning.app_routes import declared_routes, route_path
from localdev.local_api import DEMO_USERS

from {{ cookiecutter.project_slug }}.dashboard.models import Sample

pytestmark = pytest.mark.django_db


def test_the_page_carries_the_channel_route_and_recent_figures(client, staff, api_gateway):
    now = timezone.now()
    for n in range(3):
        Sample.objects.create(taken_on=now - timedelta(seconds=10 - n), connections=n)
    client.force_login(staff)
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 200
    context = response.context
    assert context["channel_name"] == "dashboard"
    assert context["websocket_action"] == "dashboard"
    assert context["websocket_url"] == api_gateway.websocket_url
    config = context["dashboard_config"]
    assert (config["channel"], config["action"]) == ("dashboard", "dashboard")
    assert [sample["connections"] for sample in config["samples"]] == [0, 1, 2]
    assert context["latest"].connections == 2
    assert b'id="connections-total">2<' in response.content
    assert "csrftoken" in response.cookies


def test_an_empty_dashboard_renders(client, staff):
    client.force_login(staff)
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 200
    assert response.context["dashboard_config"]["samples"] == []


def test_the_app_declares_its_route():
    (declared,) = [route for route in declared_routes() if route.app_label == "dashboard"]
    assert (declared.route_key, route_path(declared)) == ("dashboard", reverse("dashboard:websocket"))


def dashboard_links(response):
    return [item for item in response.context["nav_items"] if item["url"] == reverse("dashboard:index")]


def test_only_those_who_may_watch_see_the_dashboard_link(client, make_user, staff):
    """The link (navigation and home page card) shows only to staff who may watch."""
    href = f'href="{reverse("dashboard:index")}"'.encode()
    home = client.get(reverse("home"))
    assert dashboard_links(home) == [] and href not in home.content
    for user in (make_user("plain"), make_user("staff-without-permission", is_staff=True)):
        client.force_login(user)
        home = client.get(reverse("home"))
        assert dashboard_links(home) == [] and href not in home.content
    client.force_login(staff)
    home = client.get(reverse("home"))
    assert len(dashboard_links(home)) == 1 and home.content.count(href) == 2  # the navigation and the card


def test_the_refusal_says_the_page_is_for_staff(client, make_user):
    client.force_login(make_user("plain"))
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 403
    text = response.content.decode()
    assert "<h1>Staff only</h1>" in text
    assert "The live dashboard is for staff who may watch it, and plain is not one of them." in text
    # Outside development, no demo login is offered.
    assert "demo staff user" not in text
    assert not any(password in text for _, password, _ in DEMO_USERS)


def test_in_development_the_refusal_says_how_to_log_in_as_the_demo_staff_user(client, make_user, settings):
    settings.DEBUG = True
    username, password, _ = next(user for user in DEMO_USERS if user[2])
    client.force_login(make_user("plain"))
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 403
    text = response.content.decode()
    assert f"log in as the demo staff user <strong>{username}</strong>" in text
    assert f"with the password <strong>{password}</strong>" in text
    login = f'href="{reverse("login")}?next={reverse("dashboard:index")}"'
    assert login in text

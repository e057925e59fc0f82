"""The dashboard page and how the app plugs into the site."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from django_aws_api_gateway_websockets.provisioning.app_routes import declared_routes, route_path

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

"""The notifications page and how the app plugs into the site."""

import pytest
from django.urls import reverse

from django_aws_api_gateway_websockets.provisioning.app_routes import declared_routes, route_path

from {{ cookiecutter.project_slug }}.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_page_needs_a_login(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_page_lists_the_users_own_notifications_and_unread_count(logged_in_client, user, other_user, api_gateway):
    read = Notification.objects.create(user=user, title="old news")
    read.read_on = read.created_on
    read.save()
    unread = Notification.objects.create(user=user, title="fresh")
    Notification.objects.create(user=other_user, title="someone else's")
    response = logged_in_client.get(reverse("notifications:list"))
    assert response.status_code == 200
    context = response.context
    assert context["unread"] == 1
    assert [n["id"] for n in context["notifications_config"]["notifications"]] == [unread.pk, read.pk]
    assert (context["channel_name"], context["websocket_action"]) == ("notifications", "notifications")
    assert context["websocket_url"] == api_gateway.websocket_url
    assert b"someone else" not in response.content
    assert b'data-count="1"' in response.content
    assert "csrftoken" in response.cookies


def test_the_app_declares_its_route():
    (declared,) = [route for route in declared_routes() if route.app_label == "notifications"]
    assert (declared.route_key, route_path(declared)) == ("notifications", reverse("notifications:websocket"))

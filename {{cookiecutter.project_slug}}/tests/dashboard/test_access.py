"""Only staff who may watch it see the dashboard, on the page and on the socket."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from django_aws_api_gateway_websockets import channel_access
from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.testing import WebSocketTestClient

from {{ cookiecutter.project_slug }}.dashboard.access import (
    DASHBOARD_CHANNEL,
    can_watch_dashboard,
    may_join_dashboard_channel,
)

pytestmark = pytest.mark.django_db


def test_who_may_watch(make_user, staff):
    assert can_watch_dashboard(staff)
    assert can_watch_dashboard(make_user("root", is_staff=True, is_superuser=True))
    assert not can_watch_dashboard(make_user("plain"))
    assert not can_watch_dashboard(make_user("no-permission", is_staff=True))
    assert not can_watch_dashboard(make_user("not-staff", watch=True))
    assert not can_watch_dashboard(make_user("gone", is_staff=True, is_superuser=True, is_active=False))
    assert not can_watch_dashboard(AnonymousUser())


def test_the_channel_policy_guards_the_dashboard_channel_only():
    assert [p.check for p in channel_access.policies_for(DASHBOARD_CHANNEL)] == [may_join_dashboard_channel]
    assert may_join_dashboard_channel not in [p.check for p in channel_access.policies_for("dashboard-2")]


def test_staff_connect_to_the_dashboard_channel(staff, socket_for):
    ws = socket_for(staff, DASHBOARD_CHANNEL)
    assert WebSocketSession.objects.get(connection_id=ws.connection_id).channel_name == DASHBOARD_CHANNEL


def test_others_are_refused_at_connect(make_user, api_gateway):
    browser = Client()
    browser.force_login(make_user("plain"))
    ws = WebSocketTestClient(api_gateway, browser)
    response = ws.connect(channel=DASHBOARD_CHANNEL, token=ws.fetch_token())
    assert response.status_code == 403
    assert response.json() == {"error": "channel not allowed"}
    assert not WebSocketSession.objects.exists()


def test_the_page_sends_visitors_to_login_and_refuses_non_staff(client, make_user, staff):
    url = reverse("dashboard:index")
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    client.force_login(make_user("plain"))
    assert client.get(url).status_code == 403
    client.force_login(staff)
    assert client.get(url).status_code == 200

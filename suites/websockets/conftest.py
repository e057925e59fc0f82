"""Fixtures for the WebSocket view tests: a registered API Gateway, test clients that
play API Gateway, and a snapshot of every row a request could change."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from django_aws_api_gateway_websockets.models import (
    WebSocketSession,
)
from django_aws_api_gateway_websockets.testing import WebSocketTestClient, capture_messages
from tests.database_state import database_state


@pytest.fixture
def ws(api_gateway, logged_in_client):
    """API Gateway in front of the project's SiteWebSocketView, for a logged-in browser."""
    return WebSocketTestClient(api_gateway, logged_in_client)


@pytest.fixture
def make_ws(api_gateway, client):
    """``make_ws(base_path, browser=None, **options)``: a WebSocketTestClient whose
    requests go to the test view under ``base_path``."""

    def make(base_path="/ws/", browser=None, gateway=None, **options):
        return WebSocketTestClient(gateway or api_gateway, browser or client, base_path=base_path, **options)

    return make


@pytest.fixture
def connected_ws(ws):
    """``ws`` with an open connection on channel "general"."""
    response = ws.connect(channel="general", token=ws.fetch_token())
    assert response.status_code == 200, response.content
    return ws


def grant(user, *codenames):
    """Give ``user`` the permissions ``users.<codename>`` (and forget cached ones)."""
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="users", codename__in=codenames))
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


def assert_refused(response, status, reason=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    if reason is not None:
        assert body["error"] == reason


@pytest.fixture
def unchanged(db):
    """``with unchanged(): ...`` asserts that nothing in the database changed."""

    class Unchanged:
        def __enter__(self):
            self.before = database_state()

        def __exit__(self, *exc):
            if exc[0] is None:
                assert database_state() == self.before

    return Unchanged


@pytest.fixture
def sent():
    """Messages sent through API Gateway's management API while the test runs
    (recorded, not posted)."""
    with capture_messages() as capture:
        yield capture


def backdate_sessions(queryset, **delta):
    """Move the sessions' timestamps ``delta`` (timedelta arguments) into the past."""
    past = timedelta(**delta)
    for session in queryset:
        WebSocketSession.objects.filter(pk=session.pk).update(
            created_on=session.created_on - past, updated_on=session.updated_on - past
        )

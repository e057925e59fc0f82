"""The pieces of ``manage.py dev``: declared routes, the local record, the database."""

import uuid

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.db import connection
from psycopg import sql

from django_aws_api_gateway_websockets.models import ApiGateway, ApiGatewayAdditionalRoute
from localdev import database, local_api

pytestmark = pytest.mark.django_db


@pytest.fixture
def declare(monkeypatch):
    """Make the users app the only one that declares WebSocket routes."""

    def set_routes(routes):
        for config in apps.get_app_configs():
            monkeypatch.setattr(config, "websocket_routes", routes if config.label == "users" else (), raising=False)

    return set_routes


def test_the_local_record_and_declared_routes_are_created_then_left_alone(declare):
    declare([("chat", "websocket")])
    record, notes = local_api.configure_local_api(8123)
    assert notes == ["created the local ApiGateway record", "added route 'chat' -> http://127.0.0.1:8123/ws/chat"]
    assert record.stage_name == "local"
    assert record.target_base_endpoint == "http://127.0.0.1:8123/ws/"
    route = ApiGatewayAdditionalRoute.objects.get()
    assert (route.route_key, route.integration_url) == ("chat", "http://127.0.0.1:8123/ws/chat")

    again, notes = local_api.configure_local_api(8123)
    assert again.pk == record.pk
    assert notes == []

    moved, notes = local_api.configure_local_api(9000)
    assert notes == [
        "updated the local ApiGateway record (target_base_endpoint)",
        "moved route 'chat' -> http://127.0.0.1:9000/ws/chat",
    ]
    assert ApiGatewayAdditionalRoute.objects.get().integration_url == "http://127.0.0.1:9000/ws/chat"


def test_undeclared_routes_are_removed_and_unresolvable_ones_skipped(declare):
    declare([("chat", "websocket")])
    local_api.configure_local_api(8123)
    declare([("news", "no-such-url-name")])
    _, notes = local_api.configure_local_api(8123)
    assert "removed route 'chat' (no app declares it any more)" in notes
    assert "skipped route 'news': URL name 'no-such-url-name' does not resolve" in notes
    assert not ApiGatewayAdditionalRoute.objects.exists()
    assert ApiGateway.objects.count() == 1


def test_demo_users_get_their_known_passwords():
    users = local_api.ensure_demo_users()
    for username, password, staff in users:
        user = authenticate(username=username, password=password)
        assert user is not None
        assert user.is_staff == staff


def test_ensure_database_exists_creates_a_missing_postgresql_database(settings):
    """On SQLite there is nothing to do; on PostgreSQL a missing database is created."""
    if connection.vendor != "postgresql":
        assert database.ensure_database_exists() is None
        return
    name = f"localdev_{uuid.uuid4().hex[:12]}"
    probe = {**settings.DATABASES["default"], "NAME": name}
    try:
        assert database.ensure_database_exists(probe) == f"Created the PostgreSQL database {name}."
        assert database.ensure_database_exists(probe) is None
    finally:
        import psycopg

        options = settings.DATABASES["default"]
        with psycopg.connect(
            dbname="postgres",
            host=options.get("HOST") or None,
            port=options.get("PORT") or None,
            user=options.get("USER") or None,
            password=options.get("PASSWORD") or None,
            autocommit=True,
        ) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

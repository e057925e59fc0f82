"""Fixtures: a local gateway and an integration server, both real, on 127.0.0.1."""

import pytest

from .support import IntegrationServer, control_client, deploy_websocket_api, start_gateway


@pytest.fixture
def integration():
    server = IntegrationServer().start()
    yield server
    server.stop()


@pytest.fixture
def gateway():
    running = start_gateway()
    yield running
    running.stop()


@pytest.fixture
def control(gateway):
    return control_client(gateway)


@pytest.fixture
def api_id(control, integration):
    """A deployed API: $connect, $disconnect, $default (two-way) and a two-way 'chat' route."""
    integration.respond("/ws/default", body="default got [body]")
    integration.respond("/ws/chat", body="chat got [body]")
    return deploy_websocket_api(control, integration.base_url, extra_routes=[("chat", "/ws/chat")])

"""Provisioning runs against a real local gateway through boto3's endpoint override."""

import pytest

from django_aws_api_gateway_websockets.models import ApiGateway
from tests.localgateway.support import IntegrationServer, control_client, start_gateway


@pytest.fixture
def gateway_options():
    """Override to start the gateway with other limits (e.g. a small page size)."""
    return {}


@pytest.fixture
def gateway(settings, gateway_options):
    running = start_gateway(**gateway_options)
    settings.AWS_ENDPOINT_URL_APIGATEWAYV2 = running.url
    settings.AWS_ENDPOINT_URL_ROUTE53 = running.url
    # With boto3 pointed at the local gateway, saving records may sync it.
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "AUTO_SYNC_API_GATEWAY": True}
    yield running
    running.stop()


@pytest.fixture
def control(gateway):
    return control_client(gateway)


@pytest.fixture
def integration():
    server = IntegrationServer().start()
    yield server
    server.stop()


@pytest.fixture
def api_gateway(db, integration):
    return ApiGateway.objects.create(
        api_name="Example production websocket API",
        api_description="Tests",
        target_base_endpoint=f"{integration.base_url}/ws/",
        stage_description="The stage",
        tags={"env": "test"},
    )

"""create_api / sync / create_custom_domain against the local control plane."""

import asyncio
import logging

import aiohttp
import pytest
from django.conf import settings

from django_aws_api_gateway_websockets import provisioning
from django_aws_api_gateway_websockets.models import ApiGateway, ApiGatewayAdditionalRoute
from localgateway.faults import FaultRule
from tests.localgateway.support import run

from .support import control_state, deployments, integration_of, routes_by_key

pytestmark = pytest.mark.django_db(transaction=False)


def _inject(gateway, operation, status=400, times=1):
    gateway.call(
        gateway.gateway.faults.add, FaultRule(plane="control", operation=operation, status=status, times=times)
    )


def test_create_api_provisions_routes_integrations_stage_and_one_deployment(gateway, control, api_gateway, integration):
    ApiGatewayAdditionalRoute.objects.create(
        api_gateway=api_gateway, name="Chat", route_key="chat", integration_url=f"{integration.base_url}/chat/"
    )
    report = provisioning.create_api(api_gateway)

    api_gateway.refresh_from_db()
    assert api_gateway.api_created
    assert api_gateway.api_endpoint == f"ws://127.0.0.1:{gateway.port}"
    api = control.get_api(ApiId=api_gateway.api_id)
    assert api["Name"] == "Example production websocket API"
    assert api["Description"] == "Tests"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    assert api["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert api["Tags"] == {"env": "test"}

    routes = routes_by_key(control, api_gateway.api_id)
    assert sorted(routes) == ["$connect", "$default", "$disconnect", "chat"]
    expected_uris = {
        "$connect": f"{integration.base_url}/ws/connect",
        "$disconnect": f"{integration.base_url}/ws/disconnect",
        "$default": f"{integration.base_url}/ws/default",
        "chat": f"{integration.base_url}/chat/",
    }
    for key, route in routes.items():
        wire = integration_of(control, api_gateway.api_id, route)
        assert wire["IntegrationType"] == "HTTP_PROXY"
        assert wire["IntegrationMethod"] == "POST"
        assert wire["IntegrationUri"] == expected_uris[key]
        # Every integration: the connection id and the gateway secret (a stage variable).
        common = {
            "integration.request.header.connectionId": "context.connectionId",
            "integration.request.header.X-Gateway-Secret": "stageVariables.djangoGatewaySecret",
        }
        # $connect also maps, explicitly, every client value Django reads, from
        # parameters the route declares: AWS documents no pass-through.
        client_values = {
            "querystring.channel",
            "querystring.ws_token",
            "header.Cookie",
            "header.Origin",
            "header.Sec-WebSocket-Key",
            "header.Sec-WebSocket-Version",
        }
        if key == "$connect":
            assert wire["RequestParameters"] == {
                **common,
                **{f"integration.request.{value}": f"route.request.{value}" for value in client_values},
            }
            assert route["RequestParameters"] == {
                f"route.request.{value}": {"Required": False} for value in client_values
            }
        else:
            assert wire["RequestParameters"] == common
            assert not route.get("RequestParameters")
        assert wire["TimeoutInMillis"] == 29000
        two_way = key in ("$default", "chat")
        assert route.get("RouteResponseSelectionExpression") == ("$default" if two_way else None)
        responses = control.get_route_responses(ApiId=api_gateway.api_id, RouteId=route["RouteId"])["Items"]
        assert [r["RouteResponseKey"] for r in responses] == (["$default"] if two_way else [])

    stage = control.get_stage(ApiId=api_gateway.api_id, StageName="production")
    assert stage["Description"] == "The stage"
    assert stage["StageVariables"] == {"djangoGatewaySecret": settings.WEBSOCKET_GATEWAY_SECRET}
    [deployment] = deployments(control, api_gateway.api_id)
    assert stage["DeploymentId"] == deployment["DeploymentId"] == report.deployment_id
    assert ApiGatewayAdditionalRoute.objects.get(route_key="chat").deployed
    assert f"created API {api_gateway.api_id}" in report.summary()


def test_the_data_plane_then_routes_as_provisioned(gateway, api_gateway, integration):
    ApiGatewayAdditionalRoute.objects.create(
        api_gateway=api_gateway, name="Chat", route_key="chat", integration_url=f"{integration.base_url}/chat/"
    )
    provisioning.create_api(api_gateway)
    integration.respond("/chat/", body="chat view")
    integration.respond("/ws/default", body="default view")

    async def scenario():
        async with aiohttp.ClientSession() as session:
            websocket = await session.ws_connect(f"{gateway.websocket_url('production')}?channel=lobby")
            await websocket.send_str('{"action": "chat", "text": "hi"}')
            first = await websocket.receive(timeout=10)
            await websocket.send_str('{"action": "other"}')
            second = await websocket.receive(timeout=10)
            await websocket.close()
        return first.data, second.data

    assert run(scenario()) == ("chat view", "default view")
    [connect] = integration.requests_to("/ws/connect")
    assert connect.query_string == "channel=lobby"
    assert connect.headers["X-Amzn-Apigateway-Api-Id"] == ApiGateway.objects.get().api_id
    integration.wait_for("/ws/disconnect")


def test_running_again_changes_nothing(gateway, control, api_gateway, integration):
    ApiGatewayAdditionalRoute.objects.create(
        api_gateway=api_gateway, name="Chat", route_key="chat", integration_url=f"{integration.base_url}/chat/"
    )
    provisioning.create_api(api_gateway)
    before = control_state(gateway)

    again = provisioning.create_api(api_gateway)
    synced = provisioning.sync(api_gateway)

    assert not again.changed
    assert not synced.changed
    assert synced.summary() == "already up to date, nothing changed"
    assert control_state(gateway) == before
    assert len(deployments(control, api_gateway.api_id)) == 1


def test_editing_the_target_base_endpoint_updates_integrations_and_redeploys_once(
    gateway, control, api_gateway, integration, django_capture_on_commit_callbacks
):
    provisioning.create_api(api_gateway)
    api_gateway.refresh_from_db()
    api_gateway.target_base_endpoint = f"{integration.base_url}/v2/ws"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        api_gateway.save()
    assert len(callbacks) == 1

    routes = routes_by_key(control, api_gateway.api_id)
    assert integration_of(control, api_gateway.api_id, routes["$connect"])["IntegrationUri"] == (
        f"{integration.base_url}/v2/ws/connect"
    )
    assert len(deployments(control, api_gateway.api_id)) == 2
    assert not provisioning.sync(api_gateway).changed

    async def scenario():
        async with aiohttp.ClientSession() as session:
            websocket = await session.ws_connect(gateway.websocket_url("production"))
            await websocket.close()

    run(scenario())
    assert len(integration.requests_to("/v2/ws/connect")) == 1


def test_adding_and_removing_an_additional_route_syncs_after_commit(
    gateway, control, api_gateway, integration, django_capture_on_commit_callbacks
):
    provisioning.create_api(api_gateway)
    with django_capture_on_commit_callbacks(execute=True):
        route = ApiGatewayAdditionalRoute.objects.create(
            api_gateway=api_gateway, name="News", route_key="news", integration_url=f"{integration.base_url}/news/"
        )
    route.refresh_from_db()
    assert route.deployed
    routes = routes_by_key(control, api_gateway.api_id)
    assert "news" in routes
    assert len(deployments(control, api_gateway.api_id)) == 2
    news_integration = routes["news"]["Target"].split("/", 1)[1]

    with django_capture_on_commit_callbacks(execute=True):
        route.delete()
    assert "news" not in routes_by_key(control, api_gateway.api_id)
    integrations = control.get_integrations(ApiId=api_gateway.api_id)["Items"]
    assert news_integration not in [i["IntegrationId"] for i in integrations]
    assert len(integrations) == 3
    assert len(deployments(control, api_gateway.api_id)) == 3


def test_with_automatic_sync_off_saving_an_api_is_one_update(
    settings, gateway, api_gateway, integration, django_assert_num_queries, django_capture_on_commit_callbacks
):
    provisioning.create_api(api_gateway)
    api_gateway.refresh_from_db()
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "AUTO_SYNC_API_GATEWAY": False}
    api_gateway.target_base_endpoint = f"{integration.base_url}/v2/ws"
    with django_assert_num_queries(1), django_capture_on_commit_callbacks() as callbacks:
        api_gateway.save()
    assert callbacks == []


def test_several_route_saves_in_one_transaction_sync_once(
    gateway, control, api_gateway, integration, django_capture_on_commit_callbacks
):
    provisioning.create_api(api_gateway)
    with django_capture_on_commit_callbacks(execute=True):
        for key in ("a", "b", "c"):
            ApiGatewayAdditionalRoute.objects.create(
                api_gateway=api_gateway, name=key, route_key=key, integration_url=f"{integration.base_url}/{key}/"
            )
    assert len(deployments(control, api_gateway.api_id)) == 2
    assert set(ApiGatewayAdditionalRoute.objects.values_list("deployed", flat=True)) == {True}


def test_a_failed_automatic_sync_is_logged_and_completed_by_the_next_sync(
    gateway, control, api_gateway, integration, django_capture_on_commit_callbacks, caplog
):
    provisioning.create_api(api_gateway)
    _inject(gateway, "CreateDeployment")
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        route = ApiGatewayAdditionalRoute.objects.create(
            api_gateway=api_gateway, name="News", route_key="news", integration_url=f"{integration.base_url}/news/"
        )
    route.refresh_from_db()
    assert not route.deployed
    assert "CreateDeployment failed: BadRequestException: Injected fault" in caplog.text
    # The route exists in AWS but is not deployed; the next sync deploys it.
    assert "news" in routes_by_key(control, api_gateway.api_id)
    report = provisioning.sync(api_gateway)
    assert report.deployment_id
    route.refresh_from_db()
    assert route.deployed


def test_a_failed_create_is_completed_by_running_it_again_without_a_second_api(gateway, control, api_gateway):
    _inject(gateway, "CreateRoute")
    with pytest.raises(provisioning.ProvisioningError, match="CreateRoute failed: BadRequestException"):
        provisioning.create_api(api_gateway)
    api_gateway.refresh_from_db()
    assert api_gateway.api_id
    assert not api_gateway.api_created

    provisioning.create_api(api_gateway)
    api_gateway.refresh_from_db()
    assert api_gateway.api_created
    assert [api["ApiId"] for api in control.get_apis()["Items"]] == [api_gateway.api_id]
    assert sorted(routes_by_key(control, api_gateway.api_id)) == ["$connect", "$default", "$disconnect"]


def test_an_api_deleted_in_aws_is_created_anew(gateway, control, api_gateway):
    provisioning.create_api(api_gateway)
    api_gateway.refresh_from_db()
    old_id = api_gateway.api_id
    control.delete_api(ApiId=old_id)

    with pytest.raises(provisioning.ProvisioningError, match="no longer exists"):
        provisioning.sync(api_gateway)
    report = provisioning.create_api(api_gateway)
    api_gateway.refresh_from_db()
    assert api_gateway.api_id != old_id
    assert "no longer exists" in report.summary()
    assert api_gateway.api_created


def test_drift_in_aws_is_repaired(gateway, control, api_gateway, integration):
    provisioning.create_api(api_gateway)
    api_id = ApiGateway.objects.get().api_id
    routes = routes_by_key(control, api_id)
    default = routes["$default"]
    control.update_integration(
        ApiId=api_id, IntegrationId=default["Target"].split("/", 1)[1], IntegrationUri="http://127.0.0.1:9/elsewhere"
    )
    control.update_route(ApiId=api_id, RouteId=default["RouteId"], RouteResponseSelectionExpression="")

    report = provisioning.sync(api_gateway)
    assert report.deployment_id
    default = routes_by_key(control, api_id)["$default"]
    assert default["RouteResponseSelectionExpression"] == "$default"
    assert integration_of(control, api_id, default)["IntegrationUri"] == f"{integration.base_url}/ws/default"


@pytest.mark.parametrize("gateway_options", [{"max_page_size": 2}])
def test_sync_follows_pagination(gateway, control, api_gateway, integration):
    for key in ("a", "b", "c"):
        ApiGatewayAdditionalRoute.objects.create(
            api_gateway=api_gateway, name=key, route_key=key, integration_url=f"{integration.base_url}/{key}/"
        )
    provisioning.create_api(api_gateway)
    before = control_state(gateway)
    assert not provisioning.sync(api_gateway).changed
    assert control_state(gateway) == before
    assert len(routes_by_key(control, ApiGateway.objects.get().api_id)) == 6


def test_sync_needs_a_created_api(gateway, api_gateway):
    with pytest.raises(provisioning.ProvisioningError, match="has no API in AWS yet"):
        provisioning.sync(api_gateway)


def test_an_unreachable_control_plane_is_a_readable_error(settings, api_gateway):
    settings.AWS_ENDPOINT_URL_APIGATEWAYV2 = "http://127.0.0.1:9"
    with pytest.raises(provisioning.ProvisioningError) as failure:
        provisioning.create_api(api_gateway)
    assert str(failure.value).startswith("GetApi failed" if api_gateway.api_id else "CreateApi failed")
    assert "Could not connect" in str(failure.value)
    assert "\n" not in str(failure.value)
    api_gateway.refresh_from_db()
    assert not api_gateway.api_id


# -- custom domain ------------------------------------------------------------------------

CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123"


def test_custom_domain_prerequisites_are_named(gateway, api_gateway):
    with pytest.raises(provisioning.ProvisioningError) as failure:
        provisioning.create_custom_domain(api_gateway)
    message = str(failure.value)
    assert "Create API Gateway" in message
    assert "a domain name" in message
    assert "a certificate ARN" in message


def test_custom_domain_mapping_and_route53_alias(gateway, control, api_gateway):
    import boto3

    provisioning.create_api(api_gateway)
    api_gateway.refresh_from_db()
    api_gateway.domain_name, api_gateway.certificate_arn = "ws.example.com", CERTIFICATE
    api_gateway.hosted_zone_id = "/hostedzone/ZUSER123"  # as the AWS CLI prints it
    api_gateway.save()
    assert api_gateway.hosted_zone_id == "ZUSER123"
    report = provisioning.create_custom_domain(api_gateway)

    api_gateway.refresh_from_db()
    domain = control.get_domain_name(DomainName="ws.example.com")
    [configuration] = domain["DomainNameConfigurations"]
    assert configuration["CertificateArn"] == CERTIFICATE
    assert configuration["EndpointType"] == "REGIONAL"
    assert configuration["SecurityPolicy"] == "TLS_1_2"
    assert api_gateway.custom_domain_created
    assert api_gateway.api_gateway_domain_name == configuration["ApiGatewayDomainName"]
    [mapping] = control.get_api_mappings(DomainName="ws.example.com")["Items"]
    assert (mapping["ApiId"], mapping["Stage"], mapping["ApiMappingId"]) == (
        api_gateway.api_id,
        "production",
        api_gateway.api_mapping_id,
    )
    assert api_gateway.websocket_url == "wss://ws.example.com"

    route53 = boto3.client(
        "route53", endpoint_url=gateway.url, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    [record] = route53.list_resource_record_sets(HostedZoneId="ZUSER123")["ResourceRecordSets"]
    assert record["Type"] == "A"
    assert record["AliasTarget"]["HostedZoneId"] == configuration["HostedZoneId"]
    assert record["AliasTarget"]["DNSName"] == configuration["ApiGatewayDomainName"] + "."
    assert "pointed ws.example.com" in report.summary()

    again = provisioning.create_custom_domain(api_gateway)
    assert "created custom domain" not in again.summary()
    assert len(control.get_api_mappings(DomainName="ws.example.com")["Items"]) == 1


def test_custom_domain_without_hosted_zone_says_where_to_point_dns(gateway, api_gateway):
    provisioning.create_api(api_gateway)
    ApiGateway.objects.filter(pk=api_gateway.pk).update(domain_name="ws.example.com", certificate_arn=CERTIFICATE)
    report = provisioning.create_custom_domain(api_gateway)
    api_gateway.refresh_from_db()
    assert f"point ws.example.com at {api_gateway.api_gateway_domain_name}" in report.summary()


def test_custom_domain_mapped_to_another_api_is_refused(gateway, control, api_gateway, integration):
    provisioning.create_api(api_gateway)
    other = ApiGateway.objects.create(api_name="Other", target_base_endpoint=f"{integration.base_url}/other/")
    provisioning.create_api(other)
    for record in (api_gateway, other):
        ApiGateway.objects.filter(pk=record.pk).update(domain_name="ws.example.com", certificate_arn=CERTIFICATE)
    provisioning.create_custom_domain(other)
    with pytest.raises(provisioning.ProvisioningError, match="already mapped to API"):
        provisioning.create_custom_domain(api_gateway)
    api_gateway.refresh_from_db()
    assert not api_gateway.custom_domain_created


def test_many_concurrent_connections_reach_the_provisioned_api(gateway, api_gateway, integration):
    provisioning.create_api(api_gateway)

    async def scenario():
        async with aiohttp.ClientSession() as session:
            sockets = await asyncio.gather(
                *(session.ws_connect(gateway.websocket_url("production")) for _ in range(20))
            )
            await asyncio.gather(*(socket.close() for socket in sockets))

    run(scenario())
    integration.wait_for("/ws/disconnect", count=20)
    ids = {r.headers["connectionId"] for r in integration.requests_to("/ws/connect")}
    assert len(ids) == 20

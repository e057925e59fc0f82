"""The apigatewayv2 control plane and Route 53 through unmodified boto3 clients."""

import aiohttp
import boto3
import pytest

from .support import REGION, connect_and_close, control_client, deploy_websocket_api, run, start_gateway


def _integration(control, api_id, uri="http://127.0.0.1:9/ws/default", **extra):
    return control.create_integration(
        ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="POST", IntegrationUri=uri, **extra
    )


def _api(control, **extra):
    return control.create_api(
        Name="api", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action", **extra
    )


def test_api_lifecycle(gateway, control):
    created = _api(control, Description="first", Tags={"env": "test"})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["ApiEndpoint"] == f"ws://127.0.0.1:{gateway.port}"
    assert created["ProtocolType"] == "WEBSOCKET"
    assert created["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert created["Tags"] == {"env": "test"}
    api_id = created["ApiId"]
    assert len(api_id) == 10

    updated = control.update_api(ApiId=api_id, Description="second", RouteSelectionExpression="$request.body.type")
    assert (updated["Description"], updated["RouteSelectionExpression"]) == ("second", "$request.body.type")
    assert control.get_api(ApiId=api_id)["Description"] == "second"
    assert [api["ApiId"] for api in control.get_apis()["Items"]] == [api_id]

    assert control.delete_api(ApiId=api_id)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(control.exceptions.NotFoundException):
        control.get_api(ApiId=api_id)


def test_routes_integrations_and_route_responses(control):
    api_id = _api(control)["ApiId"]
    integration = _integration(
        control, api_id, RequestParameters={"integration.request.header.connectionId": "context.connectionId"}
    )
    assert integration["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert integration["TimeoutInMillis"] == 29000
    assert integration["RequestParameters"] == {"integration.request.header.connectionId": "context.connectionId"}
    integration_id = integration["IntegrationId"]

    route = control.create_route(
        ApiId=api_id,
        RouteKey="$default",
        Target=f"integrations/{integration_id}",
        RouteResponseSelectionExpression="$default",
    )
    route_id = route["RouteId"]
    response = control.create_route_response(ApiId=api_id, RouteId=route_id, RouteResponseKey="$default")
    assert response["RouteResponseKey"] == "$default"
    assert [r["RouteResponseKey"] for r in control.get_route_responses(ApiId=api_id, RouteId=route_id)["Items"]] == [
        "$default"
    ]

    moved = control.update_integration(
        ApiId=api_id, IntegrationId=integration_id, IntegrationUri="http://example.com/x"
    )
    assert moved["IntegrationUri"] == "http://example.com/x"
    assert (
        control.get_integration(ApiId=api_id, IntegrationId=integration_id)["IntegrationUri"] == "http://example.com/x"
    )
    assert control.update_route(ApiId=api_id, RouteId=route_id, RouteKey="chat")["RouteKey"] == "chat"

    with pytest.raises(control.exceptions.ConflictException):
        control.delete_integration(ApiId=api_id, IntegrationId=integration_id)
    control.delete_route(ApiId=api_id, RouteId=route_id)
    control.delete_integration(ApiId=api_id, IntegrationId=integration_id)
    assert control.get_routes(ApiId=api_id)["Items"] == []
    assert control.get_integrations(ApiId=api_id)["Items"] == []


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (lambda c, a: c.get_route(ApiId=a, RouteId="nope"), "NotFoundException"),
        (lambda c, a: c.get_api(ApiId="nope"), "NotFoundException"),
        (lambda c, a: c.create_route(ApiId=a, RouteKey="$default", Target="integrations/nope"), "BadRequestException"),
        (lambda c, a: _integration(c, a, TimeoutInMillis=30000), "BadRequestException"),
        (lambda c, a: _integration(c, a, uri="not a url"), "BadRequestException"),
        (lambda c, a: c.create_integration(ApiId=a, IntegrationType="AWS_PROXY"), "BadRequestException"),
        (lambda c, a: c.create_stage(ApiId=a, StageName="$default"), "BadRequestException"),
        (lambda c, a: c.create_deployment(ApiId=a), "BadRequestException"),
        (lambda c, a: c.create_deployment(ApiId=a, StageName="nope"), "NotFoundException"),
        (lambda c, a: c.update_api(ApiId=a, ApiKeySelectionExpression="$request.body.key"), "BadRequestException"),
        (
            lambda c, a: c.create_api(Name="x", ProtocolType="HTTP", RouteSelectionExpression="$request.method"),
            "BadRequestException",
        ),
        (
            lambda c, a: c.create_route(ApiId=a, RouteKey="same") and c.create_route(ApiId=a, RouteKey="same"),
            "ConflictException",
        ),
        (
            lambda c, a: c.create_stage(ApiId=a, StageName="s") and c.create_stage(ApiId=a, StageName="s"),
            "ConflictException",
        ),
    ],
)
def test_errors_have_the_modelled_codes(control, operation, expected):
    api_id = _api(control)["ApiId"]
    with pytest.raises(control.exceptions.ClientError) as refused:
        operation(control, api_id)
    assert refused.value.response["Error"]["Code"] == expected
    assert refused.value.response["Error"]["Message"]


def test_a_deployment_needs_every_route_to_have_an_integration(control):
    api_id = _api(control)["ApiId"]
    control.create_route(ApiId=api_id, RouteKey="$default")
    with pytest.raises(control.exceptions.BadRequestException):
        control.create_deployment(ApiId=api_id)


def test_stages_and_deployments(control, integration):
    api_id = deploy_websocket_api(control, integration.base_url)
    stage = control.get_stage(ApiId=api_id, StageName="production")
    [deployment] = control.get_deployments(ApiId=api_id)["Items"]
    assert stage["DeploymentId"] == deployment["DeploymentId"]
    assert deployment["DeploymentStatus"] == "DEPLOYED"

    second = control.create_deployment(ApiId=api_id, Description="by hand")
    assert control.get_deployment(ApiId=api_id, DeploymentId=second["DeploymentId"])["Description"] == "by hand"
    # Without a stage name a deployment is made but not live anywhere.
    assert control.get_stage(ApiId=api_id, StageName="production")["DeploymentId"] == deployment["DeploymentId"]
    updated = control.update_stage(
        ApiId=api_id, StageName="production", DeploymentId=second["DeploymentId"], Description="moved"
    )
    assert (updated["DeploymentId"], updated["Description"]) == (second["DeploymentId"], "moved")
    with pytest.raises(control.exceptions.BadRequestException):
        control.delete_deployment(ApiId=api_id, DeploymentId=second["DeploymentId"])
    control.delete_deployment(ApiId=api_id, DeploymentId=deployment["DeploymentId"])
    assert [s["StageName"] for s in control.get_stages(ApiId=api_id)["Items"]] == ["production"]


def test_list_operations_paginate(integration):
    with start_gateway(max_page_size=2) as gateway:
        control = control_client(gateway)
        api_id = deploy_websocket_api(
            control, integration.base_url, extra_routes=[("a", "/ws/a"), ("b", "/ws/b"), ("c", "/ws/c")]
        )
        first_page = control.get_routes(ApiId=api_id)
        assert len(first_page["Items"]) == 2
        assert first_page["NextToken"]
        routes = [
            route["RouteKey"]
            for page in control.get_paginator("get_routes").paginate(ApiId=api_id)
            for route in page["Items"]
        ]
        assert sorted(routes) == ["$connect", "$default", "$disconnect", "a", "b", "c"]
        with pytest.raises(control.exceptions.BadRequestException):
            control.get_routes(ApiId=api_id, NextToken="garbage")


def test_unsigned_requests_are_refused(gateway):
    async def unsigned():
        async with aiohttp.ClientSession() as session, session.get(gateway.url + "/v2/apis") as response:
            return response.status, response.headers.get("x-amzn-ErrorType")

    assert run(unsigned()) == (403, "MissingAuthenticationTokenException")


def test_bad_json_is_a_bad_request_and_unknown_operations_are_not_found(gateway, control):
    api_id = _api(control)["ApiId"]
    signed = {"Authorization": "AWS4-HMAC-SHA256 Credential=x/20240101/eu-west-1/apigateway/aws4_request, Signature=x"}

    async def calls():
        async with aiohttp.ClientSession(headers=signed) as session:
            async with session.post(f"{gateway.url}/v2/apis/{api_id}/routes", data=b"{not json") as bad:
                first = (bad.status, bad.headers.get("x-amzn-ErrorType"))
            async with session.get(f"{gateway.url}/v2/vpclinks") as unknown:
                second = (unknown.status, unknown.headers.get("x-amzn-ErrorType"))
        return first, second

    assert run(calls()) == ((400, "BadRequestException"), (404, "NotFoundException"))
    assert control.get_routes(ApiId=api_id)["Items"] == []


def test_custom_domain_mapping_and_route53_alias(gateway, control, integration):
    api_id = deploy_websocket_api(control, integration.base_url)
    domain = control.create_domain_name(
        DomainName="ws.example.com",
        DomainNameConfigurations=[
            {
                "CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
                "EndpointType": "REGIONAL",
                "SecurityPolicy": "TLS_1_2",
            }
        ],
    )
    [configuration] = domain["DomainNameConfigurations"]
    assert configuration["ApiGatewayDomainName"].endswith(".execute-api.eu-west-1.amazonaws.com")
    assert configuration["HostedZoneId"].startswith("Z")
    assert configuration["DomainNameStatus"] == "AVAILABLE"
    with pytest.raises(control.exceptions.ConflictException):
        control.create_domain_name(
            DomainName="ws.example.com",
            DomainNameConfigurations=[{"CertificateArn": "arn:aws:acm:eu-west-1:1:certificate/x"}],
        )

    mapping = control.create_api_mapping(DomainName="ws.example.com", ApiId=api_id, Stage="production")
    assert control.get_api_mappings(DomainName="ws.example.com")["Items"] == [
        {"ApiId": api_id, "ApiMappingId": mapping["ApiMappingId"], "Stage": "production"}
    ]
    with pytest.raises(control.exceptions.ConflictException):
        control.create_api_mapping(DomainName="ws.example.com", ApiId=api_id, Stage="production")
    with pytest.raises(control.exceptions.BadRequestException):
        control.create_api_mapping(DomainName="ws.example.com", ApiId=api_id, Stage="nope", ApiMappingKey="v2")

    route53 = boto3.client(
        "route53", endpoint_url=gateway.url, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )

    def alias(zone):
        return {
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": "ws.example.com",
                        "Type": "A",
                        "AliasTarget": {
                            "HostedZoneId": zone,
                            "DNSName": configuration["ApiGatewayDomainName"],
                            "EvaluateTargetHealth": False,
                        },
                    },
                }
            ]
        }

    # The alias must name API Gateway's zone, not the user's own.
    with pytest.raises(route53.exceptions.ClientError) as refused:
        route53.change_resource_record_sets(HostedZoneId="ZUSERZONE", ChangeBatch=alias("ZUSERZONE"))
    assert refused.value.response["Error"]["Code"] == "InvalidChangeBatch"
    change = route53.change_resource_record_sets(
        HostedZoneId="ZUSERZONE", ChangeBatch=alias(configuration["HostedZoneId"])
    )
    assert change["ChangeInfo"]["Status"] == "INSYNC"
    [record] = route53.list_resource_record_sets(HostedZoneId="ZUSERZONE")["ResourceRecordSets"]
    assert record["Name"] == "ws.example.com."
    assert record["AliasTarget"]["DNSName"] == configuration["ApiGatewayDomainName"] + "."

    control.delete_api_mapping(DomainName="ws.example.com", ApiMappingId=mapping["ApiMappingId"])
    control.delete_domain_name(DomainName="ws.example.com")
    with pytest.raises(control.exceptions.NotFoundException):
        control.get_domain_name(DomainName="ws.example.com")


def test_custom_domain_host_serves_the_mapped_stage(gateway, control, integration):
    api_id = deploy_websocket_api(control, integration.base_url)
    control.create_domain_name(
        DomainName="ws.example.com",
        DomainNameConfigurations=[{"CertificateArn": "arn:aws:acm:eu-west-1:1:certificate/x"}],
    )
    control.create_api_mapping(DomainName="ws.example.com", ApiId=api_id, Stage="production")

    async def scenario():
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(gateway.url + "/", headers={"Host": "ws.example.com"}) as websocket,
        ):
            await websocket.close()

    run(scenario())
    assert len(integration.requests_to("/ws/connect")) == 1


def test_state_file_keeps_apis_across_restarts(tmp_path, integration):
    state_file = tmp_path / "gateway.json"
    with start_gateway(state_file=state_file) as gateway:
        api_id = deploy_websocket_api(control_client(gateway), integration.base_url)
    assert state_file.exists()
    with start_gateway(state_file=state_file) as gateway:
        control = control_client(gateway)
        assert control.get_api(ApiId=api_id)["ApiId"] == api_id
        connect_and_close(gateway)
    assert len(integration.requests_to("/ws/connect")) == 1


def test_a_damaged_state_file_is_ignored(tmp_path):
    state_file = tmp_path / "gateway.json"
    state_file.write_text("{not json")
    with start_gateway(state_file=state_file) as gateway:
        assert control_client(gateway).get_apis()["Items"] == []


@pytest.mark.parametrize(
    "source", ["route.request.cookie.sessionid", "$request.header.x", "stageVariables", "no quotes"]
)
def test_a_mapping_from_an_undocumented_source_is_refused(control, source):
    api_id = control.create_api(Name="a", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.a")["ApiId"]
    with pytest.raises(control.exceptions.BadRequestException, match="Invalid mapping expression"):
        control.create_integration(
            ApiId=api_id,
            IntegrationType="HTTP_PROXY",
            IntegrationMethod="POST",
            IntegrationUri="http://127.0.0.1:1/",
            RequestParameters={"integration.request.header.X": source},
        )


def test_route_request_parameters_are_for_connect_only(control):
    api_id = control.create_api(Name="a", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.a")["ApiId"]
    declared = {"route.request.querystring.token": {"Required": False}}
    assert control.create_route(ApiId=api_id, RouteKey="$connect", RequestParameters=declared)["RequestParameters"]
    with pytest.raises(control.exceptions.BadRequestException, match=r"only for the \$connect route"):
        control.create_route(ApiId=api_id, RouteKey="$default", RequestParameters=declared)

"""The management API through an unmodified boto3 apigatewaymanagementapi client."""

import asyncio
import datetime

import aiohttp
import pytest
from botocore.exceptions import ClientError

from localgateway.faults import FaultRule

from .support import (
    connect_and_close,
    control_client,
    deploy_websocket_api,
    management_client,
    run,
    start_gateway,
    talk,
)

# The gateway checks that a request is signed for execute-api, not the signature itself.
ANY_SIGNATURE = "AWS4-HMAC-SHA256 Credential=local/20240101/eu-west-1/execute-api/aws4_request, Signature=0"


def _connection_id(integration):
    """The id of the connection opened last."""
    return integration.requests_to("/ws/connect")[-1].headers["connectionId"]


def test_post_get_and_delete_a_connection(gateway, integration, api_id):
    client = management_client(gateway)

    async def conversation(websocket):
        connection_id = _connection_id(integration)
        await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=b'{"hello": "world"}')
        pushed = await websocket.receive(timeout=10)
        described = await asyncio.to_thread(client.get_connection, ConnectionId=connection_id)
        deleted = await asyncio.to_thread(client.delete_connection, ConnectionId=connection_id)
        closed = await websocket.receive(timeout=10)
        return connection_id, pushed, described, deleted, closed

    browser = {"User-Agent": "test-browser/1.0"}
    connection_id, pushed, described, deleted, closed = talk(gateway, conversation, headers=browser)
    assert pushed.type == aiohttp.WSMsgType.TEXT
    assert pushed.data == '{"hello": "world"}'
    assert isinstance(described["ConnectedAt"], datetime.datetime)
    assert described["LastActiveAt"] >= described["ConnectedAt"]
    assert described["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "test-browser/1.0"}
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert closed.type == aiohttp.WSMsgType.CLOSE
    [disconnect] = integration.wait_for("/ws/disconnect")
    assert disconnect.headers["connectionId"] == connection_id


def test_unknown_and_closed_connections_raise_gone_exception(gateway, integration, api_id):
    client = management_client(gateway)
    connect_and_close(gateway)
    closed_id = _connection_id(integration)
    integration.wait_for("/ws/disconnect")
    for connection_id in (closed_id, "AAAAAAAAAAAAAAA=", "not-an-id"):
        with pytest.raises(client.exceptions.GoneException):
            client.post_to_connection(ConnectionId=connection_id, Data=b"late")
        with pytest.raises(client.exceptions.GoneException):
            client.get_connection(ConnectionId=connection_id)
        with pytest.raises(client.exceptions.GoneException):
            client.delete_connection(ConnectionId=connection_id)


def test_posts_over_128_kib_are_refused_with_413_and_the_socket_stays(gateway, integration, api_id):
    client = management_client(gateway)

    async def conversation(websocket):
        connection_id = _connection_id(integration)
        with pytest.raises(client.exceptions.PayloadTooLargeException):
            await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=b"x" * 131073)
        await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=b"y" * 131072)
        return await websocket.receive(timeout=10)

    received = talk(gateway, conversation)
    assert received.data == "y" * 131072


async def _post_in_two_writes(port, path, first, second):
    """POST ``first + second`` as one body whose halves reach the gateway separately."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(first) + len(second)}\r\n"
            f"Authorization: {ANY_SIGNATURE}\r\nConnection: close\r\n\r\n"
        ).encode()
        + first
    )
    await writer.drain()
    # Long enough for the gateway to start reading the body before the rest is sent.
    await asyncio.sleep(0.3)
    writer.write(second)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


def test_a_post_whose_body_arrives_in_two_writes_is_sent_whole(gateway, integration, api_id):
    async def conversation(websocket):
        path = f"/production/@connections/{_connection_id(integration)}"
        status = await _post_in_two_writes(gateway.port, path, b"a" * 1000, b"b" * 1000)
        return status, await websocket.receive(timeout=10)

    status, received = talk(gateway, conversation)
    assert status == 200
    assert received.data == "a" * 1000 + "b" * 1000


def test_an_empty_post_is_a_bad_request(gateway, integration, api_id):
    client = management_client(gateway)

    async def conversation(websocket):
        with pytest.raises(ClientError) as refused:
            await asyncio.to_thread(client.post_to_connection, ConnectionId=_connection_id(integration), Data=b"")
        return refused.value.response

    response = talk(gateway, conversation)
    assert response["Error"]["Code"] == "BadRequestException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_connection_is_only_reachable_through_its_own_stage(gateway, integration, api_id, control):
    control.create_stage(ApiId=api_id, StageName="staging")
    control.create_deployment(ApiId=api_id, StageName="staging")
    staging = management_client(gateway, stage="staging")

    async def conversation(websocket):
        with pytest.raises(staging.exceptions.GoneException):
            await asyncio.to_thread(staging.post_to_connection, ConnectionId=_connection_id(integration), Data=b"x")

    talk(gateway, conversation)


def test_unknown_stage_and_unsigned_requests_are_forbidden(gateway, integration, api_id):
    nowhere = management_client(gateway, stage="nowhere")
    with pytest.raises(nowhere.exceptions.ForbiddenException):
        nowhere.post_to_connection(ConnectionId="AAAAAAAAAAAAAAA=", Data=b"x")

    async def unsigned():
        async with aiohttp.ClientSession() as session:
            url = f"{gateway.management_url('production')}/@connections/AAAAAAAAAAAAAAA%3D"
            async with session.post(url, data=b"x") as response:
                return response.status, response.headers.get("x-amzn-ErrorType")

    assert run(unsigned()) == (403, "ForbiddenException")


def test_a_custom_domain_mapped_to_an_undeployed_stage_is_forbidden(gateway, control, api_id):
    control.create_stage(ApiId=api_id, StageName="staging")
    control.create_domain_name(
        DomainName="ws.example.com",
        DomainNameConfigurations=[{"CertificateArn": "arn:aws:acm:eu-west-1:1:certificate/x"}],
    )
    control.create_api_mapping(DomainName="ws.example.com", ApiId=api_id, Stage="staging")

    async def scenario():
        headers = {"Host": "ws.example.com", "Authorization": ANY_SIGNATURE}
        async with aiohttp.ClientSession() as session:
            url = f"{gateway.url}/@connections/AAAAAAAAAAAAAAA%3D"
            async with session.post(url, data=b"x", headers=headers) as response:
                management = response.status, response.headers.get("x-amzn-ErrorType")
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(gateway.url + "/", headers={"Host": "ws.example.com"})
        return management, refused.value.status

    # As for /<stage> of a stage that is not deployed: nothing is served there yet.
    assert run(scenario()) == ((403, "ForbiddenException"), 403)


def test_injected_throttling_is_retried_by_boto3(gateway, integration, api_id):
    client = management_client(gateway)
    gateway.call(
        gateway.gateway.faults.add, FaultRule(plane="management", operation="PostToConnection", status=429, times=2)
    )

    async def conversation(websocket):
        connection_id = _connection_id(integration)
        answer = await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=b"eventually")
        return answer, await websocket.receive(timeout=10)

    answer, received = talk(gateway, conversation)
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    assert received.data == "eventually"


def test_fault_endpoint_is_off_by_default_and_works_when_enabled(integration):
    async def post_rule(gateway):
        async with aiohttp.ClientSession() as session:
            rule = {"plane": "management", "status": 500, "times": 1}
            async with session.post(gateway.url + "/@local/faults", json=rule) as response:
                return response.status

    with start_gateway() as gateway:
        assert run(post_rule(gateway)) == 403
    with start_gateway(enable_fault_endpoint=True) as gateway:
        deploy_websocket_api(control_client(gateway), integration.base_url)
        assert run(post_rule(gateway)) == 201
        client = management_client(gateway)
        # botocore retries 500s too; the single injected failure is absorbed by one retry.
        with pytest.raises(client.exceptions.GoneException) as gone:
            client.get_connection(ConnectionId="AAAAAAAAAAAAAAA=")
        assert gone.value.response["ResponseMetadata"]["RetryAttempts"] == 1


def test_fault_endpoint_rejects_nonsense(integration):
    async def post(gateway, body):
        async with (
            aiohttp.ClientSession() as session,
            session.post(gateway.url + "/@local/faults", data=body) as response,
        ):
            return response.status

    with start_gateway(enable_fault_endpoint=True) as gateway:
        assert run(post(gateway, b'{"plane": "elsewhere"}')) == 400
        assert run(post(gateway, b'{"plane": "management", "status": 200}')) == 400
        assert run(post(gateway, b"not json")) == 400
        assert run(post(gateway, b'["a list"]')) == 400
        assert gateway.call(gateway.gateway.faults.describe) == []

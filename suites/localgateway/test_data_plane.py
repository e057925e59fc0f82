"""The data plane: what the integration receives, route selection, answers, limits."""

import asyncio
import contextlib
import json
import re
from urllib.parse import parse_qsl

import aiohttp
import pytest

from localgateway import data_plane

from .support import (
    RawWebSocket,
    add_route,
    ask,
    connect_and_close,
    control_client,
    deploy_websocket_api,
    exchange,
    receive_text,
    run,
    start_gateway,
    talk,
)

CONNECTION_ID = re.compile(r"^[A-Za-z0-9]{15}=$")


def test_connect_carries_the_headers_aws_adds_and_nothing_it_was_not_mapped(gateway, integration, api_id):
    """AWS documents no pass-through to HTTP integrations: the client's query string,
    cookies, Origin and handshake headers reach Django only when mapped."""
    browser = {"Cookie": "sessionid=s3cret", "Origin": "http://127.0.0.1:8000"}
    connect_and_close(gateway, "?channel=room-1&ws_token=abc", headers=browser)
    [connect] = integration.requests_to("/ws/connect")
    headers = connect.headers
    assert connect.method == "POST"
    assert connect.query_string == ""
    assert connect.body == ""
    assert headers["User-Agent"] == f"AmazonAPIGateway_{api_id}"
    assert headers["X-Amzn-Apigateway-Api-Id"] == api_id
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers["X-Amzn-Trace-Id"])
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Port"] == str(gateway.port)
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["Host"] == f"127.0.0.1:{integration.port}"
    assert CONNECTION_ID.match(headers["connectionId"])
    for unmapped in ("Cookie", "Origin", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions"):
        assert unmapped not in headers
    assert headers["Content-Length"] == "0"


CONNECT_MAPPINGS = {
    "integration.request.header.connectionId": "context.connectionId",
    "integration.request.querystring.channel": "route.request.querystring.channel",
    "integration.request.querystring.ws_token": "route.request.querystring.ws_token",
    "integration.request.header.Cookie": "route.request.header.Cookie",
    "integration.request.header.Origin": "route.request.header.origin",
    "integration.request.header.Sec-WebSocket-Key": "route.request.header.Sec-WebSocket-Key",
    "integration.request.header.X-Secret": "stageVariables.secret",
    "integration.request.header.X-Static": "'fixed value'",
}
DECLARED = {
    "route.request.querystring.channel": {"Required": False},
    "route.request.querystring.ws_token": {"Required": False},
    "route.request.header.Cookie": {"Required": False},
    "route.request.header.Origin": {"Required": False},
    # Sec-WebSocket-Key is mapped but not declared: it must not reach the integration.
}


@pytest.fixture
def mapped_api(control, integration):
    """A deployed API whose $connect declares and maps the client's values, as the
    provisioning code does, plus a stage variable and a static value."""
    api_id = control.create_api(Name="mapped", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.a")[
        "ApiId"
    ]
    add_route(control, api_id, "$connect", f"{integration.base_url}/ws/connect", two_way=False)
    connect = next(r for r in control.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "$connect")
    integration_id = connect["Target"].split("/")[1]
    control.update_integration(ApiId=api_id, IntegrationId=integration_id, RequestParameters=CONNECT_MAPPINGS)
    control.update_route(ApiId=api_id, RouteId=connect["RouteId"], RequestParameters=DECLARED)
    control.create_stage(ApiId=api_id, StageName="production", StageVariables={"secret": "first"})
    control.create_deployment(ApiId=api_id, StageName="production")
    return api_id


def test_connect_carries_exactly_what_the_integration_maps_from_declared_parameters(gateway, integration, mapped_api):
    connect_and_close(
        gateway,
        "?channel=room-1&ws_token=abc&other=x",
        headers={"Cookie": "sessionid=s3cret", "Origin": "http://127.0.0.1:8000", "X-Unmapped": "no"},
    )
    [connect] = integration.requests_to("/ws/connect")
    assert dict(parse_qsl(connect.query_string)) == {"channel": "room-1", "ws_token": "abc"}
    assert connect.headers["Cookie"] == "sessionid=s3cret"
    assert connect.headers["Origin"] == "http://127.0.0.1:8000"
    assert connect.headers["X-Secret"] == "first"
    assert connect.headers["X-Static"] == "fixed value"
    assert "Sec-WebSocket-Key" not in connect.headers  # mapped, but the route does not declare it
    assert "X-Unmapped" not in connect.headers


def test_a_stage_variable_change_applies_at_once_without_a_deployment(gateway, control, integration, mapped_api):
    control.update_stage(ApiId=mapped_api, StageName="production", StageVariables={"secret": "second"})
    connect_and_close(gateway, "?channel=room-1")
    [connect] = integration.requests_to("/ws/connect")
    assert connect.headers["X-Secret"] == "second"


def test_a_missing_required_route_parameter_refuses_the_handshake(gateway, control, integration, mapped_api):
    connect = next(r for r in control.get_routes(ApiId=mapped_api)["Items"] if r["RouteKey"] == "$connect")
    control.update_route(
        ApiId=mapped_api,
        RouteId=connect["RouteId"],
        RequestParameters={**DECLARED, "route.request.querystring.ws_token": {"Required": True}},
    )
    control.create_deployment(ApiId=mapped_api, StageName="production")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        connect_and_close(gateway, "?channel=room-1")
    assert refused.value.status == 400
    assert integration.requests_to("/ws/connect") == []
    connect_and_close(gateway, "?channel=room-1&ws_token=abc")
    assert len(integration.requests_to("/ws/connect")) == 1


def test_messages_and_disconnect_carry_the_connection_id_and_raw_body(gateway, integration, api_id):
    text = '{"action": "nothing-special",\r\n "n": 1}'
    assert exchange(gateway, text, query="?channel=x") == [f"default got {text}"]
    connection_id = integration.requests_to("/ws/connect")[0].headers["connectionId"]
    [message] = integration.requests_to("/ws/default")
    [disconnect] = integration.wait_for("/ws/disconnect")
    assert message.body == text
    assert message.query_string == ""
    for request in (message, disconnect):
        assert request.headers["connectionId"] == connection_id
        assert request.headers["User-Agent"] == f"AmazonAPIGateway_{api_id}"
        assert request.headers["X-Amzn-Apigateway-Api-Id"] == api_id
        assert "Cookie" not in request.headers
        assert "Sec-WebSocket-Key" not in request.headers
    assert disconnect.body == ""


def test_wait_until_idle_returns_once_the_disconnect_and_the_messages_of_closed_sockets_are_answered(
    gateway, integration, api_id
):
    integration.respond("/ws/default", delay=0.5)
    integration.respond("/ws/disconnect", delay=0.5)

    async def send_and_stay_open(websocket):
        await websocket.send_str("on its way when the socket closes")
        # An open socket keeps the gateway busy.
        with pytest.raises(TimeoutError):
            await asyncio.to_thread(gateway.wait_until_idle, 0.1)

    talk(gateway, send_and_stay_open)
    gateway.wait_until_idle()
    assert sorted(integration.answered) == ["/ws/connect", "/ws/default", "/ws/disconnect"]


@pytest.mark.parametrize("status", [401, 403, 429, 500])
def test_a_refused_connect_fails_the_handshake_with_that_status(gateway, integration, api_id, status):
    integration.respond("/ws/connect", status=status, body="nope")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        connect_and_close(gateway)
    assert refused.value.status == status
    assert gateway.call(lambda: len(gateway.gateway.connections)) == 0

    # An accepted connection, opened and closed after the refused one: once its
    # $disconnect has arrived, a $disconnect for the refused one would have too.
    integration.respond("/ws/connect", status=200)
    connect_and_close(gateway)
    integration.wait_for("/ws/disconnect")
    assert len(integration.requests_to("/ws/connect")) == 2
    assert len(integration.requests_to("/ws/disconnect")) == 1


def test_route_selection_by_action_with_fallbacks_to_default(gateway, integration, api_id):
    messages = [
        ('{"action": "chat", "text": "hi"}', "chat"),
        ('{"action": "unknown"}', "default"),
        ('{"no_action": true}', "default"),
        ("plain text, not JSON", "default"),
        ('{"action": "$connect"}', "default"),
        ("[1, 2, 3]", "default"),
    ]
    replies = exchange(gateway, *(text for text, _ in messages))
    assert replies == [f"{route} got {text}" for text, route in messages]


def test_a_message_too_deeply_nested_to_parse_goes_to_default(gateway, integration, api_id):
    # Under the 32 KB frame limit, but deeper than Python's JSON parser can recurse.
    nested = "[" * 30000
    first, second = exchange(gateway, nested, '{"action": "chat"}')
    assert first == f"default got {nested}"
    assert second == 'chat got {"action": "chat"}'


def test_an_unexpected_failure_while_routing_answers_internal_server_error(gateway, integration, api_id, monkeypatch):
    select_route_key = data_plane.select_route_key

    def failing_for_boom(expression, text):
        if text == "boom":
            raise RuntimeError("a bug in route selection")
        return select_route_key(expression, text)

    monkeypatch.setattr(data_plane, "select_route_key", failing_for_boom)
    answer, reply = exchange(gateway, "boom", "fine")
    frame = json.loads(answer)
    assert frame["message"] == "Internal server error"
    assert frame["connectionId"] == integration.requests_to("/ws/connect")[0].headers["connectionId"]
    assert CONNECTION_ID.match(frame["requestId"])
    assert reply == "default got fine"


def test_template_selection_expression(integration):
    with start_gateway() as gateway:
        control = control_client(gateway)
        integration.respond("/ws/join", body="joined")
        integration.respond("/ws/default", body="default")
        deploy_websocket_api(
            control,
            integration.base_url,
            selection_expression="${request.body.service}/${request.body.action}",
            extra_routes=[("chat/join", "/ws/join")],
        )
        # The second message selects "chat/", which matches nothing.
        first, second = exchange(gateway, '{"service": "chat", "action": "join"}', '{"service": "chat"}')
    assert first == "joined"
    assert second == "default"
    assert len(integration.requests_to("/ws/join")) == 1
    assert len(integration.requests_to("/ws/default")) == 1


def test_without_a_default_route_an_unmatched_message_gets_the_forbidden_frame(gateway, integration, control):
    deploy_websocket_api(control, integration.base_url, with_default=False, extra_routes=[("chat", "/ws/chat")])
    [answer] = exchange(gateway, '{"action": "elsewhere"}')
    frame = json.loads(answer)
    connection_id = integration.requests_to("/ws/connect")[0].headers["connectionId"]
    assert frame["message"] == "Forbidden"
    assert frame["connectionId"] == connection_id
    assert CONNECTION_ID.match(frame["requestId"])
    assert integration.requests_to("/ws/chat") == []


def test_a_one_way_route_sends_nothing_back(gateway, integration, control, api_id):
    integration.respond("/ws/quiet", body="should not be seen")
    add_route(control, api_id, "quiet", integration.base_url + "/ws/quiet", two_way=False)
    control.create_deployment(ApiId=api_id, StageName="production")

    async def conversation(websocket):
        await websocket.send_str('{"action": "quiet"}')
        await websocket.send_str('{"action": "chat"}')
        # Messages are handled concurrently; wait for both integration calls.
        reply = await receive_text(websocket)
        await asyncio.to_thread(integration.wait_for, "/ws/quiet")
        return reply

    assert talk(gateway, conversation) == 'chat got {"action": "chat"}'


def test_only_deployed_routes_are_live_and_a_new_deployment_applies_to_open_sockets(
    gateway, integration, control, api_id
):
    integration.respond("/ws/late", body="late route")
    add_route(control, api_id, "late", integration.base_url + "/ws/late")

    async def conversation(websocket):
        before = await ask(websocket, '{"action": "late"}')
        await asyncio.to_thread(control.create_deployment, ApiId=api_id, StageName="production")
        after = await ask(websocket, '{"action": "late"}')
        return before, after

    before, after = talk(gateway, conversation)
    assert before == 'default got {"action": "late"}'
    assert after == "late route"


def test_auto_deploy_stage_makes_changes_live_at_once(gateway, integration, control):
    api_id = control.create_api(Name="auto", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")[
        "ApiId"
    ]
    control.create_stage(ApiId=api_id, StageName="production", AutoDeploy=True)
    integration.respond("/ws/default", body="auto")
    add_route(control, api_id, "$default", integration.base_url + "/ws/default")
    deployments = control.get_deployments(ApiId=api_id)["Items"]
    assert deployments and all(d["AutoDeployed"] for d in deployments)
    assert exchange(gateway, "hello") == ["auto"]


def test_unknown_stage_and_extra_path_are_forbidden(gateway, api_id):
    async def scenario():
        statuses = []
        async with aiohttp.ClientSession() as session:
            for path in ("/staging", "/production/extra"):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await session.ws_connect(f"{gateway.url}{path}")
                statuses.append(refused.value.status)
            async with session.get(gateway.url + "/production") as plain:
                statuses.append(plain.status)
        return statuses

    assert run(scenario()) == [403, 403, 426]


def test_subprotocol_chosen_by_the_connect_integration(gateway, integration, api_id):
    integration.respond("/ws/connect", headers={"Sec-WebSocket-Protocol": "chat.v2"})

    async def chosen(websocket):
        return websocket.protocol

    assert talk(gateway, chosen, protocols=("chat.v1", "chat.v2")) == "chat.v2"


# -- failing and slow integrations ------------------------------------------------------


def test_slow_or_down_connect_integration_is_refused_while_other_sockets_keep_working(integration):
    with start_gateway() as gateway:
        control = control_client(gateway)
        deploy_websocket_api(control, integration.base_url, timeout_ms=300)
        integration.respond("/ws/default", body="still here")

        async def conversation(healthy):
            integration.respond("/ws/connect", delay=2)
            with pytest.raises(aiohttp.WSServerHandshakeError) as slow:
                async with aiohttp.ClientSession() as session:
                    await session.ws_connect(gateway.websocket_url("production"))
            return slow.value.status, await ask(healthy, "ping")

        slow_status, reply = talk(gateway, conversation)
    assert slow_status == 504
    assert reply == "still here"


def test_unreachable_connect_integration_gives_502():
    with start_gateway() as gateway:
        control = control_client(gateway)
        # Port 9 (discard) is closed on 127.0.0.1: nothing answers there.
        deploy_websocket_api(control, "http://127.0.0.1:9")
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            connect_and_close(gateway)
        assert refused.value.status == 502


def test_failing_message_integration_gives_internal_server_error_frame(integration):
    with start_gateway() as gateway:
        control = control_client(gateway)
        deploy_websocket_api(control, integration.base_url, timeout_ms=300)

        async def conversation(websocket):
            integration.respond("/ws/default", delay=2)
            frame = json.loads(await ask(websocket, "slow one"))
            integration.respond("/ws/default", body="fast again")
            return frame, await ask(websocket, "fast one")

        frame, reply = talk(gateway, conversation)
    assert frame["message"] == "Internal server error"
    assert CONNECTION_ID.match(frame["connectionId"])
    assert reply == "fast again"


def test_two_way_route_passes_an_error_answer_through(gateway, integration, api_id):
    integration.respond("/ws/default", status=400, body='{"error": "bad message"}')
    assert exchange(gateway, "x") == ['{"error": "bad message"}']


# -- limits ---------------------------------------------------------------------------------


def test_idle_timeout_closes_the_socket_and_delivers_disconnect(integration):
    with start_gateway(idle_timeout_seconds=0.5) as gateway:
        deploy_websocket_api(control_client(gateway), integration.base_url)
        message = talk(gateway, lambda websocket: websocket.receive(timeout=10))
        assert message.type == aiohttp.WSMsgType.CLOSE
        assert message.data == 1001
        assert message.extra == "Idle timeout"
        integration.wait_for("/ws/disconnect")


def test_activity_keeps_an_idle_timer_alive_but_not_the_maximum_connection_time(integration):
    # Messages every 50 ms keep a 1 s idle timer from firing; the 2 s lifetime still ends it.
    with start_gateway(idle_timeout_seconds=1.0, max_connection_seconds=2.0) as gateway:
        deploy_websocket_api(control_client(gateway), integration.base_url)
        integration.respond("/ws/default", body="ok")

        async def conversation(websocket):
            replies = 0
            await websocket.send_str("keep busy")
            while True:
                message = await websocket.receive(timeout=10)
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                replies += 1
                await asyncio.sleep(0.05)
                with contextlib.suppress(ConnectionResetError):
                    await websocket.send_str("keep busy")
            return message, replies

        message, replies = talk(gateway, conversation)
        assert message.type == aiohttp.WSMsgType.CLOSE
        assert message.data == 1001
        assert message.extra == "Maximum connection time reached"
        assert replies > 1
        integration.wait_for("/ws/disconnect")


async def _send_a_frame_over_32_kb(raw):
    await raw.send_frame(0x1, b"x" * (32 * 1024 + 1))


async def _send_a_message_over_128_kb_in_32_kb_frames(raw):
    await raw.send_fragmented_text("z" * (128 * 1024 + 1), 32 * 1024)


@pytest.mark.parametrize("send", [_send_a_frame_over_32_kb, _send_a_message_over_128_kb_in_32_kb_frames])
def test_over_the_frame_or_message_limit_closes_with_1009_and_forwards_nothing(gateway, integration, api_id, send):
    async def scenario():
        raw = await RawWebSocket.connect(gateway.port, "/production")
        await send(raw)
        code = await raw.read_close_code()
        await raw.close()
        return code

    assert run(scenario()) == 1009
    integration.wait_for("/ws/disconnect")
    assert integration.requests_to("/ws/default") == []


def test_a_message_of_128_kb_in_32_kb_frames_is_delivered(gateway, integration, api_id):
    text = json.dumps({"action": "chat", "data": "y" * (128 * 1024 - 40)})
    text += " " * (128 * 1024 - len(text))

    async def scenario():
        raw = await RawWebSocket.connect(gateway.port, "/production")
        await raw.send_fragmented_text(text, 32 * 1024)
        opcode, payload = await raw.read_frame()
        await raw.close()
        return opcode, payload

    opcode, payload = run(scenario())
    assert len(text.encode()) == 128 * 1024
    assert opcode == 0x1
    assert payload.decode() == f"chat got {text}"
    [message] = integration.requests_to("/ws/chat")
    assert len(message.body) == 128 * 1024


def test_binary_frames_close_with_1003(gateway, integration, api_id):
    async def conversation(websocket):
        await websocket.send_bytes(b"\x00\x01")
        return await websocket.receive(timeout=10)

    message = talk(gateway, conversation)
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert message.data == 1003
    integration.wait_for("/ws/disconnect")


@pytest.mark.parametrize(
    "delete",
    [
        lambda control, api_id: control.delete_stage(ApiId=api_id, StageName="production"),
        lambda control, api_id: control.delete_api(ApiId=api_id),
    ],
    ids=["DeleteStage", "DeleteApi"],
)
def test_deleting_the_stage_or_the_api_closes_sockets_and_delivers_disconnect(
    gateway, integration, control, api_id, delete
):
    async def conversation(websocket):
        await asyncio.to_thread(delete, control, api_id)
        return await websocket.receive(timeout=10)

    message = talk(gateway, conversation)
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert message.data == 1001
    [disconnect] = integration.wait_for("/ws/disconnect")
    assert disconnect.headers["connectionId"] == integration.requests_to("/ws/connect")[0].headers["connectionId"]


def test_a_connection_is_closed_once_with_the_first_code_asked_for(gateway, integration, api_id):
    async def conversation(websocket):
        connection_id = integration.requests_to("/ws/connect")[0].headers["connectionId"]

        def close_twice():
            running = gateway.gateway
            connection = running.connections.get(connection_id)
            first = running.close_soon(connection, 4001, "First reason")
            second = running.close_soon(connection, 1000, "Connection deleted")
            return first is second is connection.close_task

        one_close = await asyncio.to_thread(gateway.call, close_twice)
        return one_close, await websocket.receive(timeout=10)

    one_close, message = talk(gateway, conversation)
    assert one_close
    assert (message.type, message.data, message.extra) == (aiohttp.WSMsgType.CLOSE, 4001, "First reason")
    integration.wait_for("/ws/disconnect")


def test_gateway_shutdown_closes_sockets_and_delivers_disconnect(integration):
    gateway = start_gateway()
    deploy_websocket_api(control_client(gateway), integration.base_url)

    async def conversation(websocket):
        await asyncio.to_thread(gateway.stop)
        return await websocket.receive(timeout=10)

    message = talk(gateway, conversation)
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert message.data == 1001
    integration.wait_for("/ws/disconnect")
    gateway.wait_until_idle()  # a stopped gateway is idle

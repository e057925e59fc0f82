"""Route selection expressions, evaluated as AWS documents them, and body mappings."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localgateway.integration import EventContext, build_request
from localgateway.route_selection import select_route_key
from localgateway.state import DeployedIntegration


@pytest.mark.parametrize(
    ("expression", "message", "expected"),
    [
        ("$request.body.action", '{"action": "chat"}', "chat"),
        ("$request.body.action", '{"other": 1}', ""),
        ("$request.body.action", '{"action": 7}', "7"),
        ("$request.body.action", '{"action": true}', "true"),
        ("$request.body.action", '{"action": null}', ""),
        ("$request.body.action", '{"action": {"a": 1}}', '{"a":1}'),
        ("$request.body.action", "[1, 2]", ""),
        ("$request.body.action", "not json", None),
        ("$request.body.action", "", None),
        ("$request.body.meta.kind", '{"meta": {"kind": "ping"}}', "ping"),
        ("$request.body.items[1]", '{"items": ["a", "b"]}', "b"),
        ("$request.body['odd key']", '{"odd key": "x"}', "x"),
        ("${request.body.service}/${request.body.action}", '{"service": "chat", "action": "join"}', "chat/join"),
        ("${request.body.service}/${request.body.action}", '{"service": "chat"}', "chat/"),
        ("${request.body.service}/${request.body.action}", "nope", None),
        ("\\$default", "anything", "$default"),
        ("$request.header.x-route", '{"action": "chat"}', ""),
        # Deeper than Python's recursion limit: json.loads raises RecursionError.
        pytest.param("$request.body.action", "[" * 30000, None, id="too-deeply-nested"),
    ],
)
def test_expressions(expression, message, expected):
    assert select_route_key(expression, message) == expected


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=10)), st.text(max_size=10))
def test_a_top_level_string_action_is_selected_exactly(body, action):
    body = {**body, "action": action}
    assert select_route_key("$request.body.action", json.dumps(body)) == action


@given(st.text(max_size=50))
def test_any_text_gives_a_string_or_none_and_never_raises(text):
    result = select_route_key("${request.body.a}:${request.body.b[0]}", text)
    assert result is None or isinstance(result, str)


def test_a_body_mapping_skips_a_message_too_deeply_nested_to_parse():
    integration = DeployedIntegration(
        integration_id="abc123",
        integration_type="HTTP_PROXY",
        method="POST",
        uri="http://127.0.0.1:9/ws/default",
        request_parameters={"integration.request.header.action": "route.request.body.action"},
        timeout_ms=1000,
    )
    context = EventContext(
        api_id="api",
        stage="production",
        connection_id="AAAAAAAAAAAAAAA=",
        request_id="BBBBBBBBBBBBBBB=",
        route_key="$default",
        event_type="MESSAGE",
        source_ip="127.0.0.1",
        user_agent="test",
        domain_name="127.0.0.1",
        forwarded_port="8001",
        connected_at_ms=0,
    )
    _, headers = build_request(integration, context, body=b"[" * 30000)
    assert "action" not in headers
    _, headers = build_request(integration, context, body=b'{"action": "chat"}')
    assert headers["action"] == "chat"

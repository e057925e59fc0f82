"""Messages under hostile bodies, handler names and routes.

The bodies: JSON objects naming handlers and actions of every kind (real handlers,
``dispatch``, ``__init__``, ``connect``, ``setup``, ``_private``, unicode, names of
thousands of characters, values that are not strings, duplicated keys), and bodies
that are not JSON objects at all (arrays, numbers, strings, invalid UTF-8, NaN,
nesting past the depth limit or any recursion limit, over the size limit). Each case
states which handler should run, or which refusal should come, from the rules of
``WebSocketView.select_handler``: the view must agree, answer no 5xx, count exactly
the messages it accepted and change nothing when it refuses.
"""

import json

import pytest
from django.views import View
from hypothesis import event, given
from hypothesis import strategies as st

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.testing import WebSocketTestClient
from django_aws_api_gateway_websockets.views import WebSocketView
from tests.database_state import changes, database_state

from . import hostile
from .conftest import fuzz_settings
from .hostile import MAX_BODY_SIZE, MAX_MESSAGE_DEPTH, Request
from .views import FUZZ_VIEW_HANDLERS

AREA = "Hostile input"

pytestmark = pytest.mark.urls("tests.reliability.urls")

# Route slugs that are not the lifecycle routes (those are fuzzed elsewhere).
message_routes = st.one_of(
    st.sampled_from(["default", "echo", "quiet", "helper", "heartbeat", "dispatch", "setup", "options", "_private"]),
    st.from_regex(r"[-a-zA-Z0-9_]{1,60}", fullmatch=True),
).filter(lambda route: route not in ("connect", "disconnect"))


def is_internal(name):
    """Never a handler: private names, and every public name of Django's View and of
    WebSocketView (its methods, settings and attributes), and HTTP method names."""
    internals = {n for n in dir(WebSocketView) if not n.startswith("_")} | set(View.http_method_names)
    return name.startswith("_") or (name in internals and name not in ("default", "heartbeat"))


def expected_handler(body, route):
    """The handler that should run for ``body`` on ``route``, or 400 for a body past
    the depth limit: a handler, else default (names that are not allowed handlers,
    internals included, reach default and are never called)."""
    if nesting_depth(body) > MAX_MESSAGE_DEPTH or hostile.holds_hostile_values(body):
        return 400
    name = body["handler"] if "handler" in body else body.get("action", route)
    return name if isinstance(name, str) and name in FUZZ_VIEW_HANDLERS and not is_internal(name) else "default"


def nesting_depth(value):
    """Levels of JSON containers (the message object is level 1)."""
    if isinstance(value, dict):
        return 1 + max((nesting_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((nesting_depth(item) for item in value), default=0)
    return 0


names = hostile.hostile_names(FUZZ_VIEW_HANDLERS)


@st.composite
def object_bodies(draw):
    """A JSON object with (or without) ``handler`` / ``action`` keys, other keys, and
    maybe a deeply nested value; encoded in one of several ways."""
    body = draw(st.dictionaries(hostile.json_keys, hostile.json_values, max_size=4))
    for key in ("handler", "action"):
        body.pop(key, None)
        if draw(st.booleans()):
            body[key] = draw(names)
    if draw(st.booleans()):
        depth = draw(st.integers(min_value=1, max_value=200))
        body["deep"] = json.loads("[" * depth + "]" * depth)
    encoding = draw(st.sampled_from(["ascii", "utf-8", "duplicate keys", "whitespace"]))
    if encoding == "duplicate keys" and ("handler" in body or "action" in body):
        # The last copy of a key wins (as json.loads reads it); the first is a decoy.
        key = "handler" if "handler" in body else "action"
        decoy = draw(names)
        rest = json.dumps({k: v for k, v in body.items() if k != key})[1:-1]
        text = "{" + f"{json.dumps(key)}: {json.dumps(decoy)}, {json.dumps(key)}: {json.dumps(body[key])}"
        text += (", " + rest if rest else "") + "}"
        return body, text.encode()
    if encoding == "whitespace":
        return body, b" \t\r\n" + hostile.encode_json(body, indent=2) + b"\n"
    return body, hostile.encode_json(body, ensure_ascii=encoding == "ascii")


@pytest.fixture
def sender(api_gateway):
    """An open connection on the fuzzing view, and the client that plays API Gateway."""
    ws = WebSocketTestClient(api_gateway, base_path="/fuzz/")
    assert ws.connect(channel="general").status_code == 200
    return ws


def message_request(ws, route, body):
    return Request(path=f"/fuzz/{route}", headers=ws.gateway_headers(ws.connection_id), body=body)


def check_message(ws, cases, request, expected):
    with cases.isolated():
        before = database_state()
        count_before = WebSocketSession.objects.get(connection_id=ws.connection_id).request_count
        response = request.send()
        status = response.status_code
        assert status < 500, (status, response.content[:300])
        event(f"answered {response.status_code}")
        after = database_state()
        if isinstance(expected, int):
            assert status == expected, (expected, status, response.content[:300])
            assert changes(before, after) == {}
            assert set(response.json()) == {"error"}
            return
        assert status in (200, 204), (expected, status, response.content[:300])
        changed = changes(before, after)
        assert set(changed) == {"sessions"}, changed  # updated_on always moves
        count_after = WebSocketSession.objects.get(connection_id=ws.connection_id).request_count
        if expected == "heartbeat":
            assert (status, count_after) == (204, count_before)
        elif expected == "quiet":
            assert (status, count_after) == (204, count_before + 1)
        else:
            assert response.json() == {"handler": expected, "request_count": count_before + 1}


@fuzz_settings(max_examples=1200)
@given(route=message_routes, encoded=object_bodies())
def test_json_object_messages_reach_the_right_handler_or_are_refused(sender, cases, route, encoded):
    """Messages naming handlers of every kind (internals, unicode, very long, not strings): that handler or default.

    Too deep, or holding NUL, lone surrogates or integers past 64 bits: 400."""
    body, data = encoded
    expected = expected_handler(body, route)
    check_message(sender, cases, message_request(sender, route, data), expected)


@fuzz_settings(max_examples=500)
@given(route=message_routes, data=hostile.not_json_bodies)
def test_messages_that_are_not_json_objects_are_refused(sender, cases, route, data):
    """Bodies that are not JSON objects (binary, arrays, numbers, NaN, bad UTF-8, deep nesting): 400, not counted."""
    check_message(sender, cases, message_request(sender, route, data), 400)


@fuzz_settings(max_examples=100)
@given(route=message_routes, data=hostile.oversized_bodies)
def test_messages_over_the_size_limit_are_refused(sender, cases, route, data):
    """Bodies over the 128 KB limit: 413, nothing counted."""
    assert len(data) > MAX_BODY_SIZE
    check_message(sender, cases, message_request(sender, route, data), 413)


@pytest.fixture
def setup_example(api_gateway):
    """An open connection on the setup document's example view, token-less (the
    connection itself is not what is fuzzed here)."""
    ws = WebSocketTestClient(api_gateway, base_path="/setup/ws/")
    WebSocketSession.objects.create(connection_id="setupexample0000=", channel_name="general", api_gateway=api_gateway)
    ws.connection_id = "setupexample0000="
    return ws


any_body = st.one_of(object_bodies().map(lambda encoded: encoded[1]), hostile.not_json_bodies)


@fuzz_settings(max_examples=300)
@given(data=any_body)
def test_the_setup_documents_example_view_never_answers_500(setup_example, cases, data):
    """Any body to the documents' own example view (``return JsonResponse({"received": action})``): never a 5xx."""
    with cases.isolated():
        headers = setup_example.gateway_headers(setup_example.connection_id)
        response = Request(path="/setup/ws/default", headers=headers, body=data).send()
        assert response.status_code in (200, 400), (response.status_code, response.content[:300])
        if response.status_code == 200:
            assert set(response.json()) == {"received"}

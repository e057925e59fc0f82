"""Messages and ``$disconnect`` under hostile headers and connection ids.

Each case takes a request that API Gateway would send for an open connection and
spoils its headers (missing, duplicated, oversized, random values), its connection
id (unknown, malformed, closed, another API's) or its API id. The answer is never a
5xx; a refusal changes nothing; an accepted message counts once and an accepted
``$disconnect`` closes exactly its own session.
"""

from dataclasses import replace

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.testing import WebSocketTestClient
from tests.database_state import changes, database_state

from . import hostile
from .conftest import OTHER_API_ID, fuzz_settings
from .hostile import ANY, OK, REFUSED, Mutation, Request

AREA = "Hostile input"

pytestmark = pytest.mark.urls("tests.reliability.urls")

# What each header does to a message or $disconnect when dropped, duplicated or oversized.
GATEWAY_HEADER_RULES = {
    # Checked before anything else: without the right secret, one uniform 403.
    "X-Gateway-Secret": (403, 403, 403),
    "Host": (400, 400, 400),
    "User-Agent": (400, 403, 400),
    "X-Amzn-Apigateway-Api-Id": (400, 400, 400),
    "Connectionid": (400, 400, 400),
    "X-Amzn-Trace-Id": (OK, OK, OK),
    "X-Forwarded-For": (OK, OK, OK),
    "X-Forwarded-Port": (OK, OK, OK),
    "X-Forwarded-Proto": (OK, OK, OK),
    "Cookie": (OK, OK, OK),
    "Origin": (OK, OK, OK),
}

CLOSED = "closed"
OTHER = "other api"
UNKNOWN = "unknown"


API_AND_USER_AGENT = ("header X-Amzn-Apigateway-Api-Id", "header User-Agent")
SPEAKS_AS_OTHER_API = "another registered API, with its User-Agent"


def set_body(body):
    return lambda request: replace(request, body=body)


gateway_mutations = st.one_of(
    hostile.header_mutations(GATEWAY_HEADER_RULES),
    st.from_regex(r"[A-Za-z0-9+/]{15}=", fullmatch=True).map(
        lambda c: Mutation(f"unknown connection {c}", hostile.set_header("Connectionid", c), 403, "header Connectionid")
    ),
    st.text(min_size=1, max_size=40)
    .filter(lambda t: any(not (c.isascii() and (c.isalnum() or c in "+/=_-")) for c in t))
    .map(lambda c: Mutation(f"connection id {c!r}", hostile.set_header("Connectionid", c), 400, "header Connectionid")),
    st.sampled_from(
        ["AmazonAPIGateway_", "AmazonAPIGateway_otherapi99", "Mozilla/5.0", "amazonapigateway_fuzzapi123"]
    ).map(lambda ua: Mutation(f"User-Agent {ua}", hostile.set_header("User-Agent", ua), 403, "header User-Agent")),
    st.from_regex(r"[a-z0-9]{10}", fullmatch=True)
    .filter(lambda a: a not in ("fuzzapi123", OTHER_API_ID))
    .map(
        lambda a: Mutation(
            f"unregistered API {a}",
            lambda r: hostile.set_header("User-Agent", f"AmazonAPIGateway_{a}")(
                hostile.set_header("X-Amzn-Apigateway-Api-Id", a)(r)
            ),
            403,
            API_AND_USER_AGENT,
        )
    ),
    st.just(
        Mutation(
            SPEAKS_AS_OTHER_API,
            lambda r: hostile.set_header("User-Agent", f"AmazonAPIGateway_{OTHER_API_ID}")(
                hostile.set_header("X-Amzn-Apigateway-Api-Id", OTHER_API_ID)(r)
            ),
            403,
            API_AND_USER_AGENT,
        )
    ),
    st.binary(max_size=200).map(
        lambda b: Mutation(f"body {b[:20]!r}", set_body(b), {"message": ANY, "disconnect": OK}, "body")
    ),
)


@pytest.fixture
def connections(api_gateway, other_api_gateway):
    """An open connection, a closed one and one of another API, on the fuzzing view."""
    ws = WebSocketTestClient(api_gateway, base_path="/fuzz/")
    closed = WebSocketTestClient(api_gateway, base_path="/fuzz/")
    other = WebSocketTestClient(other_api_gateway, base_path="/fuzz/")
    for client in (ws, closed, other):
        assert client.connect(channel="general").status_code == 200
    assert closed.disconnect().status_code == 200
    return {"open": ws, CLOSED: closed.connection_id, OTHER: other.connection_id}


def expectation(mutations, route):
    resolved = [
        Mutation(m.label, m.apply, m.expect[route] if isinstance(m.expect, dict) else m.expect, m.slot)
        for m in mutations
    ]
    return hostile.expected_outcome(resolved)


def check(connections, cases, route, mutations, target):
    ws = connections["open"]
    connection_id = ws.connection_id if target == "open" else connections[target]
    path = "/fuzz/disconnect" if route == "disconnect" else "/fuzz/default"
    body = b"" if route == "disconnect" else b'{"action": "echo"}'
    request = hostile.apply_all(Request(path=path, headers=ws.gateway_headers(connection_id), body=body), mutations)
    speaks_as_other_api = any(m.label == SPEAKS_AS_OTHER_API for m in mutations)
    if target == OTHER and speaks_as_other_api:
        # The other API's own request for its own connection: nothing wrong with it.
        mutations = [m for m in mutations if m.label != SPEAKS_AS_OTHER_API]
    elif target != "open":
        mutations = [*mutations, Mutation(f"connection {target}", lambda r: r, TARGET_EXPECT[target][route], "target")]
    expected = expectation(mutations, route)
    with cases.isolated():
        before = database_state()
        response = request.send()
        status = response.status_code
        assert status < 500, (status, response.content[:300])
        if expected == OK:
            assert status in (200, 204), (mutations, status, response.content[:300])
        elif expected == REFUSED:
            assert 400 <= status < 500, (mutations, status, response.content[:300])
        elif expected != ANY:
            assert status in expected, (mutations, status, response.content[:300])
        event(f"answered {response.status_code}")
        changed = changes(before, database_state())
        if status >= 400:
            assert changed == {}, changed
            return
        assert set(changed) == {"sessions"}, changed
        old, new = changed["sessions"]
        differing = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
        assert len(differing) == 1
        (was, now) = differing[0]
        assert was[1] == now[1] == request.headers["Connectionid"]
        if route == "disconnect":
            assert not now[4] and now[5] == was[5]  # closed, nothing counted
        else:
            assert now[5] == was[5] + 1 and WebSocketSession.objects.get(connection_id=now[1]).connected


# What a message or $disconnect to a connection other than the open one gets.
TARGET_EXPECT = {
    CLOSED: {"message": 410, "disconnect": OK},  # a repeated $disconnect is harmless
    OTHER: {"message": 403, "disconnect": 403},  # a connection of another API
}

targets = st.sampled_from(["open", "open", "open", CLOSED, OTHER])


@fuzz_settings(max_examples=600)
@given(mutations=hostile.mutation_lists(gateway_mutations, max_size=3), target=targets)
def test_messages_survive_hostile_headers_and_connection_ids(connections, cases, mutations, target):
    """Messages with hostile headers, connection ids and API ids: no 5xx, a refusal changes nothing."""
    check(connections, cases, "message", mutations, target)


@fuzz_settings(max_examples=450)
@given(mutations=hostile.mutation_lists(gateway_mutations, max_size=3), target=targets)
def test_disconnects_survive_hostile_headers_and_unknown_connections(connections, cases, mutations, target):
    """$disconnect with hostile headers, unknown or foreign connection ids: a 4xx, or exactly its own session closed."""
    check(connections, cases, "disconnect", mutations, target)

"""``$connect`` under hostile handshakes: the site's token-guarded WebSocket view.

Every case starts from a handshake that the view accepts (a fresh single-use token of
a logged-in browser, its cookies, an allowed Origin, the gateway secret) and spoils it in one to
four ways: headers missing, duplicated, oversized or random; channel names at and
past the limits; tokens missing, repeated, wrong or wrapped; query strings and
bodies of any kind; methods other than POST. Whatever arrives, the answer is never a
5xx, and a refused handshake opens no session and changes no row, except the two
writes the design calls for: the attempt is counted (``ConnectionRateLimit``, for
the rate limit) and a valid token it presented is spent (single use).
"""

from dataclasses import replace

import pytest
from django.test import Client
from hypothesis import event, given
from hypothesis import strategies as st

from django_aws_api_gateway_websockets import channel_access
from django_aws_api_gateway_websockets.conf import gateway_secret
from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession, WebSocketToken
from django_aws_api_gateway_websockets.request_checks import GATEWAY_SECRET_HEADER
from django_aws_api_gateway_websockets.testing import browser_cookie_header, fetch_websocket_token
from tests.database_state import changes, database_state

from . import hostile
from .conftest import OTHER_API_ID, fuzz_settings
from .hostile import ANY, OK, REFUSED, Mutation, Request

AREA = "Hostile input"

pytestmark = pytest.mark.urls("tests.reliability.urls")

# What each handshake header does to $connect when dropped, duplicated or oversized.
CONNECT_HEADER_RULES = {
    # Checked before anything else: without the right secret, one uniform 403.
    "X-Gateway-Secret": (403, 403, 403),
    "Host": (400, 400, 400),
    "User-Agent": (400, OK, 400),
    "X-Amzn-Apigateway-Api-Id": (400, 400, 400),
    "Connectionid": (400, 400, 400),
    "Sec-WebSocket-Key": (400, 400, 400),
    "Sec-WebSocket-Version": (400, 400, 400),
    "Sec-WebSocket-Extensions": (OK, OK, OK),
    "Cookie": (403, ANY, ANY),
    "Origin": (OK, 403, 403),
    "X-Amzn-Trace-Id": (OK, OK, OK),
    "X-Forwarded-For": (400, OK, 400),
    "X-Forwarded-Port": (OK, OK, OK),
    "X-Forwarded-Proto": (OK, OK, OK),
}


@pytest.fixture
def handshake(api_gateway, other_api_gateway, user):
    """A $connect request that the site's view accepts, and the token it carries."""
    browser = Client()
    browser.force_login(user)
    token = fetch_websocket_token(browser)
    request = Request(
        path="/ws/connect",
        headers={
            "Host": "testserver",
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0",
            "X-Amzn-Apigateway-Api-Id": api_gateway.api_id,
            "X-Amzn-Trace-Id": "Root=1-66a1b2c3-0123456789abcdef01234567",
            "X-Forwarded-For": "198.51.100.20",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https",
            "Connectionid": hostile.new_connection_id(),
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
            "Cookie": f"{browser_cookie_header(browser)}; csrftoken=abc",
            GATEWAY_SECRET_HEADER: gateway_secret(),
            "Origin": "https://testserver",
        },
        query=(("channel", "general"), ("ws_token", token)),
    )
    return request, token


def set_query(name, value):
    def apply(request):
        kept = tuple(pair for pair in request.query if pair[0] != name)
        return replace(request, query=(*kept, (name, value)) if value is not None else kept)

    return apply


def repeat_query(name):
    def apply(request):
        return replace(request, query=(*request.query, *(pair for pair in request.query if pair[0] == name)))

    return apply


def channel_mutation(name):
    if name and hostile.channel_name_is_valid(name) and channel_access.policies_for(name):
        expect = ANY  # a channel an app decides on (a chat room, the dashboard...)
    else:
        expect = OK if name == "" or hostile.channel_name_is_valid(name) else 400
    return Mutation(f"channel {name[:40]!r} ({len(name)} chars)", set_query("channel", name), expect, "channel")


def set_body(body):
    return lambda request: replace(request, body=body)


def set_environ(**values):
    return lambda request: replace(request, environ={**request.environ, **values})


def set_method(method):
    return lambda request: replace(request, method=method)


def set_raw_query(text):
    return lambda request: replace(request, raw_query=text)


set_header = hostile.set_header
API_HEADER = "header X-Amzn-Apigateway-Api-Id"

aws_connection_ids = st.from_regex(r"[A-Za-z0-9+/]{15}=", fullmatch=True)
bad_connection_ids = st.text(min_size=1, max_size=40).filter(
    lambda text: any(not (c.isascii() and (c.isalnum() or c in "+/=_-")) for c in text)
)
extra_query = st.dictionaries(
    st.text(max_size=10).filter(lambda key: key not in ("channel", "ws_token")), st.text(max_size=30), max_size=3
)

connect_mutations = st.one_of(
    hostile.header_mutations(CONNECT_HEADER_RULES),
    hostile.channel_names.map(channel_mutation),
    st.just(Mutation("no channel", set_query("channel", None), OK, "channel")),
    st.just(Mutation("channel twice", repeat_query("channel"), 400, "channel")),
    st.just(Mutation("no token", set_query("ws_token", None), 403, "token")),
    st.just(Mutation("token twice", repeat_query("ws_token"), 400, "token")),
    st.text(max_size=300).map(lambda t: Mutation(f"token {t[:20]!r}", set_query("ws_token", t), 403, "token")),
    # A raw query string replaces the token too (and so is refused: no token).
    hostile.header_text.map(lambda t: Mutation(f"raw query {t!r}", set_raw_query(t), 403, "token")),
    extra_query.map(
        lambda extra: Mutation(
            f"extra query {extra!r}", lambda r: replace(r, query=(*r.query, *extra.items())), OK, "extra query"
        )
    ),
    st.binary(max_size=300).map(lambda b: Mutation(f"body {b[:20]!r}", set_body(b), OK, "body")),
    hostile.oversized_bodies.map(lambda b: Mutation(f"body of {len(b)} bytes", set_body(b), 413, "body")),
    st.sampled_from(["abc", "-1", "1e3", " ", "99999999999999999999"]).map(
        lambda v: Mutation(f"Content-Length {v!r}", set_environ(CONTENT_LENGTH=v), ANY, "body")
    ),
    st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]).map(
        lambda m: Mutation(f"method {m}", set_method(m), 405, "method")
    ),
    aws_connection_ids.map(
        lambda c: Mutation(f"connection id {c}", set_header("Connectionid", c), OK, "header Connectionid")
    ),
    bad_connection_ids.map(
        lambda c: Mutation(f"connection id {c!r}", set_header("Connectionid", c), 400, "header Connectionid")
    ),
    st.just(Mutation("another registered API", set_header("X-Amzn-Apigateway-Api-Id", OTHER_API_ID), OK, API_HEADER)),
    st.from_regex(r"[a-z0-9]{10}", fullmatch=True)
    .filter(lambda a: a not in ("fuzzapi123", OTHER_API_ID))
    .map(lambda a: Mutation(f"unregistered API {a}", set_header("X-Amzn-Apigateway-Api-Id", a), 403, API_HEADER)),
    st.sampled_from(
        [
            "https://evil.example",
            "null",
            "http://testserver.evil.example",
            "https://testserver/path",
            # An allowed host on another scheme or port is another origin.
            "http://testserver",
            "http://localhost",
            "https://127.0.0.1:8000",
        ]
    ).map(lambda o: Mutation(f"Origin {o}", set_header("Origin", o), 403, "header Origin")),
    st.sampled_from(["https://localhost", "https://127.0.0.1", "https://testserver:443"]).map(
        lambda o: Mutation(f"Origin {o}", set_header("Origin", o), OK, "header Origin")
    ),
    st.sampled_from(
        [
            ("", 400),  # API Gateway always sends one
            ("::1", OK),
            ("203.0.113.9, 198.51.100.20", OK),  # API Gateway appends the client's address last
            ("fe80::1%eth0", 400),  # a zone index is never a client's address
            ("fe80::1%" + "a" * 300, 400),
            ("not-an-ip", 400),
            ("1.2.3.4, 999.1.1.1", 400),
        ]
    ).map(
        lambda case: Mutation(
            f"X-Forwarded-For {case[0][:30]!r}",
            set_header("X-Forwarded-For", case[0]),
            case[1],
            "header X-Forwarded-For",
        )
    ),
)


def assert_refusal_changed_only_what_it_may(before, after, token_digest):
    """A refused $connect may count its attempt and spend the token it presented."""
    changed = changes(before, after)
    assert set(changed) <= {"tokens", "attempts"}, changed
    if "tokens" in changed:
        old, new = changed["tokens"]
        spent = [row for row in new if row not in old]
        assert len(old) == len(new) and len(spent) == 1, changed
        assert spent[0][1] == token_digest and spent[0][3]
    if "attempts" in changed:
        old, new = changed["attempts"]
        added = [row for row in new if row not in old]
        assert len(new) == len(old) + 1 and len(added) == 1 and not added[0][3], changed


@fuzz_settings(max_examples=1250)
@given(mutations=hostile.mutation_lists(connect_mutations))
def test_connect_survives_hostile_handshakes(handshake, cases, mutations):
    """Hostile $connect handshakes (headers, channel, token, query, body, method): no 5xx, refusals change nothing."""
    valid, token = handshake
    request = hostile.apply_all(valid, mutations)
    expected = hostile.expected_outcome(mutations)
    with cases.isolated():
        token_digest = WebSocketToken.objects.get().token
        before = database_state()
        response = request.send()
        status = response.status_code
        assert status < 500, (status, response.content[:300])
        if expected == OK:
            assert status == 200, (mutations, response.content[:300])
        elif expected == REFUSED:
            assert 400 <= status < 500 and status != 404, (mutations, status, response.content[:300])
        elif expected != ANY:
            assert status in expected, (mutations, status, response.content[:300])
        event(f"answered {response.status_code}")
        after = database_state()
        if status == 200:
            session = WebSocketSession.objects.get(connection_id=request.headers["Connectionid"])
            assert session.connected and session.request_count == 0
            assert WebSocketToken.objects.get().used
            assert ConnectionRateLimit.objects.filter(successful=True).count() == 1
            assert len(after["sessions"]) == len(before["sessions"]) + 1
        else:
            assert_refusal_changed_only_what_it_may(before, after, token_digest)
            if response.get("Content-Type") == "application/json":
                assert set(response.json()) == {"error"}
                assert len(response.json()["error"]) < 60

"""Hostile input for the fuzzing: requests as API Gateway sends them, and ways to spoil them.

A fuzz case starts from a request that the view accepts and applies a few
:class:`Mutation` s to it. Each mutation knows what it should lead to:

- ``OK``: the request stays acceptable;
- a status (400, 403, 413, ...): the view must refuse it with that status (or, when
  several mutations call for refusals, with one of theirs: whichever check comes first
  answers);
- ``ANY``: the outcome depends on the details (a random header value, say): accepted
  or refused are both fine; a 5xx is never fine.

A case that calls for a refusal and also holds an ``ANY`` mutation must be refused
with some 4xx (``REFUSED``): the ``ANY`` mutation may be the one that is caught first.
"""

import base64
import json
import secrets
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from django.test import Client
from hypothesis import strategies as st

OK = "ok"
ANY = "any"
REFUSED = "refused"

# AWS's limit for one message, and so the view's default MAX_BODY_SIZE.
MAX_BODY_SIZE = 128 * 1024
# The view's default MAX_MESSAGE_DEPTH: levels of nesting, the message object being 1.
MAX_MESSAGE_DEPTH = 32
# Integers a database column can hold; the view refuses messages holding others.
INT64 = range(-(2**63), 2**63)
# The view refuses header values longer than this.
MAX_HEADER_VALUE_LENGTH = 2048
# Channel names: the default pattern, and the length of WebSocketSession.channel_name.
MAX_CHANNEL_NAME_LENGTH = 191
CHANNEL_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def new_connection_id():
    """Shaped like AWS's: 16 characters of base64 ending in '='."""
    return base64.b64encode(secrets.token_bytes(11)).decode()


@dataclass(frozen=True)
class Request:
    """One HTTP request to the view, as API Gateway would send it."""

    path: str
    headers: dict
    query: tuple = ()  # (name, value) pairs, in order
    raw_query: str | None = None  # replaces ``query`` when set
    body: bytes = b""
    method: str = "POST"
    environ: dict = field(default_factory=dict)

    @property
    def query_string(self):
        if self.raw_query is not None:
            return self.raw_query
        return urlencode(list(self.query))

    def send(self):
        """Send it through Django's test client (exceptions propagate, as a 500 would)."""
        headers = {name: value for name, value in self.headers.items() if value is not None}
        return Client().generic(
            self.method,
            self.path,
            data=self.body,
            content_type="application/json",
            headers=headers,
            QUERY_STRING=self.query_string,
            **self.environ,
        )


@dataclass(frozen=True)
class Mutation:
    """A change to a request, and what the view should make of it."""

    label: str
    apply: object  # Request -> Request
    expect: object = OK  # OK, ANY or an HTTP status
    slot: object = ""  # what it changes (a name or a tuple of names); each at most once a case

    def __repr__(self):
        return f"<{self.label}: {self.expect}>"


def expected_outcome(mutations):
    """OK, ANY, REFUSED, or the set of refusal statuses the mutations call for."""
    refusals = {m.expect for m in mutations if m.expect not in (OK, ANY)}
    uncertain = any(m.expect == ANY for m in mutations)
    if refusals:
        return REFUSED if uncertain else refusals
    return ANY if uncertain else OK


def mutation_lists(mutations, max_size=4):
    """One to ``max_size`` mutations, each changing a different part of the request
    (so that no mutation silently undoes another's expected effect)."""
    return st.lists(mutations, min_size=1, max_size=max_size).filter(_disjoint)


def _disjoint(mutations):
    seen = set()
    for mutation in mutations:
        slots = {mutation.slot} if isinstance(mutation.slot, str) else set(mutation.slot)
        if seen & slots:
            return False
        seen |= slots
    return True


def apply_all(request, mutations):
    for mutation in mutations:
        request = mutation.apply(request)
    return request


# ---------------------------------------------------------------------------
# Header mutations
# ---------------------------------------------------------------------------


def set_header(name, value):
    def apply(request):
        return replace(request, headers={**request.headers, name: value})

    return apply


def drop_header(name):
    return set_header(name, None)


def duplicate_header(name):
    """Two copies of a header, as a server that merges them hands them on ("a,a")."""

    def apply(request):
        value = request.headers.get(name)
        if value is None:
            return request
        return replace(request, headers={**request.headers, name: f"{value},{value}"})

    return apply


def oversize_header(name, length):
    def apply(request):
        value = request.headers.get(name) or "x"
        return replace(request, headers={**request.headers, name: (value * (length // len(value) + 1))[:length]})

    return apply


# Characters a real server can hand over in a header value: printable ASCII, tab and
# the bytes 0x80-0xFF (decoded as Latin-1, as WSGI does).
header_text = st.text(
    alphabet=st.sampled_from([chr(c) for c in [9, *range(0x20, 0x7F), *range(0x80, 0x100)]]),
    max_size=80,
)
oversized_lengths = st.integers(min_value=MAX_HEADER_VALUE_LENGTH + 1, max_value=3 * MAX_HEADER_VALUE_LENGTH)


def header_mutations(rules):
    """Mutations of the headers named in ``rules``: ``{header: (if dropped,
    if duplicated, if oversized)}``, each OK, ANY or a status. Any header may also
    get a random value (ANY)."""
    names = sorted(rules)
    dropped = st.sampled_from(names).map(lambda n: Mutation(f"drop {n}", drop_header(n), rules[n][0], f"header {n}"))
    duplicated = st.sampled_from(names).map(
        lambda n: Mutation(f"duplicate {n}", duplicate_header(n), rules[n][1], f"header {n}")
    )
    oversized = st.tuples(st.sampled_from(names), oversized_lengths).map(
        lambda args: Mutation(
            f"oversize {args[0]} to {args[1]}", oversize_header(*args), rules[args[0]][2], f"header {args[0]}"
        )
    )
    garbled = st.tuples(st.sampled_from(names), header_text).map(
        lambda args: Mutation(f"set {args[0]} to {args[1]!r}", set_header(*args), ANY, f"header {args[0]}")
    )
    return st.one_of(dropped, duplicated, oversized, garbled)


# ---------------------------------------------------------------------------
# Names: handlers, actions, routes, channels
# ---------------------------------------------------------------------------

# Names a client must never reach: Python internals, Django's View machinery and
# WebSocketView's own methods and attributes.
INTERNAL_NAMES = [
    "__init__",
    "__class__",
    "__dict__",
    "__call__",
    "__getattribute__",
    "_private",
    "_open_session",
    "_identify",
    "dispatch",
    "setup",
    "as_view",
    "http_method_not_allowed",
    "options",
    "get",
    "post",
    "put",
    "delete",
    "head",
    "patch",
    "trace",
    "connect",
    "disconnect",
    "receive_message",
    "check_gateway_request",
    "reject",
    "has_websocket_permissions",
    "can_join_channel",
    "http_method_names",
    "required_headers",
    "route_key",
    "body",
    "request",
    "USE_WS_TOKEN",
]

unicode_names = st.text(min_size=1, max_size=40)
long_names = st.integers(min_value=129, max_value=5000).map(lambda n: ("handler_" * (n // 8 + 1))[:n])
identifier_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,30}", fullmatch=True)


def hostile_names(handlers):
    """Names to put in ``handler`` / ``action``: real handlers, internals, unicode,
    identifiers, over-long names, and values that are not strings at all."""
    return st.one_of(
        st.sampled_from(sorted(handlers)),
        st.sampled_from(INTERNAL_NAMES),
        unicode_names,
        identifier_names,
        long_names,
        st.sampled_from(["", " ", "default ", "Default", "DEFAULT", "echo\x00", "ｅｃｈｏ", "e\u0301cho"]),
        st.none(),
        st.integers(),
        st.booleans(),
        st.lists(st.text(max_size=5), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    )


def channel_name_is_valid(name):
    """The default rule: 1 to 191 characters of letters, digits, ``_`` and ``-``."""
    return 0 < len(name) <= MAX_CHANNEL_NAME_LENGTH and all(c in CHANNEL_ALPHABET for c in name)


channel_names = st.one_of(
    # At, just under and past the length limit.
    st.integers(min_value=MAX_CHANNEL_NAME_LENGTH - 2, max_value=MAX_CHANNEL_NAME_LENGTH + 2).map(
        lambda n: ("room-" * 50)[:n]
    ),
    st.integers(min_value=MAX_CHANNEL_NAME_LENGTH + 3, max_value=20_000).map(lambda n: "c" * n),
    st.text(alphabet=CHANNEL_ALPHABET, min_size=1, max_size=40),
    st.text(max_size=40),
    st.sampled_from(["", " ", "room 1", "room\n", "room\x00", "../admin", "room;drop", "<script>", "🙂", "ümlaut"]),
)

# ---------------------------------------------------------------------------
# Message bodies
# ---------------------------------------------------------------------------

# Text a database or a log cannot take as it is: NUL (PostgreSQL refuses it) and lone
# surrogates (not encodable as UTF-8), alone or inside ordinary text.
lone_surrogates = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
hostile_text = st.one_of(
    st.text(max_size=20),
    lone_surrogates,
    st.tuples(st.text(max_size=5), st.sampled_from(["\x00", "\ud800", "\udfff"]), st.text(max_size=5)).map("".join),
)
huge_integers = st.one_of(st.integers(min_value=2**63, max_value=2**256), st.integers(max_value=-(2**63) - 1))
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    huge_integers,
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_keys = st.one_of(st.text(max_size=10), hostile_text)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(json_keys, children, max_size=4)),
    max_leaves=12,
)


def holds_hostile_values(value):
    """True when ``value`` holds text with NUL or a lone surrogate (keys included), or
    an integer outside 64 bits: what the view refuses in a message."""
    if isinstance(value, dict):
        return any(holds_hostile_values(key) or holds_hostile_values(item) for key, item in value.items())
    if isinstance(value, list):
        return any(holds_hostile_values(item) for item in value)
    if isinstance(value, str):
        return "\x00" in value or any("\ud800" <= character <= "\udfff" for character in value)
    return isinstance(value, int) and not isinstance(value, bool) and value not in INT64


def encode_json(value, **options):
    """JSON bytes of ``value``; a lone surrogate in non-ASCII output becomes the bytes
    a careless client would send (invalid UTF-8)."""
    return json.dumps(value, **options).encode("utf-8", "surrogatepass")


def nested(depth, opener, closer):
    return (opener * depth + closer * depth).encode()


def is_json_object(data):
    try:
        return isinstance(json.loads(data.decode("utf-8")), dict)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False


not_json_bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.sampled_from(
        [
            b"",
            b" ",
            b"null",
            b"true",
            b"0",
            b"-1e999",
            b"NaN",
            b'{"action": NaN}',
            b'{"action": Infinity}',
            b'{"action": "default"',
            b'{"action": "default"}}',
            b"\xff\xfe{}",
            b'{"action": "\xff"}',
            b"\x00",
            b'"{\\"action\\": \\"default\\"}"',
        ]
    ),
    # Arrays, numbers and strings are JSON but not objects.
    json_values.filter(lambda value: not isinstance(value, dict)).map(lambda value: encode_json(value)),
    # Nested past any recursion limit.
    st.integers(min_value=1_000, max_value=60_000).map(lambda depth: nested(depth, "[", "]")),
    st.integers(min_value=1_000, max_value=20_000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
).filter(lambda data: not is_json_object(data))

oversized_bodies = st.integers(min_value=MAX_BODY_SIZE + 1, max_value=MAX_BODY_SIZE + 5_000).map(
    lambda size: (b'{"action":"default","pad":"' + b"x" * size + b'"}')[:size]
)

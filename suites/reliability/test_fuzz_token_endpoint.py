"""The token endpoint under hostile requests: methods, CSRF, cookies, headers and bodies.

Each case builds a request from independent choices: the HTTP method; whether the
browser session is logged in, absent, forged or sent twice; the CSRF cookie and the
CSRF token (header or form field: right, masked, wrong, malformed, duplicated,
oversized or missing); HTTPS with or without a good Referer and Origin; a body of any
kind; and whether the user already reached the token rate limit. The expected answer
follows from Django's CSRF rules and the endpoint's contract (401 when not logged in,
429 past the limit, 405 for other methods), and the database must agree: a refused
request creates or changes no row; an accepted one creates exactly one token, bound
to that browser session.
"""

import pytest
from django.contrib.auth import get_user_model
from django.middleware.csrf import CSRF_ALLOWED_CHARS, _mask_cipher_secret
from django.test import Client
from django.urls import reverse
from django.utils.crypto import get_random_string
from hypothesis import event, given
from hypothesis import strategies as st

from django_aws_api_gateway_websockets.conf import ws_setting
from django_aws_api_gateway_websockets.models import WebSocketToken
from tests.database_state import changes, database_state

from . import hostile
from .conftest import fuzz_settings

AREA = "Hostile input"

pytestmark = pytest.mark.urls("tests.reliability.urls")

SECRET = get_random_string(32, CSRF_ALLOWED_CHARS)
OTHER_SECRET = get_random_string(32, CSRF_ALLOWED_CHARS)


@pytest.fixture
def browser_session(user):
    """The session key of a logged-in browser."""
    browser = Client()
    browser.force_login(user)
    return browser.cookies["sessionid"].value


SESSION_CHOICES = ["logged in", "none", "forged", "twice", "oversized"]
# (cookie, token) pairs: what the CSRF check sees, and whether it passes.
CSRF_CHOICES = {
    "secret and secret": (SECRET, SECRET, True),
    "secret and masked secret": (SECRET, _mask_cipher_secret(SECRET), True),
    "masked cookie and secret": (_mask_cipher_secret(SECRET), SECRET, True),
    "no cookie": (None, SECRET, False),
    "no token": (SECRET, None, False),
    "neither": (None, None, False),
    "wrong token": (SECRET, OTHER_SECRET, False),
    "wrong masked token": (SECRET, _mask_cipher_secret(OTHER_SECRET), False),
    "short token": (SECRET, SECRET[:31], False),
    "token with bad characters": (SECRET, SECRET[:31] + "!", False),
    "malformed cookie": (SECRET[:10] + "!", SECRET[:10] + "!", False),
    "duplicated token": (SECRET, f"{SECRET},{SECRET}", False),
    "oversized token": (SECRET, SECRET * 100, False),
    "empty cookie and token": ("", "", False),
}
TOKEN_PLACES = ["header", "form field"]
HTTPS_CHOICES = {
    # (secure, Referer, Origin, passes)
    "plain HTTP": (False, None, None, True),
    "HTTPS, same-site Referer": (True, "https://testserver/chat/", None, True),
    "HTTPS, same Origin": (True, "https://testserver/", "https://testserver", True),
    "HTTPS, no Referer": (True, None, None, False),
    "HTTPS, cross-site Referer": (True, "https://evil.example/", None, False),
    "HTTPS, cross-site Origin": (True, "https://testserver/", "https://evil.example", False),
    "HTTPS, Referer over HTTP": (True, "http://testserver/", None, False),
    "HTTP, cross-site Origin": (False, None, "https://evil.example", False),
}
METHODS = ["POST"] * 9 + ["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

# Multipart bodies Django cannot parse (body -> content type).
BROKEN_FORMS = {
    b"no boundary at all": "multipart/form-data",
    b"--xyz\r\n": "multipart/form-data; boundary=\u00e9",
}

bodies = st.one_of(
    st.just(("application/json", b"")),
    st.binary(max_size=300).map(lambda body: ("application/json", body)),
    hostile.json_values.map(lambda value: ("application/json", repr(value).encode())),
    st.sampled_from(
        [
            *BROKEN_FORMS.items(),
            ("application/x-www-form-urlencoded", b"%zz=%%&&=="),
            ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data\r\n\r\nno name"),
            ("text/plain", "\u00e9\u00e8".encode("latin-1")),
        ]
    ).map(lambda pair: pair[::-1] if isinstance(pair[0], bytes) else pair),
    st.integers(min_value=hostile.MAX_BODY_SIZE, max_value=3 * hostile.MAX_BODY_SIZE).map(
        lambda size: ("application/octet-stream", b"x" * size)
    ),
)


def passing(choices):
    """The choices that pass (drawn as often as all choices together)."""
    return sorted(name for name, choice in choices.items() if choice[-1])


def cookie_header(session, session_key, csrf_cookie):
    parts = []
    if session == "logged in":
        parts.append(f"sessionid={session_key}")
    elif session == "forged":
        parts.append("sessionid=" + "f" * 32)
    elif session == "twice":
        parts.append(f"sessionid={session_key}; sessionid={'f' * 32}")
    elif session == "oversized":
        parts.append("sessionid=" + session_key * 200)
    if csrf_cookie is not None:
        parts.append(f"csrftoken={csrf_cookie}")
    return "; ".join(parts)


def expected_status(method, session, csrf_passes, https_passes, at_limit):
    if method == "OPTIONS":
        return 200
    if method in ("GET", "HEAD"):
        return 405
    # Unsafe methods meet the CSRF check first, then the view's method check.
    if not (csrf_passes and https_passes):
        return 403
    if method != "POST":
        return 405
    # Of two session cookies Django reads the last one: here, the forged one.
    if session != "logged in":
        return 401
    return 429 if at_limit else 200


@fuzz_settings(max_examples=700)
@given(
    method=st.sampled_from(METHODS),
    session=st.one_of(st.just("logged in"), st.sampled_from(SESSION_CHOICES)),
    csrf=st.one_of(st.sampled_from(passing(CSRF_CHOICES)), st.sampled_from(sorted(CSRF_CHOICES))),
    token_place=st.sampled_from(TOKEN_PLACES),
    https=st.one_of(st.sampled_from(passing(HTTPS_CHOICES)), st.sampled_from(sorted(HTTPS_CHOICES))),
    body=bodies,
    at_limit=st.booleans(),
)
def test_the_token_endpoint_refuses_without_a_trace(
    browser_session, user, cases, method, session, csrf, token_place, https, body, at_limit
):
    """Token requests mixing method, login, CSRF cookie and token, Referer, Origin, body: exact status, no stray row."""
    csrf_cookie, csrf_token, csrf_passes = CSRF_CHOICES[csrf]
    secure, referer, origin, https_passes = HTTPS_CHOICES[https]
    content_type, data = body
    headers = {"Referer": referer, "Origin": origin}
    if token_place == "header":
        headers["X-CSRFToken"] = csrf_token
    elif csrf_token is not None:
        # A form field only counts in the form body of a POST; it replaces the fuzzed body.
        content_type, data = "application/x-www-form-urlencoded", f"csrfmiddlewaretoken={csrf_token}".encode()
        csrf_passes = csrf_passes and method == "POST"
    expected = {expected_status(method, session, csrf_passes, https_passes, at_limit)}
    if method == "POST" and content_type.startswith("multipart/") and data in BROKEN_FORMS:
        # The CSRF check reads a form body before it compares tokens: one it cannot
        # parse is a 400 (unless the Origin, Referer or cookie refused it first).
        expected = {400, 403} if expected == {403} else {400}
    with cases.isolated():
        if at_limit:
            for _ in range(int(ws_setting("TOKEN_RATE_LIMIT_MAX"))):
                WebSocketToken.objects.create(token=get_random_string(64), user=user, session_key=browser_session)
        before = database_state()
        response = Client(enforce_csrf_checks=True).generic(
            method,
            reverse("websocket_token"),
            data=data,
            content_type=content_type,
            secure=secure,
            headers={name: value for name, value in headers.items() if value is not None},
            HTTP_COOKIE=cookie_header(session, browser_session, csrf_cookie),
        )
        assert response.status_code in expected, (expected, response.status_code, response.content[:300])
        event(f"answered {response.status_code}")
        changed = changes(before, database_state())
        if response.status_code != 200 or method == "OPTIONS":
            assert changed == {}, changed
            return
        assert set(changed) == {"tokens"}, changed
        old, new = changed["tokens"]
        assert len(new) == len(old) + 1
        token = WebSocketToken.objects.order_by("-pk").first()
        assert (token.user, token.session_key, token.used) == (user, browser_session, False)
        assert response.json()["expires_in"] == int(ws_setting("TOKEN_EXPIRY_SECONDS"))
        assert get_user_model().objects.count() == 1

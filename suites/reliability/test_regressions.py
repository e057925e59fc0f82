"""Bugs the reliability suite found, each pinned by the smallest request that showed it.

1. A client address with an IPv6 zone index (``X-Forwarded-For: fe80::1%eth0``) was
   accepted and written to ``ConnectionRateLimit.ip_address``; PostgreSQL's ``inet``
   type refuses such values, so a long zone index made ``$connect`` fail with a 500.
2. A view whose ``CHANNEL_NAME_PATTERN`` lets control characters through (``^\\S+$``
   does) accepted ``?channel=a%00b``; PostgreSQL cannot store NUL, so ``$connect``
   failed with a 500.
3. The token endpoint counted a user's recent tokens, then created one: concurrent
   requests all saw room under the limit and were all served (38 of 40 with a limit
   of 30 on PostgreSQL). See also ``test_concurrency.py``.
"""

import pytest
from django.utils import timezone

from django_aws_api_gateway_websockets.conf import ws_setting
from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession, WebSocketToken
from django_aws_api_gateway_websockets.testing import WebSocketTestClient

AREA = "Hostile input"

pytestmark = pytest.mark.urls("tests.reliability.urls")


@pytest.mark.parametrize("address", ["fe80::1%eth0", "fe80::1%" + "a" * 300, "198.51.100.7, fe80::2%25lo"])
def test_a_client_address_with_a_zone_index_is_refused(api_gateway, address, cases):
    """X-Forwarded-For with an IPv6 zone index: 400 and no row (was a 500 on PostgreSQL)."""
    response = WebSocketTestClient(api_gateway, base_path="/fuzz/", client_ip=address).connect(channel="general")
    cases.add()
    assert response.status_code == 400
    assert response.json() == {"error": "invalid client address"}
    assert not ConnectionRateLimit.objects.exists()
    assert not WebSocketSession.objects.exists()


@pytest.mark.parametrize("channel", ["a\x00b", "\x00", "tab\x09", "line\x0abreak", "bell\x07", "c1\x85"])
def test_a_channel_name_with_control_characters_is_refused_whatever_the_pattern(api_gateway, channel, cases):
    """Control characters in a channel name, whatever the pattern allows: 400 (NUL was a 500 on PostgreSQL)."""
    response = WebSocketTestClient(api_gateway, base_path="/wide/").connect(query={"channel": channel})
    cases.add()
    assert response.status_code == 400
    assert response.json() == {"error": "invalid channel name"}
    assert not WebSocketSession.objects.exists()


def test_a_token_issued_past_the_limit_is_taken_back(user, cases):
    """A token request that finds the limit reached after writing its token (a lost race): refused, no token kept."""
    limit = int(ws_setting("TOKEN_RATE_LIMIT_MAX"))
    # What a concurrent burst leaves: the limit already used up when this request
    # writes its token (issuing_rate_limited ran before the others committed).
    WebSocketToken.objects.bulk_create(
        WebSocketToken(token=f"{index:064d}", user=user, created_at=timezone.now()) for index in range(limit)
    )
    assert WebSocketToken.objects.issue(user, "k" * 32) is None
    cases.add()
    assert WebSocketToken.objects.filter(user=user).count() == limit

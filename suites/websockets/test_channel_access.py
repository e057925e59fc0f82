"""The channel policy registry."""

import pytest
from django.contrib.auth.models import AnonymousUser

from django_aws_api_gateway_websockets import channel_access


@pytest.fixture
def registered():
    added = []

    def register(check, **where):
        added.append(check)
        return channel_access.register_channel_policy(check, **where)

    yield register
    for check in added:
        channel_access.unregister_channel_policy(check)


def test_a_channel_without_policies_is_open():
    assert channel_access.may_join(AnonymousUser(), "nobody-guards-this")


def test_prefix_and_exact_name_policies(registered):
    registered(lambda user, channel: False, prefix="private-")
    registered(lambda user, channel: False, name="admin")
    assert not channel_access.may_join(AnonymousUser(), "private-1")
    assert not channel_access.may_join(AnonymousUser(), "admin")
    assert channel_access.may_join(AnonymousUser(), "admin2")
    assert channel_access.may_join(AnonymousUser(), "public-private-1")


def test_every_matching_policy_must_allow(registered):
    registered(lambda user, channel: True, prefix="team-")
    registered(lambda user, channel: channel != "team-secret", prefix="team-s")
    assert channel_access.may_join(AnonymousUser(), "team-sales")
    assert not channel_access.may_join(AnonymousUser(), "team-secret")


def test_registering_the_same_policy_again_changes_nothing(registered):
    def check(user, channel_name):
        return True

    registered(check, prefix="twice-")
    registered(check, prefix="twice-")
    registered(check, name="twice-exactly")
    assert [p.check for p in channel_access.policies_for("twice-exactly")] == [check, check]
    assert [p.check for p in channel_access.policies_for("twice-other")] == [check]


def test_register_works_as_a_decorator():
    @channel_access.register_channel_policy(prefix="decorated-")
    def nobody(user, channel_name):
        return False

    try:
        assert callable(nobody)
        assert not channel_access.may_join(AnonymousUser(), "decorated-x")
    finally:
        channel_access.unregister_channel_policy(nobody)
    assert channel_access.may_join(AnonymousUser(), "decorated-x")


@pytest.mark.parametrize("where", [{}, {"name": "a", "prefix": "b"}, {"name": ""}, {"prefix": ""}])
def test_a_policy_needs_exactly_one_non_empty_name_or_prefix(where):
    with pytest.raises((TypeError, ValueError)):
        channel_access.register_channel_policy(lambda user, channel: True, **where)


def test_a_policy_must_be_callable():
    with pytest.raises(TypeError):
        channel_access.register_channel_policy("not callable", prefix="x-")

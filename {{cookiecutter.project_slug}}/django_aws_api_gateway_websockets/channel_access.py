"""Who may join which channel.

A channel name is chosen by the client, so it proves nothing. Apps register a check
for the channels they own, by exact name or by prefix, and ``WebSocketView``
consults them on ``$connect`` (through its overridable ``can_join_channel``)::

    from django_aws_api_gateway_websockets.channel_access import register_channel_policy

    @register_channel_policy(prefix="staff-")
    def staff_only(user, channel_name):
        return user.is_staff

    register_channel_policy(name="admin", check=lambda user, channel_name: user.is_superuser)

Every policy that matches a channel must allow the user; a channel that no policy
matches is open to anyone who may connect. ``user`` is the connecting user (an
``AnonymousUser`` when unknown), loaded only when a policy asks for it.
"""

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelPolicy:
    """One registered check: ``check(user, channel_name) -> bool`` for the channel
    called ``name``, or for every channel starting with ``prefix``."""

    check: object
    name: str | None = None
    prefix: str | None = None

    def applies_to(self, channel_name):
        if self.name is not None:
            return channel_name == self.name
        return channel_name.startswith(self.prefix)


_policies = []
_lock = threading.Lock()


def register_channel_policy(check=None, *, name=None, prefix=None):
    """Register ``check`` for the channel ``name`` or the channels starting with
    ``prefix`` (exactly one of them). Usable as a decorator; returns ``check``.

    Registering the same check for the same channels again changes nothing, so an
    ``AppConfig.ready()`` that runs twice (tests that swap INSTALLED_APPS) is harmless."""
    if (name is None) == (prefix is None):
        raise TypeError("register_channel_policy needs exactly one of name= or prefix=")
    if (name is not None and not name) or (prefix is not None and not prefix):
        raise ValueError("register_channel_policy: name and prefix must be non-empty strings")

    def register(function):
        if not callable(function):
            raise TypeError("register_channel_policy: check must be callable as check(user, channel_name)")
        policy = ChannelPolicy(check=function, name=name, prefix=prefix)
        with _lock:
            if policy not in _policies:
                _policies.append(policy)
        return function

    return register if check is None else register(check)


def unregister_channel_policy(check):
    """Remove every registration of ``check`` (tests, apps that reload)."""
    with _lock:
        _policies[:] = [policy for policy in _policies if policy.check is not check]


def policies_for(channel_name):
    """The policies that apply to ``channel_name``, in registration order."""
    with _lock:
        return [policy for policy in _policies if policy.applies_to(channel_name)]


def may_join(user, channel_name):
    """True when every policy for ``channel_name`` allows ``user`` (or none applies)."""
    return all(bool(policy.check(user, channel_name)) for policy in policies_for(channel_name))

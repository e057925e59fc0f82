"""Fixtures for the notifications tests: people and their open tabs (sockets opened
the way API Gateway opens them)."""

import pytest
from django.urls import reverse


@pytest.fixture
def socket_for(socket_for):
    """``socket_for(user, channel="notifications")``: an open tab of ``user``."""
    return lambda user, channel="notifications": socket_for(user, channel)


def notifications(ws, handler, **params):
    """A message from the notifications page, as API Gateway's ``notifications`` route delivers it."""
    return ws.message(
        {"action": "notifications", "handler": handler, **params}, path=reverse("notifications:websocket")
    )

"""Recording sends instead of posting them (``testing.capture_messages``).

While a capture is active, sends (and closes) from any thread are recorded and
reported delivered; nothing reaches API Gateway.
"""

import json
import threading
from dataclasses import dataclass

_captures = []
_lock = threading.Lock()


@dataclass(frozen=True)
class CapturedMessage:
    """A message that would have been sent; for a connection that would have been
    closed (DeleteConnection), ``payload`` is None and ``closed`` True."""

    connection_id: str
    channel_name: str
    user_id: object
    payload: dict | None
    closed: bool = False


def active():
    return bool(_captures)


def record(targets, data):
    """Record ``data`` (the encoded payload) as sent to each target."""
    # What the client would decode: the payload after its trip through JSON.
    decoded = json.loads(data)
    with _lock:
        for capture in _captures:
            capture.extend(CapturedMessage(t.connection_id, t.channel_name, t.user_id, decoded) for t in targets)


def record_close(targets):
    """Record that each target's connection would have been closed."""
    with _lock:
        for capture in _captures:
            capture.extend(
                CapturedMessage(t.connection_id, t.channel_name, t.user_id, None, closed=True) for t in targets
            )


def start():
    capture = []
    with _lock:
        _captures.append(capture)
    return capture


def stop(capture):
    with _lock:
        _captures.remove(capture)

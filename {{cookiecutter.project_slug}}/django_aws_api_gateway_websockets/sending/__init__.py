"""Sending to WebSocket connections through API Gateway's management API.

``WebSocketSession.send_message`` and ``WebSocketSession.objects.filter(...).send_message``
end in :func:`send_to_sessions`. The parts: ``fanout`` (serialise once, group by
endpoint, mark gone connections), ``transport`` (the HTTP posts, concurrent and
retried), ``signing`` (SigV4 for ``execute-api``) and ``capture`` (tests record sends
instead of posting them).
"""

from .fanout import MAX_PAYLOAD_BYTES, PayloadTooLarge, close_sessions, encode_payload, send_to_sessions
from .transport import SendReport

__all__ = ["MAX_PAYLOAD_BYTES", "PayloadTooLarge", "SendReport", "close_sessions", "encode_payload", "send_to_sessions"]

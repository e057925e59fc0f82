"""Open WebSocket connections, by connection id."""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from .state import utc_now

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Connection:
    """One client socket held by the gateway."""

    connection_id: str
    api_id: str
    stage: str
    websocket: object
    source_ip: str
    user_agent: str
    # The deployment the socket was opened with: $disconnect still has routes when
    # DeleteStage or DeleteApi took the live one away.
    snapshot: object = None
    connected_at: datetime = field(default_factory=utc_now)
    last_active_at: datetime = field(default_factory=utc_now)
    # Monotonic clock readings for the idle and maximum-duration limits.
    connected_monotonic: float = 0.0
    last_active_monotonic: float = 0.0
    # Why the gateway closed the socket, when it did (idle timeout, DELETE, ...).
    close_reason: str = ""
    closing: bool = False
    # The task closing the socket, once one was started (only Gateway.close_soon sets it).
    close_task: object = None

    def touch(self):
        """Record data activity in either direction (resets the idle timer)."""
        self.last_active_at = utc_now()
        self.last_active_monotonic = asyncio.get_running_loop().time()

    async def send(self, payload):
        """Send ``payload`` (bytes) as one frame: text when it is UTF-8, else binary.

        Returns False when the socket is already closing or gone.
        """
        if self.closing or self.websocket.closed:
            return False
        try:
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError:
                await self.websocket.send_bytes(payload)
            else:
                await self.websocket.send_str(text)
        except (ConnectionError, RuntimeError):
            return False
        self.touch()
        return True

    async def close(self, code, reason):
        """Close the socket with ``code``; later management calls answer 410."""
        if self.closing:
            return
        self.closing = True
        self.close_reason = reason
        try:
            await self.websocket.close(code=code, message=reason.encode()[:120])
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            logger.debug("Connection %s was already gone while closing", self.connection_id)


class ConnectionRegistry:
    """The open connections; a connection is here only once its $connect succeeded."""

    def __init__(self):
        self._connections: dict[str, Connection] = {}

    def add(self, connection):
        self._connections[connection.connection_id] = connection

    def remove(self, connection):
        self._connections.pop(connection.connection_id, None)

    def get(self, connection_id):
        return self._connections.get(connection_id)

    def open_on(self, api_id, stage):
        """The open connection objects of one API stage."""
        return [c for c in self._connections.values() if c.api_id == api_id and c.stage == stage]

    def all(self):
        return list(self._connections.values())

    def __len__(self):
        return len(self._connections)

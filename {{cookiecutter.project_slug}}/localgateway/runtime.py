"""What every handler of one gateway shares: state, limits, open sockets, HTTP client."""

import asyncio
import contextlib
import logging

from aiohttp import web

from .config import GatewayConfig
from .connections import ConnectionRegistry
from .faults import FaultInjector
from .integration import new_client_session
from .state import GatewayState

logger = logging.getLogger(__name__)


class Gateway:
    """The running gateway: one per aiohttp application."""

    def __init__(self, config=None, state=None):
        self.config = config or GatewayConfig()
        self.state = state or GatewayState(self.config.state_file)
        self.connections = ConnectionRegistry()
        self.faults = FaultInjector()
        self.http = None
        # Background work (message and $disconnect calls) kept so it is not lost.
        self.tasks = set()
        # One future per WebSocket client being served (handshake, open socket, then its
        # $disconnect call), resolved when that is over: what idle() waits for besides tasks.
        self.clients = set()

    def spawn(self, coroutine):
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    @contextlib.contextmanager
    def serving_client(self):
        """Count one WebSocket client as in progress until the block ends."""
        finished = asyncio.get_running_loop().create_future()
        self.clients.add(finished)
        try:
            yield
        finally:
            self.clients.discard(finished)
            finished.set_result(None)

    async def idle(self):
        """Return once no client is connecting or connected and every integration call
        they caused (each message, each $disconnect) has been answered."""
        while busy := [*self.clients, *(task for task in self.tasks if not task.done())]:
            await asyncio.wait(busy)

    def close_soon(self, connection, code, reason):
        """Start closing ``connection`` unless a close already started; its task.

        Callable from synchronous code (the frame guard). The first close wins, so
        the task _serve waits for is never replaced by a later one.
        """
        if connection.close_task is None:
            connection.close_task = self.spawn(connection.close(code, reason))
        return connection.close_task

    async def start(self, app):
        self.http = new_client_session()

    async def close_all_connections(self, app):
        """Gateway shutdown: close every socket (each then gets its $disconnect)."""
        connections = self.connections.all()
        if connections:
            logger.info("Closing %d open connection(s) for shutdown", len(connections))
        await asyncio.gather(
            *(self.close_soon(connection, 1001, "Going away") for connection in connections), return_exceptions=True
        )

    async def stop(self, app):
        pending = [task for task in self.tasks if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=self.config.disconnect_timeout_seconds)
        for task in pending:
            task.cancel()
        if self.http is not None:
            await self.http.close()


GATEWAY = web.AppKey("gateway", Gateway)

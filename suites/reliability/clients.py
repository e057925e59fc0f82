"""WebSocket clients for tests that talk to the local gateway from synchronous code.

The clients (aiohttp) run on an event loop in a thread of their own, so the test's
own thread stays free of a running loop and may use the ORM as any Django code does.
Everything is on 127.0.0.1 and closed by :meth:`WebSocketClients.close`.
"""

import asyncio
import json
import threading

import aiohttp

from tests.localgateway.support import WAIT_SECONDS


class WebSocketClients:
    """Opens sockets and reads their frames, one blocking call at a time."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="websocket-clients", daemon=True)
        self.thread.start()
        self.http = None
        self.sockets = []

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(3 * WAIT_SECONDS)

    def connect(self, url, headers):
        """Open a socket (raises aiohttp.WSServerHandshakeError when refused)."""

        async def open_socket():
            if self.http is None:
                self.http = aiohttp.ClientSession()
            socket = await self.http.ws_connect(url, headers=headers)
            self.sockets.append(socket)
            return socket

        return self._run(open_socket())

    def receive_json(self, socket):
        """The next frame of ``socket``, decoded (fails on anything but a text frame)."""

        async def receive():
            return await socket.receive(timeout=WAIT_SECONDS)

        message = self._run(receive())
        if message.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"expected a text frame, got {message}")
        return json.loads(message.data)

    def close_socket(self, socket):
        self._run(socket.close())
        self.sockets.remove(socket)

    def close(self):
        async def shut_down():
            for socket in self.sockets:
                await socket.close()
            if self.http is not None:
                await self.http.close()

        try:
            self._run(shut_down())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(WAIT_SECONDS)
            self.loop.close()

"""Run a local gateway in a background thread (tests, benchmarks, scripts).

::

    with ThreadedGateway(GatewayConfig(idle_timeout_seconds=1)) as gateway:
        boto3.client("apigatewayv2", endpoint_url=gateway.url, ...)
        ...

It listens on 127.0.0.1 on a free port, runs its own event loop, and stops (closing
every socket, which delivers the ``$disconnect`` calls) when the block ends.
"""

import asyncio
import threading

from aiohttp import web

from .config import GatewayConfig
from .runtime import GATEWAY
from .server import create_app


class ThreadedGateway:
    """A local gateway on its own thread and event loop."""

    def __init__(self, config=None, host="127.0.0.1", port=0, state=None):
        self.config = config or GatewayConfig()
        self.host = host
        self.port = port
        self._state = state
        self._loop = None
        self._thread = None
        self._runner = None
        self.app = None

    # -- addresses ------------------------------------------------------------------

    @property
    def url(self):
        """Base URL: the control plane's endpoint_url."""
        return f"http://{self.host}:{self.port}"

    def websocket_url(self, stage):
        return f"ws://{self.host}:{self.port}/{stage}"

    def management_url(self, stage):
        """endpoint_url for a boto3 ``apigatewaymanagementapi`` client."""
        return f"{self.url}/{stage}"

    @property
    def gateway(self):
        """The running :class:`~.runtime.Gateway` (read it through :meth:`call`)."""
        return self.app[GATEWAY]

    # -- lifecycle ------------------------------------------------------------------

    def start(self):
        ready = threading.Event()
        failure = []

        def serve():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._start_site())
            except Exception as exc:  # reported to the starting thread below
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="local-api-gateway", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        return self

    async def _start_site(self):
        self.app = create_app(self.config, self._state)
        self._runner = web.AppRunner(
            self.app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=self.config.disconnect_timeout_seconds + self.config.close_timeout_seconds,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def call(self, function, *args):
        """Run ``function(*args)`` on the gateway's loop and return its result."""

        async def invoke():
            return function(*args)

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result(30)

    def wait_until_idle(self, timeout=30):
        """Block until every client socket is closed and every integration call it caused
        (its messages, its ``$disconnect``) has been answered; TimeoutError after ``timeout``
        seconds. Closing a client does not wait for its ``$disconnect``; a test that next
        reads or empties the database calls this first. A stopped gateway is idle."""
        if self._loop is None or not self._loop.is_running():
            return
        idle = asyncio.wait_for(self.gateway.idle(), timeout)
        asyncio.run_coroutine_threadsafe(idle, self._loop).result()

    def stop(self):
        if self._loop is None or not self._loop.is_running():
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)

    def __enter__(self):
        return self if self._loop is not None else self.start()

    def __exit__(self, *exc_info):
        self.stop()


__all__ = ["GatewayConfig", "ThreadedGateway"]

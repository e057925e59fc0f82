"""The WebSocket clients of the fan-out benchmark, and the $connect integration they need.

One process (started by ``run.py``) that:

* serves ``POST /connect``: the local gateway's ``$connect`` integration. It accepts
  every connection and records the gateway's ``Connectionid`` header against the
  ``?client=<n>`` the client put in its query string;
* opens the WebSocket clients through the local gateway and counts, per client, the
  frames that arrive;
* answers the orchestrator on ``/control/...`` (open, wait, mark, stats, close).

It listens on 127.0.0.1 only and prints ``{"port": N}`` once ready.
"""

import asyncio
import json
import sys
import time

import aiohttp
from aiohttp import web


class Farm:
    def __init__(self):
        self.connection_ids = {}  # client number -> connection id
        self.sockets = {}  # client number -> ClientWebSocketResponse
        self.counts = {}  # client number -> frames received
        self.groups = {}  # group name -> [client numbers]
        self.frames = 0
        self.last_frame = 0.0
        self.readers = set()
        self.session = None

    async def read(self, number, websocket):
        async for message in websocket:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.counts[number] += 1
                self.frames += 1
                self.last_frame = time.monotonic()

    async def open_one(self, url, number, limiter):
        async with limiter:
            websocket = await self.session.ws_connect(f"{url}?client={number}", autoping=True, heartbeat=None)
        self.sockets[number] = websocket
        self.counts[number] = 0
        task = asyncio.create_task(self.read(number, websocket))
        self.readers.add(task)
        task.add_done_callback(self.readers.discard)

    async def open(self, url, sizes):
        if self.session is None:
            # limit=0: every WebSocket holds its own TCP connection.
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        limiter = asyncio.Semaphore(50)
        next_number = len(self.sockets)
        opened = {}
        for name, size in sizes.items():
            numbers = list(range(next_number, next_number + size))
            next_number += size
            await asyncio.gather(*(self.open_one(url, number, limiter) for number in numbers))
            self.groups[name] = numbers
            opened[name] = [self.connection_ids[number] for number in numbers]
        return opened

    def shortfall(self, group, each):
        numbers = self.groups[group]
        short = sum(1 for n in numbers if self.counts[n] < each)
        over = sum(1 for n in numbers if self.counts[n] > each)
        return short, over

    async def close(self):
        await asyncio.gather(*(ws.close() for ws in self.sockets.values()), return_exceptions=True)
        if self.session is not None:
            await self.session.close()


FARM = web.AppKey("farm", Farm)


async def connect_integration(request):
    number = request.query.get("client")
    connection_id = request.headers.get("Connectionid", "")
    if number is None or not connection_id:
        return web.Response(status=400)
    request.app[FARM].connection_ids[int(number)] = connection_id
    return web.Response(status=200)


async def control_open(request):
    data = await request.json()
    opened = await request.app[FARM].open(data["url"], data["groups"])
    return web.json_response({"groups": opened})


async def control_wait(request):
    """Wait until every client of ``group`` has ``each`` frames; report any shortfall."""
    farm = request.app[FARM]
    group, each = request.query["group"], int(request.query["each"])
    deadline = time.monotonic() + float(request.query.get("timeout", "10"))
    short, over = farm.shortfall(group, each)
    while short and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
        short, over = farm.shortfall(group, each)
    return web.json_response({"ok": short == 0 and over == 0, "short": short, "over": over})


async def control_stats(request):
    farm = request.app[FARM]
    return web.json_response({"frames": farm.frames, "last_frame": farm.last_frame, "now": time.monotonic()})


async def control_close(request):
    await request.app[FARM].close()
    return web.json_response({"ok": True})


async def main():
    app = web.Application()
    app[FARM] = Farm()
    app.router.add_post("/connect", connect_integration)
    app.router.add_post("/control/open", control_open)
    app.router.add_get("/control/wait", control_wait)
    app.router.add_get("/control/stats", control_stats)
    app.router.add_post("/control/close", control_close)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(json.dumps({"port": runner.addresses[0][1]}), flush=True)
    # Run until the orchestrator closes our stdin (or kills us).
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await app[FARM].close()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())

"""A bare management endpoint: answers every ``POST /<stage>/@connections/<id>`` with
200 after a fixed delay, and nothing else.

Issue 3's yardstick: the senders are compared "against the same loopback management
endpoint", one that costs this machine as little as AWS does, with and without a
20 ms answer delay standing for the round trip to a region. No WebSocket clients,
no gateway logic: what is left is each sender's own cost.

    python endpoint.py --port P [--delay-ms 20]
"""

import argparse
import asyncio

from aiohttp import web


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0)
    args = parser.parse_args()
    delay = args.delay_ms / 1000

    async def post(request):
        await request.read()
        if delay:
            await asyncio.sleep(delay)
        return web.Response(status=200)

    async def health(request):
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{stage}/@connections/{connection_id}", post)
    app.router.add_get("/health", health)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()

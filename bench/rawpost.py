"""A bare client loop against the management API: the endpoint's own capacity.

No Django, no database, no per-request signing: one Authorization header, shaped
like SigV4 (the local gateway checks the shape and the service, not the signature),
is computed once and reused, so what is measured is how fast the local gateway can
take PostToConnection calls on this machine. Two clients, with the same fixed
number of workers pulling from one list of posts:

* ``aiohttp``: a pooled ``aiohttp.ClientSession``, as any asyncio program would;
* ``minimal``: one keep-alive HTTP/1.1 connection per worker on a bare asyncio
  Protocol that writes pre-built request bytes and reads only the status line and
  Content-Length. It costs the poster far less CPU, so on a 2-core machine it shows
  the gateway's limit rather than the client's.

    python rawpost.py --endpoint http://127.0.0.1:P/bench --ids-file F --group fan1000 \
        [--repeat 1] [--concurrency 100] [--client minimal|aiohttp]

Prints ``{"elapsed", "posts", "ok", "statuses", "started"}`` (``started`` is
``time.monotonic()``, comparable with the clients' process on this machine).
"""

import argparse
import asyncio
import json
import time
from collections import Counter
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=bench-key-id/20260101/us-east-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)


class MinimalConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request in flight (answers carry Content-Length)."""

    def __init__(self):
        self.transport = None
        self.buffer = b""
        self.waiter = None

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    def data_received(self, data):
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].split(b"\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(self.buffer) < end + 4 + length:
            return
        self.buffer = self.buffer[end + 4 + length :]
        self.waiter.set_result(int(head[0].split(b" ")[1]))

    async def post(self, raw):
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


async def post_all_minimal(endpoint, connection_ids, repeat, concurrency):
    parts = urlsplit(endpoint)
    body = json.dumps({"type": "raw", "text": "x" * 64}).encode()
    head = (
        f"Host: {parts.netloc}\r\nX-Amz-Date: 20260101T000000Z\r\nAuthorization: {AUTHORIZATION}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    base = parts.path.rstrip("/") + "/@connections/"
    requests = [f"POST {base}{quote(cid, safe='')} HTTP/1.1\r\n".encode() + head + body for cid in connection_ids]
    pending = iter([raw for _ in range(repeat) for raw in requests])
    statuses = Counter()
    loop = asyncio.get_running_loop()
    connections = [
        (await loop.create_connection(MinimalConnection, parts.hostname, parts.port))[1] for _ in range(concurrency)
    ]

    async def work(connection):
        for raw in pending:
            statuses[await connection.post(raw)] += 1

    started = time.monotonic()
    clock = time.perf_counter()
    await asyncio.gather(*(work(connection) for connection in connections))
    elapsed = time.perf_counter() - clock
    for connection in connections:
        connection.transport.close()
    return started, elapsed, statuses


async def post_all_aiohttp(endpoint, connection_ids, repeat, concurrency):
    body = json.dumps({"type": "raw", "text": "x" * 64}).encode()
    headers = {"Authorization": AUTHORIZATION, "X-Amz-Date": "20260101T000000Z"}
    base = endpoint.rstrip("/") + "/@connections/"
    urls = [URL(base + quote(cid, safe=""), encoded=True) for cid in connection_ids]
    pending = iter([url for _ in range(repeat) for url in urls])
    statuses = Counter()
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as session:

        async def work():
            for url in pending:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    statuses[response.status] += 1

        started = time.monotonic()
        clock = time.perf_counter()
        await asyncio.gather(*(work() for _ in range(concurrency)))
        elapsed = time.perf_counter() - clock
    return started, elapsed, statuses


async def post_all(endpoint, connection_ids, repeat, concurrency, client):
    runner = post_all_minimal if client == "minimal" else post_all_aiohttp
    started, elapsed, statuses = await runner(endpoint, connection_ids, repeat, concurrency)
    posts = sum(statuses.values())
    return {
        "elapsed": elapsed,
        "posts": posts,
        "ok": statuses.get(200, 0) == posts,
        "statuses": {str(k): v for k, v in statuses.items()},
        "started": started,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--ids-file", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--client", choices=("minimal", "aiohttp"), default="minimal")
    args = parser.parse_args()
    with open(args.ids_file) as handle:
        ids = json.load(handle)[args.group]
    print(json.dumps(asyncio.run(post_all(args.endpoint, ids, args.repeat, args.concurrency, args.client))))


if __name__ == "__main__":
    main()

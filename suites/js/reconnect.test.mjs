// Reconnection: exponential backoff with full jitter, retry limits, token
// failures, 401/403, minUptime and the handshake timeout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiGatewaySocket, setup, connected, settle } from "./fakes.mjs";

test("backoff grows by the factor up to maxDelay (random() = 1 gives the ceiling)", async () => {
  const t = await connected({ minDelay: 1000, backoffFactor: 2, maxDelay: 10_000 });
  t.ws.finishClose(1006, "", false);
  for (let i = 0; i < 6; i++) {
    await t.nextAttempt();
    t.ws.fail();
  }
  const delays = t.of("reconnecting").map((e) => e.delay);
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  assert.deepEqual(
    t.of("reconnecting").map((e) => e.attempt),
    [1, 2, 3, 4, 5, 6, 7]
  );
  assert.equal(t.client.retryCount, 7);
  t.client.close();
});

test("no attempt starts before its delay has passed", async () => {
  const t = await connected({ minDelay: 1000, backoffFactor: 2 });
  t.ws.finishClose();
  await settle();
  const before = t.fetch.calls.length;
  await t.clock.advance(999);
  assert.equal(t.fetch.calls.length, before, "too early");
  await t.clock.advance(1);
  assert.equal(t.fetch.calls.length, before + 1);
  t.client.close();
});

test("full jitter: delay = floor(random() * min(maxDelay, minDelay * factor^n))", async () => {
  const randoms = [0.5, 0.25, 0.9, 0, 0.999, 0.1];
  let i = 0;
  const t = await connected({
    minDelay: 500,
    backoffFactor: 3,
    maxDelay: 20_000,
    random: () => randoms[i++ % randoms.length],
  });
  t.ws.finishClose();
  for (let k = 0; k < 5; k++) {
    await t.nextAttempt();
    t.ws.fail();
  }
  const delays = t.of("reconnecting").map((e) => e.delay);
  const ceilings = [500, 1500, 4500, 13_500, 20_000, 20_000];
  delays.forEach((d, n) => {
    assert.ok(d >= 0 && d <= ceilings[n], `delay ${d} outside [0, ${ceilings[n]}]`);
    assert.equal(d, Math.floor(randoms[n] * ceilings[n]));
  });
  t.client.close();
});

test("the ceiling never passes maxDelay, even after many attempts", async () => {
  const t = await connected({ minDelay: 1000, backoffFactor: 10, maxDelay: 5000 });
  t.ws.finishClose();
  for (let k = 0; k < 30; k++) {
    await t.nextAttempt();
    t.ws.fail();
  }
  assert.ok(t.of("reconnecting").every((e) => e.delay <= 5000));
  assert.equal(t.of("reconnecting").pop().delay, 5000);
  t.client.close();
});

test("maxRetries: gives up with a giveup event, readyState CLOSED, nothing pending", async () => {
  const t = await connected({ maxRetries: 2 });
  t.ws.finishClose();
  await t.nextAttempt();
  t.ws.fail();
  await t.nextAttempt();
  t.ws.fail();
  await settle();
  assert.equal(t.of("reconnecting").length, 2);
  assert.deepEqual(
    t.of("giveup").map((e) => e.attempts),
    [2]
  );
  assert.equal(t.client.readyState, ApiGatewaySocket.CLOSED);
  assert.equal(t.clock.pending(), 0);
  assert.equal(t.win.count(), 0, "online/offline listeners removed");
  const sockets = t.WS.instances.length;
  await t.clock.advance(24 * 3600_000);
  assert.equal(t.WS.instances.length, sockets, "no attempt after giving up");
  // An explicit open() starts again.
  t.client.open();
  await settle();
  assert.equal(t.WS.instances.length, sockets + 1);
  t.client.close();
});

test("maxRetries: 0 never retries", async () => {
  const t = await connected({ maxRetries: 0 });
  t.ws.finishClose();
  await t.clock.advance(3600_000);
  assert.equal(t.WS.instances.length, 1);
  assert.equal(t.of("giveup").length, 1);
});

test("a token network error backs off and retries", async () => {
  const t = setup({}, { plan: [new TypeError("Failed to fetch"), new TypeError("Failed to fetch")] });
  await settle();
  const err = t.of("error")[0];
  assert.equal(err.error.name, "TokenError");
  assert.equal(err.error.status, 0);
  assert.equal(err.error.cause.message, "Failed to fetch");
  assert.deepEqual(
    t.of("reconnecting").map((e) => [e.attempt, e.delay]),
    [[1, 1000]]
  );
  await t.nextAttempt();
  assert.deepEqual(
    t.of("reconnecting").map((e) => [e.attempt, e.delay]),
    [
      [1, 1000],
      [2, 2000],
    ]
  );
  assert.equal(t.WS.instances.length, 0);
  await t.nextAttempt();
  assert.equal(t.WS.instances.length, 1, "third token request succeeded");
  assert.equal(t.ws.params.get("ws_token"), "tok-1");
  t.client.close();
});

test("5xx and 429 from the token endpoint back off and retry", async () => {
  const t = setup({}, { plan: [500, 502, 429] });
  await settle();
  await t.nextAttempt();
  await t.nextAttempt();
  assert.deepEqual(
    t.of("error").map((e) => e.error.status),
    [500, 502, 429]
  );
  assert.equal(t.of("reconnecting").length, 3);
  assert.equal(t.of("unauthorized").length, 0);
  await t.nextAttempt();
  assert.equal(t.WS.instances.length, 1);
  t.client.close();
});

for (const status of [401, 403]) {
  test(`${status} from the token endpoint: unauthorized, and no more attempts`, async () => {
    const t = await connected();
    t.ws.finishClose(1001, "Going away");
    await settle();
    t.fetch.plan.push(status);
    await t.nextAttempt();
    const [u] = t.of("unauthorized");
    assert.equal(u.status, status);
    assert.equal(u.error.name, "TokenError");
    assert.equal(u.error.unauthorized, true);
    assert.equal(t.client.readyState, ApiGatewaySocket.CLOSED);
    assert.equal(t.clock.pending(), 0, "no retry timer");
    assert.equal(t.win.count(), 0);
    const fetches = t.fetch.calls.length;
    await t.clock.advance(24 * 3600_000);
    t.win.dispatch("online");
    await settle();
    assert.equal(t.fetch.calls.length, fetches, "no token request after unauthorized");
    assert.equal(t.WS.instances.length, 1);
  });
}

test("getToken throwing an error with status 403 counts as unauthorized", async () => {
  const t = setup({
    getToken: async () => {
      throw Object.assign(new Error("session expired"), { status: 403 });
    },
  });
  await settle();
  assert.equal(t.of("unauthorized").length, 1);
  assert.equal(t.of("reconnecting").length, 0);
  assert.equal(t.clock.pending(), 0);
});

test("a connection that drops before minUptime keeps the attempt counter", async () => {
  const t = setup({ minUptime: 5000 });
  await settle();
  t.ws.fail();
  await t.nextAttempt();
  t.ws.fail();
  await t.nextAttempt();
  assert.equal(t.client.retryCount, 2);
  t.ws.open();
  await t.clock.advance(4999);
  assert.equal(t.client.retryCount, 2, "not reset before minUptime");
  t.ws.finishClose(1006, "", false);
  const last = t.of("reconnecting").pop();
  assert.equal(last.attempt, 3);
  assert.equal(last.delay, 4000, "backoff kept growing");
  t.client.close();
});

test("a connection that stays up minUptime resets the attempt counter", async () => {
  const t = setup({ minUptime: 5000 });
  await settle();
  t.ws.fail();
  await t.nextAttempt();
  t.ws.fail();
  await t.nextAttempt();
  t.ws.open();
  await t.clock.advance(5000);
  assert.equal(t.client.retryCount, 0);
  t.ws.finishClose(1001, "Going away");
  const last = t.of("reconnecting").pop();
  assert.equal(last.attempt, 1);
  assert.equal(last.delay, 1000);
  t.client.close();
});

test("a handshake that never opens times out, is closed and retried", async () => {
  const t = setup({ connectionTimeout: 4000 });
  await settle();
  const first = t.ws;
  await t.clock.advance(3999);
  assert.equal(t.of("error").length, 0);
  await t.clock.advance(1);
  const [err] = t.of("error");
  assert.equal(err.error.name, "ConnectionTimeoutError");
  assert.equal(err.error.timeout, 4000);
  const [closed] = t.of("close");
  assert.equal(closed.code, 1006);
  assert.equal(closed.wasClean, false);
  assert.equal(first.closeCalls.length, 1, "the stuck socket is closed");
  assert.equal(first.handlerCount(), 0, "and forgotten");
  assert.equal(t.of("reconnecting").length, 1);
  await t.nextAttempt();
  assert.equal(t.WS.instances.length, 2);
  assert.equal(t.ws.params.get("ws_token"), "tok-2");
  first.open(); // a late open of the abandoned socket changes nothing
  assert.equal(t.of("open").length, 0);
  t.client.close();
});

test("a socket that opens in time is not timed out", async () => {
  const t = setup({ connectionTimeout: 4000 });
  await settle();
  await t.clock.advance(3000);
  t.ws.open();
  await t.clock.advance(10_000);
  assert.equal(t.of("error").length, 0);
  assert.equal(t.client.readyState, ApiGatewaySocket.OPEN);
  t.client.close();
});

test("close codes from the server are passed on, then a reconnect follows", async () => {
  const t = await connected();
  t.ws.finishClose(1001, "Going away", true);
  const [closed] = t.of("close");
  assert.deepEqual([closed.code, closed.reason, closed.wasClean], [1001, "Going away", true]);
  assert.equal(t.client.readyState, ApiGatewaySocket.CONNECTING);
  assert.deepEqual(t.types("open", "close", "reconnecting"), ["open", "close", "reconnecting"]);
  t.client.close();
});

test("rws option names are accepted as aliases", async () => {
  const t = await connected({ minReconnectionDelay: 300, reconnectionDelayGrowFactor: 3, maxReconnectionDelay: 1000 });
  t.ws.finishClose();
  await t.nextAttempt();
  t.ws.fail();
  await t.nextAttempt();
  t.ws.fail();
  assert.deepEqual(
    t.of("reconnecting").map((e) => e.delay),
    [300, 900, 1000]
  );
  t.client.close();
});

test("bad options are refused with a clear TypeError", () => {
  const WS = class {};
  assert.throws(() => new ApiGatewaySocket("wss://x", { WebSocket: WS, maxRetry: 3 }), /unknown option "maxRetry"/);
  assert.throws(() => new ApiGatewaySocket("wss://x", { WebSocket: WS, minDelay: -1 }), /minDelay/);
  assert.throws(() => new ApiGatewaySocket("wss://x", { WebSocket: WS, backoffFactor: 0.5 }), /backoffFactor/);
  assert.throws(
    () => new ApiGatewaySocket("wss://x", { WebSocket: WS, minDelay: 1, minReconnectionDelay: 2 }),
    /mean the same/
  );
  assert.throws(() => new ApiGatewaySocket("", { WebSocket: WS }), /url must be/);
  const saved = globalThis.WebSocket; // Node 22+ has one; Node 20 has none
  globalThis.WebSocket = undefined;
  try {
    assert.throws(() => new ApiGatewaySocket("wss://x", { tokenUrl: null }), /no WebSocket implementation/);
  } finally {
    if (saved === undefined) delete globalThis.WebSocket;
    else globalThis.WebSocket = saved;
  }
});

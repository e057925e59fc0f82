// API Gateway's limits: the 10-minute idle timeout (heartbeat), the 2-hour
// maximum connection time (make-before-break refresh) and the 128 KB message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiGatewaySocket, setup, connected, settle, deferred } from "./fakes.mjs";

const MIN = 60_000;

test("heartbeat: {\"action\": \"heartbeat\"} every 5 minutes by default", async () => {
  const t = await connected();
  await t.clock.advance(5 * MIN - 1);
  assert.deepEqual(t.ws.sent, []);
  await t.clock.advance(1);
  assert.deepEqual(t.ws.sentJSON(), [{ action: "heartbeat" }]);
  await t.clock.advance(5 * MIN);
  assert.equal(t.ws.sent.length, 2);
  t.client.close();
});

test("heartbeat interval and message are configurable (object or string)", async () => {
  const a = await connected({ heartbeatInterval: 30_000, heartbeatMessage: { action: "ping", handler: "ping" } });
  await a.clock.advance(90_000);
  assert.deepEqual(a.ws.sentJSON(), [
    { action: "ping", handler: "ping" },
    { action: "ping", handler: "ping" },
    { action: "ping", handler: "ping" },
  ]);
  a.client.close();

  const b = await connected({ heartbeatInterval: 1000, heartbeatMessage: "ping" });
  await b.clock.advance(2000);
  assert.deepEqual(b.ws.sent, ["ping", "ping"]);
  b.client.close();
});

test("heartbeat: false sends nothing and schedules no interval", async () => {
  const t = await connected({ heartbeat: false, refreshAfter: false });
  await t.clock.advance(5000); // minUptime timer done
  assert.equal(t.clock.pending(), 0);
  await t.clock.advance(60 * MIN);
  assert.deepEqual(t.ws.sent, []);
  t.client.close();
});

test("heartbeat stops while disconnected and restarts on the new connection", async () => {
  const t = await connected({ heartbeatInterval: 1000 });
  const first = t.ws;
  await t.clock.advance(1000);
  assert.equal(first.sent.length, 1);
  first.finishClose();
  await t.clock.advance(500); // reconnect delay is 1000: still waiting
  assert.equal(first.sent.length, 1);
  assert.ok(t.clock.scheduled().every((x) => !x.repeat), "no interval while disconnected");
  await t.clock.advance(500);
  const second = t.ws;
  assert.notEqual(second, first);
  await t.clock.advance(5000);
  assert.equal(second.sent.length, 0, "nothing before open");
  second.open();
  await t.clock.advance(1000);
  assert.equal(second.sent.length, 1);
  t.client.close();
});

test("refresh: a new socket with a fresh token at 115 minutes, switch on open, then the old one closes", async () => {
  const t = await connected({ channel: "news" });
  const old = t.ws;
  const firstOpen = t.client.connectedAt;
  assert.equal(firstOpen, t.clock.now());
  await t.clock.advance(115 * MIN - 1);
  assert.equal(t.fetch.calls.length, 1);
  await t.clock.advance(1);
  assert.equal(t.fetch.calls.length, 2, "fresh token fetched");
  assert.equal(t.WS.instances.length, 2);
  const fresh = t.ws;
  assert.equal(fresh.params.get("ws_token"), "tok-2");
  assert.equal(fresh.params.get("channel"), "news");
  assert.equal(old.closeCalls.length, 0, "old socket still open while the new one connects");
  assert.equal(t.client.readyState, ApiGatewaySocket.OPEN);
  assert.equal(t.client.socket, old);

  fresh.open();
  assert.equal(t.client.socket, fresh);
  assert.equal(t.client.connectedAt, firstOpen + 115 * MIN, "the age restarts with the new connection");
  assert.deepEqual(old.closeCalls, [{ code: 1000, reason: "connection refreshed" }]);
  const opens = t.of("open");
  assert.equal(opens.length, 2);
  assert.equal(opens[0].refreshed, false);
  assert.equal(opens[1].refreshed, true);
  assert.equal(t.of("close").length, 0, "no close event for a refresh");
  assert.equal(t.of("reconnecting").length, 0);
  t.client.close();
});

test("refresh loses nothing: sends before, during and after the switch all arrive in order", async () => {
  const t = await connected({ heartbeat: false });
  const old = t.ws;
  const late = [];
  t.client.on("late", (e) => late.push(e.data.n));
  t.client.sendJSON({ n: 1 });
  const tokenAnswer = deferred();
  t.fetch.plan.push(() => tokenAnswer.promise);
  await t.clock.advance(115 * MIN);
  t.client.sendJSON({ n: 2 }); // token still being fetched
  tokenAnswer.resolve({ status: 200, ok: true, json: async () => ({ token: "fresh", expires_in: 60 }) });
  await settle();
  const fresh = t.ws;
  assert.notEqual(fresh, old);
  t.client.sendJSON({ n: 3 }); // new socket still connecting
  fresh.open();
  t.client.sendJSON({ n: 4 });
  old.receive('{"type":"late","n":"in flight"}'); // the old socket still delivers
  old.finishClose(1000, "connection refreshed");
  t.client.sendJSON({ n: 5 });
  const all = [...old.sentJSON(), ...fresh.sentJSON()].map((m) => m.n);
  assert.deepEqual(all, [1, 2, 3, 4, 5]);
  assert.deepEqual(
    old.sentJSON().map((m) => m.n),
    [1, 2, 3]
  );
  assert.equal(t.client.queueLength, 0);
  assert.deepEqual(late, ["in flight"]);
  assert.equal(old.handlerCount(), 0, "retired socket forgotten once closed");
  assert.equal(t.of("close").length, 0);
  t.client.close();
});

test("refresh repeats every 115 minutes on the new connection", async () => {
  const t = await connected({ refreshAfter: 10 * MIN, heartbeat: false });
  await t.clock.advance(10 * MIN);
  t.ws.open();
  await t.clock.advance(10 * MIN);
  assert.equal(t.WS.instances.length, 3);
  t.client.close();
});

test("a failed refresh keeps the current connection and tries again later", async () => {
  const t = await connected({ refreshAfter: 10 * MIN, heartbeat: false });
  const old = t.ws;
  await t.clock.advance(10 * MIN);
  t.ws.fail(); // replacement handshake refused
  await settle();
  assert.equal(t.client.socket, old);
  assert.equal(t.client.readyState, ApiGatewaySocket.OPEN);
  const [err] = t.of("error");
  assert.equal(err.refresh, true);
  assert.equal(t.of("close").length, 0);
  assert.equal(t.of("reconnecting").length, 0);
  // backoff for the next refresh try: random() = 1, first delay = minDelay
  await t.clock.advance(1000);
  assert.equal(t.WS.instances.length, 3);
  t.ws.open();
  assert.equal(t.client.socket, t.ws);
  assert.equal(old.closeCalls.length, 1);
  t.client.close();
});

test("a refresh whose token is refused closes and reports unauthorized", async () => {
  const t = await connected({ refreshAfter: 10 * MIN });
  t.fetch.plan.push(401);
  await t.clock.advance(10 * MIN);
  assert.equal(t.of("unauthorized").length, 1);
  assert.equal(t.client.readyState, ApiGatewaySocket.CLOSED);
  assert.equal(t.clock.pending(), 0);
  assert.equal(t.WS.instances[0].closeCalls.length, 1);
});

test("if the old connection drops while the replacement connects, normal reconnection takes over", async () => {
  const t = await connected({ refreshAfter: 10 * MIN, heartbeat: false });
  const old = t.ws;
  await t.clock.advance(10 * MIN);
  const replacement = t.ws;
  old.finishClose(1001, "Going away");
  assert.equal(replacement.closeCalls.length, 1, "half-open replacement abandoned");
  assert.equal(t.of("close").length, 1);
  assert.equal(t.of("reconnecting").length, 1);
  await t.nextAttempt();
  t.ws.open();
  assert.equal(t.client.readyState, ApiGatewaySocket.OPEN);
  t.client.close();
});

test("refresh() does the same on demand; refreshAfter: false disables the timer", async () => {
  const t = await connected({ refreshAfter: false, heartbeat: false });
  await t.clock.advance(5 * 3600_000);
  assert.equal(t.WS.instances.length, 1);
  assert.equal(t.client.refresh(), true);
  await settle();
  assert.equal(t.WS.instances.length, 2);
  t.ws.open();
  assert.equal(t.of("open").pop().refreshed, true);
  t.client.close();
  assert.equal(t.client.refresh(), false);
});

test("payloads over 128 KB (UTF-8 JSON) are refused with PayloadTooLargeError", async () => {
  const t = await connected({ heartbeat: false });
  const limit = 131072;
  // {"d":"xxx..."} is 8 bytes of JSON around the string.
  const fits = { d: "x".repeat(limit - 8) };
  assert.equal(Buffer.byteLength(JSON.stringify(fits)), limit);
  assert.equal(t.client.sendJSON(fits), true);
  const over = { d: "x".repeat(limit - 7) };
  assert.throws(
    () => t.client.sendJSON(over),
    (err) =>
      err instanceof ApiGatewaySocket.PayloadTooLargeError &&
      err.name === "PayloadTooLargeError" &&
      err.size === limit + 1 &&
      err.limit === limit &&
      /131072/.test(err.message)
  );
  // multi-byte characters count as bytes, not as characters
  const accents = { d: "é".repeat((limit - 8) / 2 + 1) };
  assert.ok(JSON.stringify(accents).length < limit);
  assert.throws(() => t.client.sendJSON(accents), ApiGatewaySocket.PayloadTooLargeError);
  assert.throws(() => t.client.send("upload", { blob: "€".repeat(50_000) }), ApiGatewaySocket.PayloadTooLargeError);
  assert.throws(() => t.client.sendRaw("y".repeat(limit + 1)), ApiGatewaySocket.PayloadTooLargeError);
  assert.equal(t.ws.sent.length, 1, "nothing over the limit went out");
  t.client.close();
});

test("oversized messages are refused before queueing too", async () => {
  const t = setup({ startClosed: true });
  assert.throws(() => t.client.sendJSON({ d: "x".repeat(200_000) }), ApiGatewaySocket.PayloadTooLargeError);
  assert.equal(t.client.queueLength, 0);
});

test("utf8Length agrees with Buffer.byteLength, surrogates included", () => {
  const samples = ["", "abc", "é", "€", "😀", "a😀b", "\ud800", "x\udc00y", "中文", "\u0000\u007f\u0080\u07ff\u0800\uffff"];
  for (const s of samples) {
    assert.equal(ApiGatewaySocket.utf8Length(s), Buffer.byteLength(s, "utf8"), JSON.stringify(s));
  }
  let rnd = 12345;
  for (let n = 0; n < 200; n++) {
    let s = "";
    for (let k = 0; k < 20; k++) {
      rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
      s += String.fromCharCode(rnd % 0x10000);
    }
    assert.equal(ApiGatewaySocket.utf8Length(s), Buffer.byteLength(s, "utf8"));
  }
});

test("binary frames are refused locally (API Gateway would close with 1003)", async () => {
  const t = await connected();
  assert.throws(() => t.client.sendRaw(new Uint8Array(4)), /binary frames/);
  t.client.close();
});

// Lifecycle: close(), reconnect(), switchChannel(), startClosed/open(),
// online/offline awareness, protocols and the debug hook.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiGatewaySocket, setup, connected, settle, deferred, tokenResponse } from "./fakes.mjs";

test("close() clears every timer and listener and never reconnects", async () => {
  const t = await connected({ heartbeatInterval: 1000 });
  const ws = t.ws;
  await t.clock.advance(1000);
  assert.ok(t.clock.pending() >= 3, "heartbeat, uptime and refresh timers were running");
  assert.equal(t.win.count(), 2, "online and offline listeners were bound");
  t.client.close();
  assert.equal(t.clock.pending(), 0, `timers left: ${JSON.stringify(t.clock.scheduled())}`);
  assert.equal(t.win.count(), 0);
  assert.equal(ws.handlerCount(), 0, "socket handlers removed");
  assert.deepEqual(ws.closeCalls, [{ code: 1000, reason: "" }]);
  assert.equal(t.client.readyState, ApiGatewaySocket.CLOSED);
  assert.equal(t.client.shouldReconnect, false);
  const [closed] = t.of("close");
  assert.deepEqual([closed.code, closed.wasClean], [1000, true]);
  // the server's close frame arrives later: nothing happens
  ws.finishClose(1000, "");
  t.win.dispatch("online");
  await t.clock.advance(24 * 3600_000);
  assert.equal(t.WS.instances.length, 1);
  assert.equal(t.fetch.calls.length, 1);
  assert.equal(t.of("close").length, 1);
  assert.equal(t.of("reconnecting").length, 0);
});

test("close() while waiting to reconnect cancels the retry", async () => {
  const t = await connected();
  assert.equal(t.client.shouldReconnect, true);
  t.ws.finishClose();
  assert.equal(t.client.shouldReconnect, true);
  assert.equal(t.clock.pending(), 1);
  t.client.close(4000, "bye");
  assert.equal(t.clock.pending(), 0);
  assert.equal(t.win.count(), 0);
  await t.clock.advance(3600_000);
  assert.equal(t.fetch.calls.length, 1);
  assert.deepEqual(
    t.of("close").map((e) => [e.code, e.reason]),
    [
      [1001, "Going away"],
      [4000, "bye"],
    ]
  );
});

test("close() during the token request: the late token opens no socket", async () => {
  const answer = deferred();
  const t = setup({}, { plan: [() => answer.promise] });
  await settle();
  t.client.close();
  answer.resolve(tokenResponse("late"));
  await t.clock.advance(3600_000);
  assert.equal(t.WS.instances.length, 0);
  assert.equal(t.clock.pending(), 0);
});

test("close() during a handshake closes that socket and clears the timeout", async () => {
  const t = setup();
  await settle();
  const ws = t.ws;
  t.client.close();
  assert.equal(ws.closeCalls.length, 1);
  assert.equal(ws.handlerCount(), 0);
  assert.equal(t.clock.pending(), 0);
});

test("close() during a refresh closes both sockets", async () => {
  const t = await connected({ refreshAfter: 1000 });
  const old = t.ws;
  await t.clock.advance(1000);
  const fresh = t.ws;
  assert.notEqual(fresh, old);
  t.client.close();
  assert.equal(old.closeCalls.length, 1);
  assert.equal(fresh.closeCalls.length, 1);
  assert.equal(old.handlerCount() + fresh.handlerCount(), 0);
  assert.equal(t.clock.pending(), 0);
});

test("close() after a refresh also forgets the retired socket", async () => {
  const t = await connected({ refreshAfter: 1000 });
  const old = t.ws;
  await t.clock.advance(1000);
  t.ws.open();
  assert.equal(old.handlerCount(), 2, "retired socket still drains messages");
  t.client.close();
  assert.equal(old.handlerCount(), 0);
  assert.equal(t.clock.pending(), 0);
});

test("a close listener calling close() stops reconnection", async () => {
  const t = await connected();
  t.client.on("close", () => t.client.close());
  t.ws.finishClose();
  await t.clock.advance(3600_000);
  assert.equal(t.WS.instances.length, 1);
  assert.equal(t.clock.pending(), 0);
});

test("destroy() also drops user listeners, handler properties and the queue", async () => {
  const t = setup();
  t.client.onmessage = () => {};
  t.client.sendJSON({ a: 1 });
  t.client.destroy();
  assert.equal(t.client.listenerCount("message"), 0);
  assert.equal(t.client.onmessage, null);
  assert.equal(t.client.queueLength, 0);
  assert.equal(t.clock.pending(), 0);
});

test("reconnect() replaces the connection with a fresh token at once", async () => {
  const t = await connected();
  const first = t.ws;
  t.ws.finishClose();
  await t.nextAttempt();
  t.ws.fail();
  assert.equal(t.client.retryCount, 2);
  t.client.reconnect();
  assert.equal(t.client.retryCount, 0, "explicit reconnect starts over");
  await settle();
  const fresh = t.ws;
  assert.notEqual(fresh, first);
  assert.equal(fresh.params.get("ws_token"), "tok-3");
  assert.equal(t.clock.scheduled().filter((x) => x.in > 0 && x.in < 10_000).length, 0, "no retry timer left");
  fresh.open();
  t.client.reconnect(4001, "user asked");
  assert.deepEqual(fresh.closeCalls, [{ code: 4001, reason: "user asked" }]);
  assert.equal(fresh.handlerCount(), 0);
  const last = t.of("close").pop();
  assert.deepEqual([last.code, last.reason], [4001, "user asked"]);
  await settle();
  assert.equal(t.WS.instances.length, 4);
  assert.equal(t.ws.params.get("ws_token"), "tok-4");
  t.client.close();
});

test("switchChannel() closes, fetches a new token and joins the new channel", async () => {
  const t = await connected({ channel: "alpha" });
  const old = t.ws;
  assert.equal(t.client.channel, "alpha");
  t.client.switchChannel("beta");
  assert.equal(t.client.channel, "beta");
  assert.deepEqual(old.closeCalls, [{ code: 1000, reason: "switching channel" }]);
  assert.equal(t.of("close").pop().reason, "switching channel");
  t.client.send("hello", { to: "beta" }); // queued during the switch
  await settle();
  assert.equal(t.fetch.calls.length, 2);
  const fresh = t.ws;
  assert.notEqual(fresh, old);
  assert.equal(fresh.params.get("channel"), "beta");
  assert.equal(fresh.params.get("ws_token"), "tok-2");
  fresh.open();
  assert.deepEqual(fresh.sentJSON(), [{ action: "default", handler: "hello", to: "beta" }]);
  assert.equal(old.sent.length, 0);
  // it stays on the new channel across reconnects
  fresh.finishClose();
  await t.nextAttempt();
  assert.equal(t.ws.params.get("channel"), "beta");
  assert.throws(() => t.client.switchChannel(""), TypeError);
  t.client.close();
});

test("switchChannel() during a token request discards the old attempt", async () => {
  const answer = deferred();
  const t = setup({ channel: "a" }, { plan: [() => answer.promise] });
  await settle();
  t.client.switchChannel("b");
  await settle();
  answer.resolve(tokenResponse("for-a"));
  await settle();
  assert.equal(t.WS.instances.length, 1);
  assert.equal(t.ws.params.get("channel"), "b");
  assert.notEqual(t.ws.params.get("ws_token"), "for-a");
  t.client.close();
});

test("startClosed: nothing happens until open()", async () => {
  const t = setup({ startClosed: true });
  await t.clock.advance(60_000);
  assert.equal(t.fetch.calls.length, 0);
  assert.equal(t.client.readyState, ApiGatewaySocket.CLOSED);
  assert.equal(t.win.count(), 0);
  t.client.sendJSON({ early: true });
  t.client.open();
  t.client.open(); // a second call does nothing
  await settle();
  assert.equal(t.WS.instances.length, 1);
  t.ws.open();
  assert.deepEqual(t.ws.sentJSON(), [{ early: true }]);
  t.client.close();
});

test("offline: a scheduled retry is suspended without using up an attempt", async () => {
  const t = await connected();
  t.ws.finishClose();
  assert.equal(t.client.retryCount, 1);
  t.state.online = false;
  t.win.dispatch("offline");
  assert.equal(t.client.retryCount, 0, "the cancelled attempt is given back");
  assert.equal(t.clock.pending(), 0);
  await t.clock.advance(3600_000);
  assert.equal(t.fetch.calls.length, 1, "no attempts while offline");
  assert.equal(t.client.readyState, ApiGatewaySocket.CONNECTING);
  t.state.online = true;
  t.win.dispatch("online");
  await settle();
  assert.equal(t.fetch.calls.length, 2, "reconnects at once when back online");
  assert.equal(t.WS.instances.length, 2);
  t.client.close();
});

test("offline: a failure while offline waits for online instead of backing off", async () => {
  const t = await connected();
  t.state.online = false;
  t.win.dispatch("offline");
  assert.equal(t.client.readyState, ApiGatewaySocket.OPEN, "an open socket is left alone");
  t.ws.finishClose(1006, "", false);
  assert.equal(t.of("reconnecting").length, 0);
  assert.equal(t.client.retryCount, 0);
  await t.clock.advance(3600_000);
  assert.equal(t.fetch.calls.length, 1);
  t.state.online = true;
  t.win.dispatch("online");
  await settle();
  assert.equal(t.WS.instances.length, 2);
  assert.equal(t.client.retryCount, 0);
  t.client.close();
});

test("a retry that falls due while offline is not used up", async () => {
  const t = await connected({ maxRetries: 1 });
  t.ws.finishClose();
  t.state.online = false; // navigator.onLine says offline, no event seen
  await t.nextAttempt();
  assert.equal(t.fetch.calls.length, 1, "no token request while offline");
  assert.equal(t.client.retryCount, 0);
  t.state.online = true;
  t.win.dispatch("online");
  await settle();
  assert.equal(t.fetch.calls.length, 2);
  t.client.close();
});

test("offline at start: waits for the online event", async () => {
  const t = setup({}, { online: false });
  await t.clock.advance(60_000);
  assert.equal(t.fetch.calls.length, 0);
  t.state.online = true;
  t.win.dispatch("online");
  await settle();
  assert.equal(t.fetch.calls.length, 1);
  assert.equal(t.WS.instances.length, 1);
  t.client.close();
});

test("online during a backoff wait connects promptly", async () => {
  const t = await connected({ minDelay: 20_000, maxDelay: 60_000 });
  t.ws.finishClose();
  await t.clock.advance(10);
  assert.equal(t.fetch.calls.length, 1);
  t.win.dispatch("online");
  await settle();
  assert.equal(t.fetch.calls.length, 2);
  assert.equal(t.client.retryCount, 0);
  t.client.close();
});

test("an attempt that fails because the network went away does not use up a retry", async () => {
  const t = await connected({ maxRetries: 1 });
  t.ws.finishClose();
  assert.equal(t.client.retryCount, 1);
  t.fetch.plan.push(() => {
    t.state.online = false; // the network drops during the request; the event comes later
    throw new TypeError("Failed to fetch");
  });
  await t.nextAttempt();
  assert.equal(t.of("error").length, 1);
  assert.equal(t.of("giveup").length, 0, "not counted against maxRetries");
  assert.equal(t.client.retryCount, 0);
  assert.equal(t.clock.pending(), 0, "no backoff timer while offline");
  t.win.dispatch("offline");
  t.state.online = true;
  t.win.dispatch("online");
  await settle();
  assert.equal(t.WS.instances.length, 2);
  t.ws.open();
  assert.equal(t.client.readyState, ApiGatewaySocket.OPEN);
  t.client.close();
});

test("protocols are passed to the WebSocket constructor; protocol and extensions are exposed", async () => {
  const t = setup({ protocols: ["chat.v2", "chat.v1"] });
  await settle();
  assert.deepEqual(t.ws.protocols, ["chat.v2", "chat.v1"]);
  t.ws.open("chat.v2");
  assert.equal(t.client.protocol, "chat.v2");
  assert.equal(t.client.extensions, "");
  t.client.close();

  const u = setup({ protocols: async () => "v3" });
  await settle();
  assert.equal(u.ws.protocols, "v3");
  u.client.close();

  const v = setup();
  await settle();
  assert.equal(v.ws.protocols, undefined, "no protocols argument by default");
  v.client.close();
});

test("debug: the logger hook receives messages, with the token redacted", async () => {
  const lines = [];
  const t = await connected({ debug: true, debugLogger: (...args) => lines.push(args.join(" ")) });
  assert.ok(lines.length > 0);
  assert.ok(lines.every((l) => l.startsWith("[ApiGatewaySocket]")));
  assert.ok(lines.some((l) => l.includes("ws_token=[redacted]")));
  assert.ok(!lines.some((l) => l.includes("tok-1")), "the token never reaches the log");
  assert.equal(t.client.url, "wss://ws.example.com/production?ws_token=[redacted]");
  t.client.close();

  const quiet = setup({ debugLogger: () => lines.push("nope") });
  const before = lines.length;
  await settle();
  assert.equal(lines.length, before, "no logging unless debug is on");
  quiet.client.close();
});

test("readyState constants match the WebSocket ones", () => {
  assert.deepEqual(
    [ApiGatewaySocket.CONNECTING, ApiGatewaySocket.OPEN, ApiGatewaySocket.CLOSING, ApiGatewaySocket.CLOSED],
    [0, 1, 2, 3]
  );
  const t = setup({ startClosed: true });
  assert.equal(t.client.OPEN, 1);
});

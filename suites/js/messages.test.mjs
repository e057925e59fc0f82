// Sending (payload shape, the bounded queue) and receiving (JSON decoding,
// typed events), and the listener API.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiGatewaySocket, setup, connected, settle } from "./fakes.mjs";

test("send(handler, params) sends {action, handler, ...params}", async () => {
  const t = await connected();
  assert.equal(t.client.send("chat", { text: "hi", n: 2 }), true);
  t.client.send("ping");
  assert.deepEqual(t.ws.sentJSON(), [
    { action: "default", handler: "chat", text: "hi", n: 2 },
    { action: "default", handler: "ping" },
  ]);
  assert.equal(t.ws.sent[0], '{"action":"default","handler":"chat","text":"hi","n":2}');
  t.client.close();
});

test("the action option names the API Gateway route; params may override it per message", async () => {
  const t = await connected({ action: "sendmessage" });
  t.client.send("chat", { text: "x" });
  t.client.send("admin", { action: "custom_route" });
  assert.deepEqual(t.ws.sentJSON(), [
    { action: "sendmessage", handler: "chat", text: "x" },
    { action: "custom_route", handler: "admin" },
  ]);
  t.client.close();
});

test("sendJSON sends any value as-is; sendRaw sends text as-is", async () => {
  const t = await connected();
  t.client.sendJSON({ custom: [1, 2], nested: { a: null } });
  t.client.sendJSON([1, "two"]);
  t.client.sendRaw("plain text");
  assert.deepEqual(t.ws.sent, ['{"custom":[1,2],"nested":{"a":null}}', '[1,"two"]', "plain text"]);
  t.client.close();
});

test("send validates its arguments", async () => {
  const t = await connected();
  assert.throws(() => t.client.send(""), TypeError);
  assert.throws(() => t.client.send(42), TypeError);
  assert.throws(() => t.client.send("x", "not an object"), TypeError);
  assert.throws(() => t.client.send("x", [1]), TypeError);
  assert.throws(() => t.client.sendJSON(undefined), TypeError);
  assert.throws(() => t.client.sendJSON(() => 1), TypeError);
  assert.equal(t.ws.sent.length, 0);
  t.client.close();
});

test("sends while not open are queued and flushed in order on open, before the open event", async () => {
  const t = setup();
  const flushedAtOpen = [];
  t.client.on("open", () => flushedAtOpen.push(t.ws.sent.length));
  assert.equal(t.client.send("a", { n: 1 }), false);
  t.client.sendJSON({ n: 2 });
  t.client.sendRaw('{"n":3}');
  assert.equal(t.client.queueLength, 3);
  assert.ok(t.client.bufferedAmount > 0);
  await settle();
  assert.deepEqual(t.ws.sent, [], "nothing sent before open");
  t.ws.open();
  assert.deepEqual(
    t.ws.sentJSON().map((m) => m.n),
    [1, 2, 3]
  );
  assert.deepEqual(flushedAtOpen, [3]);
  assert.equal(t.client.queueLength, 0);
  assert.equal(t.client.bufferedAmount, 0);
  t.client.close();
});

test("the queue keeps sends across a reconnect", async () => {
  const t = await connected();
  t.ws.finishClose();
  t.client.send("a", { n: 1 });
  t.client.send("a", { n: 2 });
  await t.nextAttempt();
  t.ws.open();
  assert.deepEqual(
    t.ws.sentJSON().map((m) => m.n),
    [1, 2]
  );
  t.client.close();
});

test("a full queue drops the oldest message and emits dropped with it", async () => {
  const t = setup({ maxQueueSize: 3 });
  for (let n = 1; n <= 5; n++) t.client.send("m", { n });
  assert.equal(t.client.queueLength, 3);
  const dropped = t.of("dropped");
  assert.deepEqual(
    dropped.map((e) => e.data.n),
    [1, 2]
  );
  assert.deepEqual(JSON.parse(dropped[0].raw), { action: "default", handler: "m", n: 1 });
  await settle();
  t.ws.open();
  assert.deepEqual(
    t.ws.sentJSON().map((m) => m.n),
    [3, 4, 5]
  );
  t.client.close();
});

test("the default queue holds 100 messages", async () => {
  const t = setup();
  for (let n = 0; n < 101; n++) t.client.sendJSON({ n });
  assert.equal(t.client.queueLength, 100);
  assert.deepEqual(
    t.of("dropped").map((e) => e.data.n),
    [0]
  );
  t.client.close();
});

test("maxQueueSize: 0 queues nothing and reports every send while closed", async () => {
  const t = setup({ maxQueueSize: 0 });
  t.client.sendRaw("a");
  assert.equal(t.client.queueLength, 0);
  assert.deepEqual(
    t.of("dropped").map((e) => e.data),
    ["a"]
  );
  t.client.close();
});

test("messages are JSON-decoded; non-JSON text passes through; empty frames are ignored", async () => {
  const t = await connected();
  t.ws.receive('{"greeting":"hello"}');
  t.ws.receive("not json {");
  t.ws.receive("");
  t.ws.receive("[1,2]");
  t.ws.receive("42");
  const messages = t.of("message");
  assert.deepEqual(
    messages.map((e) => e.data),
    [{ greeting: "hello" }, "not json {", [1, 2], 42]
  );
  assert.equal(messages[0].raw, '{"greeting":"hello"}');
  assert.equal(messages[0].target, t.client);
  t.client.close();
});

test("a message with a string type is also dispatched as an event of that name", async () => {
  const t = await connected();
  const got = [];
  t.client.on("chat.message", (e) => got.push(e.data));
  t.client.on("notification", (e) => got.push(e.data.type));
  t.ws.receive('{"type":"chat.message","text":"hi"}');
  t.ws.receive('{"type":"notification"}');
  t.ws.receive('{"type":42}');
  t.ws.receive('{"type":""}');
  assert.deepEqual(got, [{ type: "chat.message", text: "hi" }, "notification"]);
  assert.equal(t.of("message").length, 4, "every message is also a message event");
  t.client.close();
});

test("a type that names a lifecycle event is not dispatched as that event", async () => {
  const t = await connected();
  for (const name of ApiGatewaySocket.EVENTS) {
    t.ws.receive(JSON.stringify({ type: name }));
  }
  assert.equal(t.of("message").length, ApiGatewaySocket.EVENTS.length);
  assert.equal(t.of("close").length, 0);
  assert.equal(t.of("open").length, 1);
  assert.equal(t.of("error").length, 0);
  assert.equal(t.of("unauthorized").length, 0);
  assert.equal(t.client.readyState, ApiGatewaySocket.OPEN);
  t.client.close();
});

test("binary messages are passed through untouched", async () => {
  const t = await connected({ binaryType: "arraybuffer" });
  assert.equal(t.ws.binaryType, "arraybuffer");
  const buf = new ArrayBuffer(3);
  t.ws.receive(buf);
  assert.equal(t.of("message")[0].data, buf);
  t.client.binaryType = "blob";
  assert.equal(t.ws.binaryType, "blob");
  t.client.close();
});

test("on() returns an unsubscribe function; once() runs once; off() removes", async () => {
  const t = await connected();
  const seen = [];
  const stop = t.client.on("message", (e) => seen.push(["on", e.data]));
  t.client.once("message", (e) => seen.push(["once", e.data]));
  const fn = (e) => seen.push(["off", e.data]);
  t.client.addEventListener("message", fn);
  t.ws.receive("1");
  stop();
  t.client.off("message", fn);
  t.ws.receive("2");
  assert.deepEqual(seen, [
    ["on", 1],
    ["once", 1],
    ["off", 1],
  ]);
  t.client.close();
});

test("addEventListener honours once, signal and listener objects; duplicates are ignored", async () => {
  const t = await connected();
  const seen = [];
  const controller = new AbortController();
  const fn = (e) => seen.push(e.data);
  t.client.addEventListener("message", fn, { signal: controller.signal });
  t.client.addEventListener("message", fn); // same listener: ignored
  const obj = { handleEvent: (e) => seen.push(`obj:${e.data}`) };
  t.client.addEventListener("message", obj, { once: true });
  t.ws.receive("1");
  controller.abort();
  t.ws.receive("2");
  assert.deepEqual(seen, [1, "obj:1"]);
  assert.equal(t.client.listenerCount("message"), 1, "only the recorder from setup remains");
  t.client.close();
});

test("WebSocket-style onopen/onmessage/onclose/onerror properties", async () => {
  const t = setup();
  const seen = [];
  t.client.onopen = (e) => seen.push(["open", e.refreshed]);
  t.client.onmessage = (e) => seen.push(["message", e.data]);
  t.client.onerror = () => seen.push(["error"]);
  t.client.onclose = (e) => seen.push(["close", e.code]);
  t.client.onreconnecting = (e) => seen.push(["reconnecting", e.attempt]);
  assert.equal(typeof t.client.onopen, "function");
  await settle();
  t.ws.open();
  t.ws.receive('{"a":1}');
  t.ws.fail();
  assert.deepEqual(seen, [
    ["open", false],
    ["message", { a: 1 }],
    ["error"],
    ["close", 1006],
    ["reconnecting", 1],
  ]);
  t.client.onmessage = null;
  assert.equal(t.client.onmessage, null);
  t.client.close();
});

test("a throwing listener does not stop the others or the client", async () => {
  const t = await connected();
  const seen = [];
  const original = globalThis.reportError;
  const reported = [];
  globalThis.reportError = (err) => reported.push(err.message);
  try {
    t.client.on("message", () => {
      throw new Error("boom");
    });
    t.client.on("message", (e) => seen.push(e.data));
    t.ws.receive("7");
  } finally {
    if (original) globalThis.reportError = original;
    else delete globalThis.reportError;
  }
  assert.deepEqual(seen, [7]);
  assert.deepEqual(reported, ["boom"]);
  assert.equal(t.client.readyState, ApiGatewaySocket.OPEN);
  t.client.close();
});

test("dispatchEvent delivers a custom event to listeners", async () => {
  const t = setup({ startClosed: true });
  const seen = [];
  t.client.on("custom", (e) => seen.push(e.x));
  assert.equal(t.client.dispatchEvent({ type: "custom", x: 1 }), true);
  assert.deepEqual(seen, [1]);
  assert.throws(() => t.client.dispatchEvent({}), TypeError);
});

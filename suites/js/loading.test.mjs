// The three ways to load the file: a classic <script> (run here in a vm
// context that stands in for a browser window), CommonJS require(), and
// import (as Node loads it, and as a browser module evaluates it). Also: the
// browser defaults (global WebSocket, fetch, document.cookie, window events,
// location), and that the .d.ts documents every option, event and method.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";
import { CLIENT_PATH, TYPES_PATH, FakeClock, FakeWindow, makeFetch, makeWebSocketClass, settle } from "./fakes.mjs";

const source = fs.readFileSync(CLIENT_PATH, "utf8");

/** A window-like global: what a classic <script> sees. */
function browserContext() {
  const clock = new FakeClock();
  const win = new FakeWindow();
  const WS = makeWebSocketClass();
  const fetch = makeFetch();
  const context = {
    WebSocket: WS,
    fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    setInterval: clock.setInterval,
    clearInterval: clock.clearInterval,
    addEventListener: win.addEventListener.bind(win),
    removeEventListener: win.removeEventListener.bind(win),
    document: { cookie: "sessionid=s; csrftoken=from-document" },
    navigator: { onLine: true },
    location: { protocol: "https:", host: "www.example.com", href: "https://www.example.com/chat/" },
    console,
  };
  context.window = context;
  context.self = context;
  vm.createContext(context);
  return { context, clock, win, WS, fetch };
}

test("the source has no import/export statements (it must run as a classic script)", () => {
  assert.doesNotMatch(source, /^\s*(export|import)\s[^\n]*;?\s*$/m);
  assert.doesNotThrow(() => new vm.Script(source, { filename: "apigw-socket.js" }));
});

test("classic <script>: defines window.ApiGatewaySocket, no module system needed", () => {
  const { context } = browserContext();
  vm.runInContext(source, context, { filename: "apigw-socket.js" });
  assert.equal(typeof context.ApiGatewaySocket, "function");
  assert.equal(context.window.ApiGatewaySocket, context.ApiGatewaySocket);
  assert.equal(typeof context.module, "undefined");
  assert.equal(typeof context.ApiGatewaySocket.PayloadTooLargeError, "function");
  assert.equal(vm.runInContext("typeof ApiGatewaySocket", context), "function");
});

test("classic <script>: uses the page's WebSocket, fetch, CSRF cookie, timers and window events", async () => {
  const { context, clock, win, WS, fetch } = browserContext();
  vm.runInContext(source, context, { filename: "apigw-socket.js" });
  const client = vm.runInContext(
    'window.socket = new ApiGatewaySocket("/ws/", { channel: "lobby", heartbeatInterval: 1000 }); socket',
    context
  );
  await settle();
  assert.equal(fetch.calls.length, 1);
  assert.equal(fetch.calls[0].url, "/websockets/token/");
  assert.equal(fetch.calls[0].init.headers["X-CSRFToken"], "from-document");
  assert.equal(WS.instances.length, 1);
  assert.equal(WS.instances[0].url, "wss://www.example.com/ws/?channel=lobby&ws_token=tok-1");
  assert.equal(win.count(), 2, "online/offline listeners on window");
  WS.instances[0].open();
  await clock.advance(1000);
  assert.deepEqual(WS.instances[0].sentJSON(), [{ action: "heartbeat" }]);
  client.close();
  assert.equal(clock.pending(), 0);
  assert.equal(win.count(), 0);
});

test("classic <script>: navigator.onLine false delays the first attempt until online", async () => {
  const { context, win, fetch } = browserContext();
  context.navigator.onLine = false;
  vm.runInContext(source, context, { filename: "apigw-socket.js" });
  const client = vm.runInContext('new ApiGatewaySocket("wss://ws.example.com")', context);
  await settle();
  assert.equal(fetch.calls.length, 0);
  context.navigator.onLine = true;
  win.dispatch("online");
  await settle();
  assert.equal(fetch.calls.length, 1);
  client.close();
});

test("CommonJS require(): module.exports is the class, with named members too", () => {
  const require = createRequire(import.meta.url);
  const exported = require(CLIENT_PATH);
  assert.equal(typeof exported, "function");
  assert.equal(exported.name, "ApiGatewaySocket");
  assert.equal(exported.ApiGatewaySocket, exported);
  assert.equal(exported.default, exported);
  const { PayloadTooLargeError, TokenError, ConnectionTimeoutError } = exported;
  assert.equal(new PayloadTooLargeError(2, 1).name, "PayloadTooLargeError");
  assert.ok(new PayloadTooLargeError(2, 1) instanceof Error);
  assert.equal(new TokenError("x", 401).unauthorized, true);
  assert.equal(new ConnectionTimeoutError(5).timeout, 5);
  assert.equal(exported.MAX_PAYLOAD_BYTES, 131072);
});

test("CommonJS in a fresh context (as a bundler's module wrapper would run it)", () => {
  const module = { exports: {} };
  const context = vm.createContext({ module, exports: module.exports });
  vm.runInContext(source, context);
  assert.equal(typeof module.exports, "function");
  assert.equal(module.exports.name, "ApiGatewaySocket");
});

test('import "./apigw-socket.js" (side effect) defines the global; the default export is the class', async () => {
  const mod = await import(pathToFileURL(CLIENT_PATH).href);
  assert.equal(typeof globalThis.ApiGatewaySocket, "function");
  assert.equal(mod.default, globalThis.ApiGatewaySocket);
});

test("evaluated as an ES module (a browser's <script type=module>), it defines the global", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apigw-socket-"));
  try {
    const file = path.join(dir, "apigw-socket.mjs");
    fs.writeFileSync(file, source);
    const saved = globalThis.ApiGatewaySocket;
    delete globalThis.ApiGatewaySocket;
    const mod = await import(pathToFileURL(file).href);
    assert.equal(typeof globalThis.ApiGatewaySocket, "function");
    assert.notEqual(globalThis.ApiGatewaySocket, saved, "this evaluation defined it");
    assert.deepEqual(Object.keys(mod), [], "no exports: a side-effect import");
    globalThis.ApiGatewaySocket = saved;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the .d.ts is a UMD declaration that documents every option, event and method", () => {
  const require = createRequire(import.meta.url);
  const ApiGatewaySocket = require(CLIENT_PATH);
  const dts = fs.readFileSync(TYPES_PATH, "utf8");
  assert.match(dts, /^export = ApiGatewaySocket;$/m);
  assert.match(dts, /^export as namespace ApiGatewaySocket;$/m);
  const optionsBlock = dts.slice(dts.indexOf("interface Options {"), dts.indexOf("type Defaults"));
  const aliases = ["minReconnectionDelay", "maxReconnectionDelay", "reconnectionDelayGrowFactor", "maxEnqueuedMessages"];
  for (const key of [...Object.keys(ApiGatewaySocket.DEFAULTS), ...aliases]) {
    assert.match(optionsBlock, new RegExp(`/\\*\\*[^]*?\\*/\\s*${key}\\?:`), `option ${key} undocumented`);
  }
  const eventMap = dts.slice(dts.indexOf("interface EventMap {"));
  for (const name of ApiGatewaySocket.EVENTS) {
    assert.match(eventMap, new RegExp(`\\b${name}: \\w+Event;`), `event ${name} missing from EventMap`);
    assert.match(dts, new RegExp(`\\bon${name}: `), `handler property on${name} missing`);
  }
  const classBlock = dts.slice(dts.indexOf("declare class ApiGatewaySocket {"), dts.indexOf("declare class ApiGatewaySocketPayloadTooLargeError"));
  const proto = ApiGatewaySocket.prototype;
  const publicMembers = Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor" && !n.startsWith("_"));
  assert.ok(publicMembers.length > 20);
  for (const name of publicMembers) {
    assert.match(classBlock, new RegExp(`\\b${name}[?(:<]`), `member ${name} missing from the .d.ts`);
  }
  for (const name of Object.keys(ApiGatewaySocket)) {
    assert.match(classBlock, new RegExp(`static (readonly )?${name}\\b`), `static ${name} missing from the .d.ts`);
  }
});

// Test doubles for apigw-socket.js: a fake clock, a fake WebSocket, a fake
// fetch for the token endpoint and a fake window for online/offline events.
// Nothing here touches the network or real timers.

import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
export const CLIENT_PATH = path.resolve(
  here,
  "../../django_aws_api_gateway_websockets/static/django_aws_api_gateway_websockets/apigw-socket.js"
);
export const TYPES_PATH = CLIENT_PATH.replace(/\.js$/, ".d.ts");

const require = createRequire(import.meta.url);
export const ApiGatewaySocket = require(CLIENT_PATH);

/** Lets every pending promise callback run (the client's code is promise-based). */
export function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock {
  constructor(start = 1_700_000_000_000) {
    this.time = start;
    this.nextId = 1;
    this.timers = new Map();
    this.setTimeout = (fn, ms) => this._add(fn, ms, false);
    this.setInterval = (fn, ms) => this._add(fn, ms, true);
    this.clearTimeout = (id) => this.timers.delete(id);
    this.clearInterval = (id) => this.timers.delete(id);
    this.now = () => this.time;
  }

  _add(fn, ms, repeat) {
    const id = this.nextId++;
    const delay = Math.max(0, Number(ms) || 0);
    this.timers.set(id, { id, fn, at: this.time + delay, every: delay, repeat });
    return id;
  }

  /** Number of timers (timeouts and intervals) still scheduled. */
  pending() {
    return this.timers.size;
  }

  /** Delays of the scheduled timers, for assertions. */
  scheduled() {
    return [...this.timers.values()].map((t) => ({ in: t.at - this.time, repeat: t.repeat }));
  }

  /** Moves time forward, running due timers in order and letting promises settle. */
  async advance(ms) {
    const target = this.time + ms;
    await settle();
    for (;;) {
      let next = null;
      for (const t of this.timers.values()) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) {
          next = t;
        }
      }
      if (!next) break;
      this.time = next.at;
      if (next.repeat) {
        next.at += Math.max(1, next.every);
      } else {
        this.timers.delete(next.id);
      }
      next.fn();
      await settle();
    }
    this.time = target;
    await settle();
  }
}

/** A promise with its resolve/reject functions, for answers the test releases by hand. */
export function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A token endpoint answer, as fetch would resolve it. */
export function tokenResponse(token, status = 200) {
  return { status, ok: status >= 200 && status < 300, json: async () => ({ token, expires_in: 60 }) };
}

/** A WebSocket class whose instances the test drives by hand. */
export function makeWebSocketClass() {
  class FakeWebSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;
    static instances = [];

    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.readyState = 0;
      this.sent = [];
      this.closeCalls = [];
      this.protocol = "";
      this.extensions = "";
      this.bufferedAmount = 0;
      this.binaryType = "blob";
      this.onopen = null;
      this.onmessage = null;
      this.onerror = null;
      this.onclose = null;
      FakeWebSocket.instances.push(this);
    }

    get params() {
      return new URL(this.url).searchParams;
    }

    send(data) {
      if (this.readyState !== 1) {
        throw new Error("InvalidStateError: send() on a socket that is not open");
      }
      this.sent.push(data);
    }

    /** Payloads sent, decoded from JSON. */
    sentJSON() {
      return this.sent.map((s) => JSON.parse(s));
    }

    close(code, reason) {
      this.closeCalls.push({ code, reason });
      if (this.readyState < 2) this.readyState = 2;
    }

    handlerCount() {
      return ["onopen", "onmessage", "onerror", "onclose"].filter((k) => this[k] !== null).length;
    }

    // --- driven by the test ("the server side")
    open(protocol = "") {
      this.readyState = 1;
      this.protocol = protocol;
      this.onopen?.({ type: "open" });
    }

    receive(data) {
      this.onmessage?.({ type: "message", data, origin: "wss://fake" });
    }

    /** The handshake fails (e.g. $connect refused): error, then close 1006. */
    fail() {
      this.onerror?.({ type: "error" });
      this.finishClose(1006, "", false);
    }

    /** The server or the network ends the connection. */
    finishClose(code = 1001, reason = "Going away", wasClean = true) {
      this.readyState = 3;
      this.onclose?.({ type: "close", code, reason, wasClean });
    }
  }
  return FakeWebSocket;
}

/**
 * A fetch for the token endpoint. `plan` is a list of answers used in order
 * (then the default answer): a number is an HTTP status, an Error is thrown,
 * an object is {status, body}. The default answer is a fresh token.
 */
export function makeFetch(plan = []) {
  const queue = [...plan];
  let n = 0;
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    const step = queue.length ? queue.shift() : null;
    if (step instanceof Error) throw step;
    if (typeof step === "function") return step(url, init);
    n += 1;
    let status = 200;
    let body = { token: `tok-${n}`, expires_in: 60 };
    if (typeof step === "number") status = step;
    else if (step && typeof step === "object") ({ status = 200, body = body } = step);
    return {
      status,
      ok: status >= 200 && status < 300,
      json: async () => (typeof body === "string" ? JSON.parse(body) : body),
    };
  };
  fetch.calls = calls;
  fetch.plan = queue;
  return fetch;
}

/** The browser's window, as far as online/offline events go. */
export class FakeWindow {
  constructor() {
    this.listeners = new Map();
  }
  addEventListener(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
  }
  removeEventListener(type, fn) {
    this.listeners.get(type)?.delete(fn);
  }
  count() {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
  dispatch(type) {
    for (const fn of [...(this.listeners.get(type) ?? [])]) fn({ type });
  }
}

/**
 * Builds a client wired to fakes. Returns the client, its fakes and a log of
 * every lifecycle event it emitted.
 */
export function setup(options = {}, { url = "wss://ws.example.com/production", plan = [], online = true } = {}) {
  const clock = new FakeClock();
  const WS = makeWebSocketClass();
  const fetch = makeFetch(plan);
  const win = new FakeWindow();
  const state = { online };
  let cookies = "csrftoken=csrf-secret";
  const client = new ApiGatewaySocket(url, {
    WebSocket: WS,
    fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    setInterval: clock.setInterval,
    clearInterval: clock.clearInterval,
    now: clock.now,
    random: () => 1,
    getCookies: () => cookies,
    eventTarget: win,
    isOnline: () => state.online,
    ...options,
  });
  const events = [];
  for (const name of ApiGatewaySocket.EVENTS) {
    client.addEventListener(name, (e) => events.push(e));
  }
  return {
    client,
    clock,
    WS,
    fetch,
    win,
    events,
    state,
    setCookies(value) {
      cookies = value;
    },
    /** The most recently created fake socket. */
    get ws() {
      return WS.instances[WS.instances.length - 1];
    },
    /** Advances the clock by the delay of the last `reconnecting` event. */
    async nextAttempt() {
      const last = events.filter((e) => e.type === "reconnecting").pop();
      if (!last) throw new Error("no reconnect is scheduled");
      await clock.advance(last.delay);
    },
    types(...only) {
      return events.map((e) => e.type).filter((t) => !only.length || only.includes(t));
    },
    of(type) {
      return events.filter((e) => e.type === type);
    },
  };
}

/** setup(), then waits for the first socket and opens it. */
export async function connected(options, more) {
  const t = setup(options, more);
  await settle();
  if (!t.ws) throw new Error("no socket was created");
  t.ws.open();
  return t;
}

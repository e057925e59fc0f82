// Tokens and URLs: a fresh token before every attempt, the CSRF-protected
// POST, the query parameters the Django $connect view reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiGatewaySocket, setup, connected, settle, deferred, tokenResponse } from "./fakes.mjs";

test("fetches a token before the first socket and puts it in the URL", async () => {
  const answer = deferred();
  const t = setup({ channel: "lobby" }, { plan: [() => answer.promise] });
  await t.clock.advance(5000);
  assert.equal(t.fetch.calls.length, 1, "the token request went out");
  assert.equal(t.WS.instances.length, 0, "no socket before the token arrives");
  answer.resolve(tokenResponse("tok-1"));
  await settle();
  assert.equal(t.WS.instances.length, 1);
  assert.equal(t.ws.params.get("ws_token"), "tok-1");
  assert.equal(t.ws.params.get("channel"), "lobby");
  assert.equal(t.client.readyState, ApiGatewaySocket.CONNECTING);
  t.ws.open();
  assert.equal(t.client.readyState, ApiGatewaySocket.OPEN);
  t.client.close();
});

test("every attempt gets a new token; none is reused", async () => {
  const t = await connected();
  for (let i = 0; i < 4; i++) {
    t.ws.finishClose(1001, "Going away");
    await t.nextAttempt();
    t.ws.fail();
    await t.nextAttempt();
    t.ws.open();
  }
  const tokens = t.WS.instances.map((ws) => ws.params.get("ws_token"));
  assert.equal(tokens.length, 9);
  assert.equal(new Set(tokens).size, tokens.length, `tokens reused: ${tokens}`);
  assert.equal(t.fetch.calls.length, t.WS.instances.length, "one token request per socket");
  t.client.close();
});

test("the token request is a credentialed POST with the CSRF header from the cookie", async () => {
  const t = setup();
  t.setCookies("theme=dark; csrftoken=abc%20123; other=x");
  t.client.close();
  t.client.open();
  await settle();
  const { url, init } = t.fetch.calls[1];
  assert.equal(url, "/websockets/token/");
  assert.equal(init.method, "POST");
  assert.equal(init.credentials, "include");
  assert.equal(init.headers["X-CSRFToken"], "abc 123");
  assert.equal(init.headers.Accept, "application/json");
  t.client.close();
});

test("cookie name, header name, token URL and extra headers are configurable", async () => {
  const t = setup({
    tokenUrl: "https://www.example.com/api/ws-token/",
    csrfCookieName: "my_csrf",
    csrfHeaderName: "X-My-CSRF",
    tokenHeaders: () => ({ "X-Requested-With": "XMLHttpRequest" }),
    getCookies: () => "csrftoken=wrong; my_csrf=right",
  });
  await settle();
  const { url, init } = t.fetch.calls[0];
  assert.equal(url, "https://www.example.com/api/ws-token/");
  assert.equal(init.headers["X-My-CSRF"], "right");
  assert.equal(init.headers["X-CSRFToken"], undefined);
  assert.equal(init.headers["X-Requested-With"], "XMLHttpRequest");
  t.client.close();
});

test("an explicit csrfToken wins over the cookie (for CSRF_COOKIE_HTTPONLY)", async () => {
  const t = setup({ csrfToken: () => "from-meta-tag" });
  await settle();
  assert.equal(t.fetch.calls[0].init.headers["X-CSRFToken"], "from-meta-tag");
  t.client.close();
});

test("no CSRF cookie: the request goes out without the header", async () => {
  const t = setup({ getCookies: () => "" });
  await settle();
  assert.equal("X-CSRFToken" in t.fetch.calls[0].init.headers, false);
  t.client.close();
});

test("URL parameters: existing query kept, values encoded, duplicates replaced, fragment dropped", async () => {
  const t = setup(
    { channel: "room 1/ü" },
    {
      url: "wss://ws.example.com/production?foo=a%20b&channel=old&x#frag",
      plan: [{ status: 200, body: { token: "t+k/=", expires_in: 60 } }],
    }
  );
  await settle();
  assert.equal(
    t.ws.url,
    "wss://ws.example.com/production?foo=a%20b&x&channel=room%201%2F%C3%BC&ws_token=t%2Bk%2F%3D"
  );
  assert.equal(t.ws.params.get("ws_token"), "t+k/=");
  assert.equal(t.ws.params.get("channel"), "room 1/ü");
  t.client.close();
});

test("no channel: no channel parameter; extra query parameters from `query`", async () => {
  const t = setup({ query: async () => ({ v: 2, skip: null }) });
  await settle();
  assert.equal(t.ws.url, "wss://ws.example.com/production?v=2&ws_token=tok-1");
  t.client.close();
});

test("http(s) URLs are turned into ws(s) URLs", async () => {
  const t = setup({}, { url: "https://ws.example.com/production" });
  await settle();
  assert.match(t.ws.url, /^wss:\/\/ws\.example\.com\/production\?ws_token=tok-1$/);
  t.client.close();
});

test("url may be a function, sync or async, called before every attempt", async () => {
  let n = 0;
  const t = setup({}, { url: async () => `wss://ws${++n}.example.com/prod` });
  await settle();
  assert.match(t.ws.url, /^wss:\/\/ws1\.example\.com\/prod\?/);
  t.ws.open();
  t.ws.finishClose();
  await t.nextAttempt();
  assert.match(t.ws.url, /^wss:\/\/ws2\.example\.com\/prod\?/);
  t.client.close();

  const s = setup({}, { url: () => "wss://sync.example.com/p" });
  await settle();
  assert.match(s.ws.url, /^wss:\/\/sync\.example\.com\/p\?ws_token=tok-1$/);
  s.client.close();
});

test("tokenUrl: null connects without a token and without fetch", async () => {
  const t = setup({ tokenUrl: null, channel: "c" });
  await settle();
  assert.equal(t.fetch.calls.length, 0);
  assert.equal(t.ws.url, "wss://ws.example.com/production?channel=c");
  t.client.close();
});

test("getToken replaces the token request and is called for every attempt", async () => {
  const seen = [];
  let n = 0;
  const t = setup({
    channel: "c1",
    getToken: async (ctx) => {
      seen.push(ctx);
      n += 1;
      return n === 2 ? { token: "object-form", expires_in: 30 } : `custom-${n}`;
    },
  });
  await settle();
  assert.equal(t.fetch.calls.length, 0);
  assert.equal(t.ws.params.get("ws_token"), "custom-1");
  t.ws.fail();
  await t.nextAttempt();
  assert.equal(t.ws.params.get("ws_token"), "object-form");
  assert.equal(t.client.tokenExpiresIn, 30);
  assert.deepEqual(seen[0], { channel: "c1", attempt: 0 });
  assert.deepEqual(seen[1], { channel: "c1", attempt: 1 });
  t.client.close();
});

test("a token answer without a token is an error and is retried", async () => {
  const t = setup({}, { plan: [{ status: 200, body: { nope: 1 } }, { status: 200, body: "not json" }] });
  await settle();
  assert.equal(t.WS.instances.length, 0);
  assert.equal(t.of("error")[0].error.name, "TokenError");
  assert.equal(t.of("reconnecting").length, 1);
  await t.clock.advance(1000);
  assert.equal(t.of("error").length, 2);
  assert.match(t.of("error")[1].message, /not JSON/);
  await t.clock.advance(2000);
  assert.equal(t.WS.instances.length, 1);
  t.client.close();
});

test("the token endpoint's expires_in is exposed", async () => {
  const t = setup();
  await settle();
  assert.equal(t.client.tokenExpiresIn, 60);
  t.client.close();
});

/*
 * apigw-socket.js: a dependency-free WebSocket client for AWS API Gateway
 * WebSocket APIs whose events are answered by Django.
 *
 * One file, no build step. Load it any of these ways:
 *   <script src="apigw-socket.js"></script>          global ApiGatewaySocket
 *   import "./apigw-socket.js";                        same global (side effect)
 *   const ApiGatewaySocket = require("./apigw-socket.js");  CommonJS / bundlers
 *
 * What it does on top of a plain WebSocket:
 *   - fetches a fresh single-use token before every connection attempt
 *     (POST to the Django token view, CSRF header from the cookie) and adds it to
 *     the URL as ws_token=..., with channel=...;
 *   - reconnects with exponential backoff and full jitter, stops on 401/403;
 *   - keeps the connection inside API Gateway's limits: a heartbeat against the
 *     10-minute idle timeout, a make-before-break refresh before the 2-hour
 *     maximum connection time, and a local refusal of messages over 128 KB;
 *   - queues sends while not connected and flushes them in order on open;
 *   - decodes JSON messages and dispatches typed messages as named events.
 *
 * See docs/javascript-client.md in the project for the guide.
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module !== null && typeof module.exports === "object") {
    module.exports = api;
  }
  if (root) {
    root.ApiGatewaySocket = api;
  }
})(
  typeof globalThis !== "undefined"
    ? globalThis
    : typeof self !== "undefined"
      ? self
      : typeof window !== "undefined"
        ? window
        : undefined,
  function () {
    "use strict";

    var VERSION = "1.0.0";

    var CONNECTING = 0;
    var OPEN = 1;
    var CLOSING = 2;
    var CLOSED = 3;

    /** API Gateway's hard limit for one WebSocket message (128 KB). */
    var API_GATEWAY_MAX_PAYLOAD_BYTES = 131072;

    /** Events the client itself emits; a message "type" never shadows them. */
    var LIFECYCLE_EVENTS = [
      "open",
      "message",
      "close",
      "error",
      "reconnecting",
      "unauthorized",
      "dropped",
      "giveup",
    ];
    var RESERVED = Object.create(null);
    LIFECYCLE_EVENTS.forEach(function (name) {
      RESERVED[name] = true;
    });

    var DEFAULTS = Object.freeze({
      // Where and what
      channel: null,
      query: null,
      protocols: null,
      binaryType: null,
      action: "default",
      // Tokens
      tokenUrl: "/websockets/token/",
      getToken: null,
      tokenHeaders: null,
      csrfToken: null,
      csrfCookieName: "csrftoken",
      csrfHeaderName: "X-CSRFToken",
      // Reconnection
      minDelay: 1000,
      maxDelay: 30000,
      backoffFactor: 2,
      maxRetries: Infinity,
      minUptime: 5000,
      connectionTimeout: 10000,
      // API Gateway limits
      heartbeat: true,
      heartbeatInterval: 5 * 60 * 1000,
      heartbeatMessage: Object.freeze({ action: "heartbeat" }),
      refreshAfter: 115 * 60 * 1000,
      maxPayloadBytes: API_GATEWAY_MAX_PAYLOAD_BYTES,
      // Queue
      maxQueueSize: 100,
      // Start-up and diagnostics
      startClosed: false,
      debug: false,
      debugLogger: null,
      // Injectable environment (tests, Node, unusual hosts)
      WebSocket: null,
      fetch: null,
      setTimeout: null,
      clearTimeout: null,
      setInterval: null,
      clearInterval: null,
      random: null,
      now: null,
      getCookies: null,
      eventTarget: null,
      isOnline: null,
    });

    /** Option names used by reconnecting-websocket / partysocket, accepted as aliases. */
    var ALIASES = Object.freeze({
      minReconnectionDelay: "minDelay",
      maxReconnectionDelay: "maxDelay",
      reconnectionDelayGrowFactor: "backoffFactor",
      maxEnqueuedMessages: "maxQueueSize",
    });

    // ------------------------------------------------------------------ errors

    /** Thrown by send()/sendJSON()/sendRaw() for a message API Gateway would refuse. */
    class PayloadTooLargeError extends Error {
      constructor(size, limit) {
        super(
          "WebSocket message is " +
            size +
            " bytes as UTF-8 JSON, over the " +
            limit +
            "-byte limit of AWS API Gateway; it was not sent. " +
            "Send a smaller message (for example an id the server can look up)."
        );
        this.name = "PayloadTooLargeError";
        this.size = size;
        this.limit = limit;
      }
    }

    /** Why a token could not be had; status is the HTTP status (0 for a network error). */
    class TokenError extends Error {
      constructor(message, status, cause) {
        super(message);
        this.name = "TokenError";
        this.status = typeof status === "number" ? status : 0;
        this.unauthorized = this.status === 401 || this.status === 403;
        if (cause !== undefined) {
          this.cause = cause;
        }
      }
    }

    /** A handshake that did not open within connectionTimeout. */
    class ConnectionTimeoutError extends Error {
      constructor(ms) {
        super("WebSocket handshake did not complete within " + ms + " ms");
        this.name = "ConnectionTimeoutError";
        this.timeout = ms;
      }
    }

    // ----------------------------------------------------------------- helpers

    function utf8Length(text) {
      var bytes = 0;
      for (var i = 0; i < text.length; i++) {
        var code = text.charCodeAt(i);
        if (code < 0x80) {
          bytes += 1;
        } else if (code < 0x800) {
          bytes += 2;
        } else if (
          code >= 0xd800 &&
          code <= 0xdbff &&
          i + 1 < text.length &&
          (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
        ) {
          bytes += 4; // a surrogate pair is one 4-byte code point
          i += 1;
        } else {
          bytes += 3; // includes lone surrogates, which encode as U+FFFD
        }
      }
      return bytes;
    }

    function readCookie(cookieString, name) {
      if (!cookieString) {
        return null;
      }
      var parts = String(cookieString).split(";");
      for (var i = 0; i < parts.length; i++) {
        var part = parts[i].trim();
        var eq = part.indexOf("=");
        if (eq < 0) {
          continue;
        }
        if (part.slice(0, eq).trim() === name) {
          var value = part.slice(eq + 1).trim();
          try {
            return decodeURIComponent(value);
          } catch (err) {
            return value;
          }
        }
      }
      return null;
    }

    function safeDecode(text) {
      try {
        return decodeURIComponent(text.replace(/\+/g, " "));
      } catch (err) {
        return text;
      }
    }

    /** Turns http(s) and page-relative URLs into ws(s) URLs. */
    function toSocketUrl(url) {
      var text = String(url);
      if (/^https:/i.test(text)) {
        return "wss:" + text.slice(6);
      }
      if (/^http:/i.test(text)) {
        return "ws:" + text.slice(5);
      }
      if (/^wss?:/i.test(text)) {
        return text;
      }
      var loc = typeof location !== "undefined" ? location : null;
      if (loc && loc.host) {
        var scheme = loc.protocol === "https:" ? "wss:" : "ws:";
        if (text.slice(0, 2) === "//") {
          return scheme + text;
        }
        if (text.charAt(0) === "/") {
          return scheme + "//" + loc.host + text;
        }
      }
      return text;
    }

    /**
     * Adds query parameters, keeping the existing query string as it is except
     * for parameters of the same names, which are replaced. A fragment is
     * dropped (WebSocket URLs cannot carry one).
     */
    function withQuery(url, params) {
      var text = String(url);
      var hash = text.indexOf("#");
      if (hash >= 0) {
        text = text.slice(0, hash);
      }
      var q = text.indexOf("?");
      var base = q >= 0 ? text.slice(0, q) : text;
      var existing = q >= 0 ? text.slice(q + 1) : "";
      var names = Object.keys(params);
      var kept = existing
        ? existing.split("&").filter(function (pair) {
            if (!pair) {
              return false;
            }
            var eq = pair.indexOf("=");
            var key = safeDecode(eq >= 0 ? pair.slice(0, eq) : pair);
            return names.indexOf(key) < 0;
          })
        : [];
      names.forEach(function (name) {
        var value = params[name];
        if (value === null || value === undefined) {
          return;
        }
        kept.push(encodeURIComponent(name) + "=" + encodeURIComponent(String(value)));
      });
      return kept.length ? base + "?" + kept.join("&") : base;
    }

    function redactToken(url) {
      return url ? String(url).replace(/([?&]ws_token=)[^&#]*/, "$1[redacted]") : url;
    }

    function resolveValue(value, arg) {
      return typeof value === "function" ? value(arg) : value;
    }

    function isUnauthorizedError(err) {
      return !!(
        err &&
        (err.unauthorized === true || err.status === 401 || err.status === 403)
      );
    }

    function checkNumber(name, value, min, allowInfinity) {
      if (typeof value !== "number" || isNaN(value) || value < min) {
        throw new TypeError("ApiGatewaySocket: option " + name + " must be a number >= " + min);
      }
      if (!allowInfinity && !isFinite(value)) {
        throw new TypeError("ApiGatewaySocket: option " + name + " must be finite");
      }
    }

    function normaliseOptions(input) {
      var given = input || {};
      if (typeof given !== "object") {
        throw new TypeError("ApiGatewaySocket: options must be an object");
      }
      var opts = {};
      Object.keys(DEFAULTS).forEach(function (key) {
        opts[key] = DEFAULTS[key];
      });
      Object.keys(given).forEach(function (key) {
        var target = key;
        if (Object.prototype.hasOwnProperty.call(ALIASES, key)) {
          target = ALIASES[key];
          if (Object.prototype.hasOwnProperty.call(given, target)) {
            throw new TypeError(
              "ApiGatewaySocket: options " + key + " and " + target + " mean the same; pass one"
            );
          }
        } else if (!Object.prototype.hasOwnProperty.call(DEFAULTS, key)) {
          throw new TypeError("ApiGatewaySocket: unknown option " + JSON.stringify(key));
        }
        if (given[key] !== undefined) {
          opts[target] = given[key];
        }
      });
      checkNumber("minDelay", opts.minDelay, 0, false);
      checkNumber("maxDelay", opts.maxDelay, 0, false);
      checkNumber("backoffFactor", opts.backoffFactor, 1, false);
      checkNumber("maxRetries", opts.maxRetries, 0, true);
      checkNumber("minUptime", opts.minUptime, 0, false);
      checkNumber("connectionTimeout", opts.connectionTimeout, 0, true);
      checkNumber("heartbeatInterval", opts.heartbeatInterval, 1, false);
      checkNumber("maxQueueSize", opts.maxQueueSize, 0, true);
      checkNumber("maxPayloadBytes", opts.maxPayloadBytes, 1, true);
      if (opts.refreshAfter !== false && opts.refreshAfter !== null) {
        checkNumber("refreshAfter", opts.refreshAfter, 0, true);
      }
      if (typeof opts.action !== "string" || !opts.action) {
        throw new TypeError("ApiGatewaySocket: option action must be a non-empty string");
      }
      if (opts.getToken !== null && typeof opts.getToken !== "function") {
        throw new TypeError("ApiGatewaySocket: option getToken must be a function");
      }
      return opts;
    }

    function globalFunction(name) {
      var g = typeof globalThis !== "undefined" ? globalThis : {};
      if (typeof g[name] !== "function") {
        return null;
      }
      // Browsers insist on `this` being the window for fetch and timers.
      return function () {
        return g[name].apply(g, arguments);
      };
    }

    // --------------------------------------------------------------- the class

    class ApiGatewaySocket {
      /**
       * @param {string | (() => string | Promise<string>)} url  wss:// URL of the
       *   API (or its custom domain), or a function returning it before each attempt.
       * @param {object} [options]  see DEFAULTS and the .d.ts file.
       */
      constructor(url, options) {
        if (typeof url !== "function" && (typeof url !== "string" || !url)) {
          if (!(url && typeof url === "object" && typeof url.href === "string")) {
            throw new TypeError("ApiGatewaySocket: url must be a string, a URL or a function");
          }
          url = url.href;
        }
        var opts = normaliseOptions(options);
        this._opts = opts;
        this._url = url;
        this._channel = opts.channel === null || opts.channel === undefined ? null : String(opts.channel);

        this._WebSocket = opts.WebSocket || (typeof WebSocket !== "undefined" ? WebSocket : null);
        if (!this._WebSocket) {
          throw new TypeError(
            "ApiGatewaySocket: no WebSocket implementation; pass options.WebSocket " +
              "(in Node 20, for example, the `ws` package)"
          );
        }
        this._tokensEnabled = opts.tokenUrl !== null && opts.tokenUrl !== false;
        this._fetch = opts.fetch || globalFunction("fetch");
        if (this._tokensEnabled && !opts.getToken && !this._fetch) {
          throw new TypeError(
            "ApiGatewaySocket: no fetch function to get tokens with; pass options.fetch, " +
              "options.getToken, or tokenUrl: null"
          );
        }
        this._setTimeout = opts.setTimeout || globalFunction("setTimeout");
        this._clearTimeout = opts.clearTimeout || globalFunction("clearTimeout");
        this._setInterval = opts.setInterval || globalFunction("setInterval");
        this._clearInterval = opts.clearInterval || globalFunction("clearInterval");
        this._random = opts.random || Math.random;
        this._now = opts.now || Date.now;
        this._getCookies =
          opts.getCookies ||
          function () {
            return typeof document !== "undefined" && typeof document.cookie === "string"
              ? document.cookie
              : "";
          };
        var target = opts.eventTarget;
        if (!target && typeof globalThis !== "undefined" && typeof globalThis.addEventListener === "function") {
          target = globalThis;
        }
        this._eventTarget = target || null;
        this._isOnlineFn =
          opts.isOnline ||
          function () {
            return !(typeof navigator !== "undefined" && navigator && navigator.onLine === false);
          };
        if (opts.debug) {
          this._logger =
            typeof opts.debugLogger === "function"
              ? opts.debugLogger
              : typeof console !== "undefined"
                ? console.log.bind(console)
                : function () {};
        } else {
          this._logger = null;
        }

        this._binaryType = opts.binaryType || null;
        this._listeners = new Map();
        this._handlers = Object.create(null); // onopen, onmessage, ...
        this._queue = [];
        this._timers = Object.create(null);
        this._ws = null; // the socket in use (connecting or open)
        this._pending = null; // the replacement socket during a refresh
        this._retired = new Set(); // replaced sockets still draining
        this._phase = "closed"; // closed | preparing | connecting | open | waiting | offline | stopped
        this._seq = 0; // invalidates a main connection attempt in flight
        this._refreshSeq = 0; // invalidates a refresh in flight
        this._refreshing = false;
        this._refreshAttempts = 0;
        this._retryCount = 0;
        this._retryScheduled = false;
        this._charged = false;
        this._offline = false;
        this._globalBound = false;
        this._connectedAt = null;
        this._lastUrl = null;
        this._lastTokenExpiresIn = null;

        var self = this;
        this._onOnline = function () {
          self._handleOnline();
        };
        this._onOffline = function () {
          self._handleOffline();
        };

        if (!opts.startClosed) {
          this._start();
        }
      }

      // ------------------------------------------------------------ properties

      /** CONNECTING (0) while connecting or waiting to reconnect, OPEN (1), CLOSED (3). */
      get readyState() {
        if (this._phase === "open") {
          return OPEN;
        }
        if (this._phase === "closed" || this._phase === "stopped") {
          return CLOSED;
        }
        return CONNECTING;
      }

      get channel() {
        return this._channel;
      }

      /** Consecutive failed attempts; back to 0 once a connection has stayed up minUptime ms. */
      get retryCount() {
        return this._retryCount;
      }

      /** URL of the current (or last) connection, with the token value redacted. */
      get url() {
        return redactToken(this._lastUrl);
      }

      get protocol() {
        return this._ws && typeof this._ws.protocol === "string" ? this._ws.protocol : "";
      }

      get extensions() {
        return this._ws && typeof this._ws.extensions === "string" ? this._ws.extensions : "";
      }

      /** Bytes waiting: the socket's own buffer plus the local queue. */
      get bufferedAmount() {
        var queued = 0;
        for (var i = 0; i < this._queue.length; i++) {
          queued += this._queue[i].bytes;
        }
        var own = this._ws && typeof this._ws.bufferedAmount === "number" ? this._ws.bufferedAmount : 0;
        return own + queued;
      }

      get binaryType() {
        if (this._binaryType) {
          return this._binaryType;
        }
        return this._ws && this._ws.binaryType ? this._ws.binaryType : "blob";
      }

      set binaryType(value) {
        this._binaryType = value;
        if (this._ws) {
          this._ws.binaryType = value;
        }
      }

      /** False once the client will not reconnect by itself (closed, unauthorized, gave up). */
      get shouldReconnect() {
        return this._phase !== "closed" && this._phase !== "stopped";
      }

      /** Number of messages waiting in the local queue. */
      get queueLength() {
        return this._queue.length;
      }

      /** The underlying WebSocket in use, or null. Do not close it directly. */
      get socket() {
        return this._ws;
      }

      /** now() when the current connection opened, or null when not open. */
      get connectedAt() {
        return this._phase === "open" ? this._connectedAt : null;
      }

      /** Value of expires_in in the last token answer (seconds), or null. */
      get tokenExpiresIn() {
        return this._lastTokenExpiresIn;
      }

      // --------------------------------------------------------------- sending

      /**
       * Sends {action, handler, ...params}; the Django view picks its method by
       * `handler`, then by `action`. Returns true if sent now, false if queued.
       */
      send(handler, params) {
        if (typeof handler !== "string" || !handler) {
          throw new TypeError("ApiGatewaySocket.send: handler must be a non-empty string");
        }
        if (params !== undefined && params !== null && (typeof params !== "object" || Array.isArray(params))) {
          throw new TypeError("ApiGatewaySocket.send: params must be a plain object");
        }
        var message = { action: this._opts.action, handler: handler };
        if (params) {
          Object.keys(params).forEach(function (key) {
            message[key] = params[key];
          });
        }
        return this.sendJSON(message);
      }

      /** Sends any JSON-serialisable value as-is. Returns true if sent now, false if queued. */
      sendJSON(value) {
        var text = JSON.stringify(value);
        if (typeof text !== "string") {
          throw new TypeError("ApiGatewaySocket.sendJSON: value cannot be encoded as JSON");
        }
        return this._enqueueOrSend(text, value);
      }

      /** Sends a text frame as-is (API Gateway closes the connection on binary frames). */
      sendRaw(text) {
        if (typeof text !== "string") {
          throw new TypeError(
            "ApiGatewaySocket.sendRaw: only text can be sent; API Gateway closes the " +
              "connection on binary frames (encode binary data as base64 text)"
          );
        }
        return this._enqueueOrSend(text, text);
      }

      _enqueueOrSend(text, original) {
        var bytes = utf8Length(text);
        if (bytes > this._opts.maxPayloadBytes) {
          throw new PayloadTooLargeError(bytes, this._opts.maxPayloadBytes);
        }
        var ws = this._ws;
        if (this._phase === "open" && ws && ws.readyState === OPEN) {
          if (this._queue.length) {
            this._flushQueue(); // keep the order if an earlier flush was cut short
          }
          if (!this._queue.length) {
            ws.send(text);
            return true;
          }
        }
        this._queue.push({ text: text, data: original, bytes: bytes });
        while (this._queue.length > this._opts.maxQueueSize) {
          var dropped = this._queue.shift();
          this._log("queue full, dropping the oldest message");
          this._emit("dropped", { data: dropped.data, raw: dropped.text });
        }
        return false;
      }

      _flushQueue() {
        var ws = this._ws;
        while (this._queue.length && ws && ws.readyState === OPEN && this._ws === ws) {
          var item = this._queue[0];
          try {
            ws.send(item.text);
          } catch (err) {
            this._log("send failed while flushing the queue", err);
            return;
          }
          this._queue.shift();
        }
      }

      // ------------------------------------------------------------- lifecycle

      /** Starts connecting if the client is closed (startClosed, close(), 401/403, give-up). */
      open() {
        if (this._phase === "closed" || this._phase === "stopped") {
          this._start();
        }
      }

      /** Closes the socket now and starts a new connection (fresh token, no delay). */
      reconnect(code, reason) {
        var undisturbed = this._teardown(
          code === undefined ? 1000 : code,
          reason === undefined ? "reconnect" : reason,
          true
        );
        if (undisturbed) {
          this._start(); // unless a close listener already closed or restarted it
        }
      }

      /** Moves to another channel: closes the socket, gets a new token, connects. */
      switchChannel(name) {
        if (typeof name !== "string" || !name) {
          throw new TypeError("ApiGatewaySocket.switchChannel: name must be a non-empty string");
        }
        this._channel = name;
        this._log("switching to channel", name);
        this.reconnect(1000, "switching channel");
      }

      /**
       * Replaces the connection without a gap (make-before-break), as done
       * automatically after refreshAfter ms. Returns false when not open.
       */
      refresh() {
        if (this._phase !== "open") {
          return false;
        }
        this._cancel("refresh");
        this._startRefresh();
        return true;
      }

      /** Closes for good: no reconnect, every timer and listener removed. */
      close(code, reason) {
        this._teardown(code === undefined ? 1000 : code, reason === undefined ? "" : reason, true);
      }

      /** close(), then forgets every listener, handler property and queued message. */
      destroy() {
        this.close();
        this._listeners.clear();
        this._handlers = Object.create(null);
        this._queue.length = 0;
      }

      _start() {
        this._retryCount = 0;
        this._refreshAttempts = 0;
        this._phase = "waiting";
        this._bindGlobal();
        this._offline = false; // isOnline() is asked afresh; a stale event flag must not stick
        this._connect();
      }

      /**
       * Stops everything in flight; emits close if something was running.
       * Returns false if a close listener started or stopped the client again.
       */
      _teardown(code, reason, emitClose) {
        var wasRunning = this._phase !== "closed" && this._phase !== "stopped";
        this._phase = "closed";
        var seq = ++this._seq;
        this._refreshSeq += 1;
        this._refreshing = false;
        this._retryScheduled = false;
        this._cancelAll();
        this._unbindGlobal();
        var sockets = [this._ws, this._pending];
        this._retired.forEach(function (s) {
          sockets.push(s);
        });
        this._ws = null;
        this._pending = null;
        this._retired.clear();
        this._connectedAt = null;
        for (var i = 0; i < sockets.length; i++) {
          if (sockets[i]) {
            detach(sockets[i]);
            safeClose(sockets[i], code, reason);
          }
        }
        if (emitClose && wasRunning) {
          this._log("closed by the client", code, reason);
          this._emit("close", { code: code, reason: reason, wasClean: true });
        }
        return seq === this._seq;
      }

      _stop(phase) {
        this._teardown(1000, phase, false);
        this._phase = "stopped";
      }

      /** One connection attempt; `charged` is true when it uses up a retry. */
      _connect(charged) {
        if (this._phase === "closed" || this._phase === "stopped") {
          return;
        }
        this._cancel("retry");
        this._retryScheduled = false;
        this._charged = !!charged;
        if (this._waitIfOffline()) {
          return;
        }
        var seq = ++this._seq;
        var self = this;
        this._phase = "preparing";
        this._log("connecting", { attempt: this._retryCount, channel: this._channel });
        this._prepare().then(
          function (prep) {
            if (seq !== self._seq || self._phase !== "preparing") {
              return;
            }
            self._phase = "connecting";
            var sock;
            try {
              sock = self._createSocket(prep, "main");
            } catch (err) {
              self._log("could not create the WebSocket", err);
              self._phase = "waiting";
              self._emitThenReconnect([["error", { error: err, message: err && err.message }]]);
              return;
            }
            self._ws = sock;
          },
          function (err) {
            if (seq !== self._seq || self._phase !== "preparing") {
              return;
            }
            self._handlePrepareFailure(err);
          }
        );
      }

      _handlePrepareFailure(err) {
        if (isUnauthorizedError(err)) {
          this._log("token refused (" + err.status + "): not reconnecting");
          this._stop("unauthorized");
          this._emit("unauthorized", { status: err.status || 0, error: err });
          return;
        }
        this._log("could not prepare the connection", err);
        this._phase = "waiting";
        this._emitThenReconnect([["error", { error: err, message: err && err.message }]]);
      }

      /** Emits events, then schedules a retry unless a listener took over meanwhile. */
      _emitThenReconnect(events) {
        var seq = this._seq;
        for (var i = 0; i < events.length; i++) {
          this._emit(events[i][0], events[i][1]);
          if (seq !== this._seq || this._phase !== "waiting") {
            return;
          }
        }
        this._scheduleReconnect();
      }

      /** Resolves the URL, a fresh token and the subprotocols for one attempt. */
      _prepare() {
        var self = this;
        var ctx = { channel: this._channel, attempt: this._retryCount };
        return Promise.resolve()
          .then(function () {
            return resolveValue(self._url, ctx);
          })
          .then(function (base) {
            if (base && typeof base === "object" && typeof base.href === "string") {
              base = base.href;
            }
            if (typeof base !== "string" || !base) {
              throw new TypeError("ApiGatewaySocket: the url function returned no URL");
            }
            return Promise.all([
              base,
              self._tokensEnabled ? self._getToken(ctx) : null,
              resolveValue(self._opts.query, ctx),
              resolveValue(self._opts.protocols, ctx),
            ]);
          })
          .then(function (parts) {
            var params = {};
            var extra = parts[2];
            if (extra && typeof extra === "object") {
              Object.keys(extra).forEach(function (key) {
                params[key] = extra[key];
              });
            }
            params.channel = self._channel;
            params.ws_token = parts[1];
            return { url: withQuery(toSocketUrl(parts[0]), params), protocols: parts[3] };
          });
      }

      _getToken(ctx) {
        var self = this;
        var opts = this._opts;
        if (opts.getToken) {
          return Promise.resolve()
            .then(function () {
              return opts.getToken(ctx);
            })
            .then(function (answer) {
              var token = answer && typeof answer === "object" ? answer.token : answer;
              if (typeof token !== "string" || !token) {
                throw new TokenError("getToken did not return a token string", 0);
              }
              if (answer && typeof answer === "object" && typeof answer.expires_in === "number") {
                self._lastTokenExpiresIn = answer.expires_in;
              }
              return token;
            });
        }
        return Promise.resolve()
          .then(function () {
            return resolveValue(opts.tokenHeaders, ctx);
          })
          .then(function (extraHeaders) {
            var headers = { Accept: "application/json" };
            var csrf = resolveValue(opts.csrfToken, ctx);
            if (csrf === null || csrf === undefined) {
              csrf = readCookie(self._getCookies(), opts.csrfCookieName);
            }
            if (csrf) {
              headers[opts.csrfHeaderName] = csrf;
            } else {
              self._log("no CSRF token found (cookie " + opts.csrfCookieName + "); the token request may be refused");
            }
            if (extraHeaders && typeof extraHeaders === "object") {
              Object.keys(extraHeaders).forEach(function (key) {
                headers[key] = extraHeaders[key];
              });
            }
            return Promise.resolve()
              .then(function () {
                return self._fetch(opts.tokenUrl, {
                  method: "POST",
                  credentials: "include",
                  headers: headers,
                });
              })
              .catch(function (err) {
                throw new TokenError(
                  "token request to " + opts.tokenUrl + " failed: " + (err && err.message ? err.message : err),
                  0,
                  err
                );
              });
          })
          .then(function (response) {
            var status = response.status;
            if (status === 401 || status === 403) {
              throw new TokenError("token request refused with HTTP " + status, status);
            }
            if (!response.ok) {
              throw new TokenError("token request failed with HTTP " + status, status);
            }
            return Promise.resolve()
              .then(function () {
                return response.json();
              })
              .catch(function (err) {
                throw new TokenError("token answer is not JSON", status, err);
              })
              .then(function (body) {
                if (!body || typeof body.token !== "string" || !body.token) {
                  throw new TokenError('token answer has no "token" string', status);
                }
                self._lastTokenExpiresIn = typeof body.expires_in === "number" ? body.expires_in : null;
                return body.token;
              });
          });
      }

      _createSocket(prep, role) {
        var Ctor = this._WebSocket;
        var protocols = prep.protocols;
        var sock =
          protocols === null || protocols === undefined ? new Ctor(prep.url) : new Ctor(prep.url, protocols);
        if (this._binaryType) {
          sock.binaryType = this._binaryType;
        }
        var self = this;
        sock.onopen = function (ev) {
          self._handleOpen(sock, ev);
        };
        sock.onmessage = function (ev) {
          self._handleMessage(sock, ev);
        };
        sock.onerror = function (ev) {
          self._handleError(sock, ev);
        };
        sock.onclose = function (ev) {
          self._handleClose(sock, ev);
        };
        this._lastUrl = role === "main" ? prep.url : this._lastUrl;
        this._log(role === "main" ? "opening" : "opening a replacement", redactToken(prep.url));
        if (isFinite(this._opts.connectionTimeout)) {
          this._later(role === "main" ? "connect" : "refreshConnect", this._opts.connectionTimeout, function () {
            self._handleTimeout(sock);
          });
        }
        return sock;
      }

      _handleOpen(sock) {
        if (sock === this._ws && this._phase === "connecting") {
          this._cancel("connect");
          this._phase = "open";
          this._log("open");
          this._afterOpen(false);
        } else if (sock === this._pending && this._phase === "open") {
          this._cancel("refreshConnect");
          var old = this._ws;
          this._pending = null;
          this._ws = sock;
          this._lastUrl = sock.url || this._lastUrl;
          this._retire(old);
          this._log("switched to the replacement connection");
          this._afterOpen(true);
        } else {
          detach(sock);
          safeClose(sock, 1000, "");
        }
      }

      _afterOpen(refreshed) {
        var self = this;
        this._connectedAt = this._now();
        this._refreshAttempts = 0;
        this._cancel("uptime");
        this._cancel("heartbeat");
        this._cancel("refresh");
        this._later("uptime", this._opts.minUptime, function () {
          self._retryCount = 0;
        });
        if (this._opts.heartbeat) {
          this._every("heartbeat", this._opts.heartbeatInterval, function () {
            self._sendHeartbeat();
          });
        }
        var after = this._opts.refreshAfter;
        if (after !== false && after !== null && after > 0 && isFinite(after)) {
          this._later("refresh", after, function () {
            self._startRefresh();
          });
        }
        this._flushQueue();
        this._emit("open", { refreshed: refreshed });
      }

      _sendHeartbeat() {
        var ws = this._ws;
        if (this._phase !== "open" || !ws || ws.readyState !== OPEN) {
          return;
        }
        var msg = this._opts.heartbeatMessage;
        var text = typeof msg === "string" ? msg : JSON.stringify(msg);
        this._log("heartbeat");
        try {
          ws.send(text);
        } catch (err) {
          this._log("heartbeat failed", err);
        }
      }

      /** Closes a replaced socket but keeps delivering what is still in flight on it. */
      _retire(old) {
        if (!old) {
          return;
        }
        var self = this;
        this._retired.add(old);
        old.onopen = null;
        old.onerror = null;
        old.onclose = function () {
          detach(old);
          self._retired.delete(old);
        };
        safeClose(old, 1000, "connection refreshed");
      }

      _handleMessage(sock, ev) {
        if (sock !== this._ws && !this._retired.has(sock)) {
          return;
        }
        var raw = ev ? ev.data : undefined;
        if (raw === undefined || raw === null || raw === "") {
          return; // empty frames carry nothing
        }
        var data = raw;
        if (typeof raw === "string") {
          try {
            data = JSON.parse(raw);
          } catch (err) {
            data = raw;
          }
        }
        this._emit("message", { data: data, raw: raw, origin: ev.origin || "" });
        if (
          data &&
          typeof data === "object" &&
          !Array.isArray(data) &&
          typeof data.type === "string" &&
          data.type &&
          !RESERVED[data.type]
        ) {
          this._emit(data.type, { data: data, raw: raw });
        }
      }

      _handleError(sock, ev) {
        if (sock === this._ws) {
          this._log("socket error");
          this._emit("error", { error: ev && ev.error, message: (ev && ev.message) || "WebSocket error" });
        } else {
          this._log("error on a replacement or retired socket (ignored)");
        }
      }

      _handleClose(sock, ev) {
        detach(sock);
        var code = ev && typeof ev.code === "number" ? ev.code : 1006;
        var reason = ev && typeof ev.reason === "string" ? ev.reason : "";
        if (sock === this._pending) {
          this._cancel("refreshConnect");
          this._pending = null;
          this._refreshFailed(new Error("replacement connection closed before opening (code " + code + ")"));
          return;
        }
        if (sock !== this._ws) {
          return;
        }
        this._log("closed by the network or server", code, reason);
        this._dropConnection();
        this._emitThenReconnect([["close", { code: code, reason: reason, wasClean: !!(ev && ev.wasClean) }]]);
      }

      _handleTimeout(sock) {
        if (sock === this._pending) {
          detach(sock);
          safeClose(sock, 1000, "");
          this._pending = null;
          this._refreshFailed(new ConnectionTimeoutError(this._opts.connectionTimeout));
          return;
        }
        if (sock !== this._ws || this._phase !== "connecting") {
          return;
        }
        var err = new ConnectionTimeoutError(this._opts.connectionTimeout);
        this._log(err.message);
        detach(sock);
        safeClose(sock, 1000, "");
        this._dropConnection();
        this._emitThenReconnect([
          ["error", { error: err, message: err.message }],
          ["close", { code: 1006, reason: "connection timeout", wasClean: false }],
        ]);
      }

      /** Forgets the main socket and everything tied to it (timers, a refresh). */
      _dropConnection() {
        this._ws = null;
        this._connectedAt = null;
        this._phase = "waiting";
        this._cancel("connect");
        this._cancel("uptime");
        this._cancel("heartbeat");
        this._cancel("refresh");
        this._cancel("refreshConnect");
        this._refreshSeq += 1;
        this._refreshing = false;
        if (this._pending) {
          detach(this._pending);
          safeClose(this._pending, 1000, "");
          this._pending = null;
        }
      }

      _backoff(attempt) {
        var o = this._opts;
        var ceiling = Math.min(o.maxDelay, o.minDelay * Math.pow(o.backoffFactor, attempt));
        return Math.floor(this._random() * ceiling);
      }

      /**
       * While the browser says it is offline, wait for its `online` event instead of
       * trying; an attempt that was charged for this does not count. True when waiting.
       */
      _waitIfOffline() {
        if (!this._isOffline()) {
          return false;
        }
        if (this._charged) {
          this._retryCount = Math.max(0, this._retryCount - 1);
          this._charged = false;
        }
        this._phase = "offline";
        this._log("offline: waiting for the browser's online event");
        return true;
      }

      _scheduleReconnect() {
        if (this._phase === "closed" || this._phase === "stopped") {
          return;
        }
        if (this._waitIfOffline()) {
          return;
        }
        if (this._retryCount >= this._opts.maxRetries) {
          var attempts = this._retryCount;
          this._log("giving up after " + attempts + " retries");
          this._stop("giveup");
          this._emit("giveup", { attempts: attempts });
          return;
        }
        var delay = this._backoff(this._retryCount);
        this._retryCount += 1;
        this._retryScheduled = true;
        this._phase = "waiting";
        var self = this;
        this._later("retry", delay, function () {
          self._connect(true);
        });
        this._log("reconnecting in " + delay + " ms (attempt " + this._retryCount + ")");
        this._emit("reconnecting", { attempt: this._retryCount, delay: delay });
      }

      _startRefresh() {
        if (this._phase !== "open" || this._pending || this._refreshing) {
          return;
        }
        var rseq = ++this._refreshSeq;
        var self = this;
        this._refreshing = true;
        this._log("refreshing the connection before API Gateway's 2-hour limit");
        this._prepare().then(
          function (prep) {
            if (rseq !== self._refreshSeq || self._phase !== "open") {
              return;
            }
            self._refreshing = false;
            try {
              self._pending = self._createSocket(prep, "refresh");
            } catch (err) {
              self._refreshFailed(err);
            }
          },
          function (err) {
            if (rseq !== self._refreshSeq || self._phase !== "open") {
              return;
            }
            self._refreshing = false;
            if (isUnauthorizedError(err)) {
              self._log("token refused during refresh (" + err.status + "): closing");
              if (self._teardown(1000, "unauthorized", true)) {
                self._phase = "stopped";
                self._emit("unauthorized", { status: err.status || 0, error: err });
              }
              return;
            }
            self._refreshFailed(err);
          }
        );
      }

      _refreshFailed(err) {
        if (this._phase !== "open") {
          return;
        }
        var delay = this._backoff(this._refreshAttempts);
        this._refreshAttempts += 1;
        this._log("refresh failed; the current connection stays, next try in " + delay + " ms", err);
        var self = this;
        this._later("refresh", delay, function () {
          self._startRefresh();
        });
        this._emit("error", { error: err, message: err && err.message, refresh: true });
      }

      // ------------------------------------------------------- online/offline

      _isOffline() {
        if (this._offline) {
          return true;
        }
        try {
          return !this._isOnlineFn();
        } catch (err) {
          return false;
        }
      }

      _bindGlobal() {
        var t = this._eventTarget;
        if (this._globalBound || !t || typeof t.addEventListener !== "function") {
          return;
        }
        t.addEventListener("online", this._onOnline);
        t.addEventListener("offline", this._onOffline);
        this._globalBound = true;
      }

      _unbindGlobal() {
        var t = this._eventTarget;
        if (!this._globalBound || !t) {
          return;
        }
        t.removeEventListener("online", this._onOnline);
        t.removeEventListener("offline", this._onOffline);
        this._globalBound = false;
      }

      _handleOffline() {
        this._offline = true;
        this._log("browser went offline");
        if (this._phase === "waiting" && this._retryScheduled) {
          // The pending attempt would fail anyway: give it back and wait.
          this._cancel("retry");
          this._retryScheduled = false;
          this._retryCount = Math.max(0, this._retryCount - 1);
          this._phase = "offline";
        }
      }

      _handleOnline() {
        this._offline = false;
        this._log("browser is online again");
        if (this._phase === "offline") {
          this._connect();
        } else if (this._phase === "waiting" && this._retryScheduled) {
          this._cancel("retry");
          this._retryScheduled = false;
          this._retryCount = Math.max(0, this._retryCount - 1);
          this._connect();
        }
      }

      // ---------------------------------------------------------------- timers

      _later(name, ms, fn) {
        this._cancel(name);
        var self = this;
        var record = { interval: false, id: null };
        record.id = this._setTimeout(function () {
          if (self._timers[name] === record) {
            delete self._timers[name];
            fn();
          }
        }, ms);
        this._timers[name] = record;
      }

      _every(name, ms, fn) {
        this._cancel(name);
        this._timers[name] = { interval: true, id: this._setInterval(fn, ms) };
      }

      _cancel(name) {
        var record = this._timers[name];
        if (!record) {
          return;
        }
        delete this._timers[name];
        if (record.interval) {
          this._clearInterval(record.id);
        } else {
          this._clearTimeout(record.id);
        }
      }

      _cancelAll() {
        var self = this;
        Object.keys(this._timers).forEach(function (name) {
          self._cancel(name);
        });
      }

      // ---------------------------------------------------------------- events

      /** Adds a listener; options.once and options.signal (AbortSignal) are honoured. */
      addEventListener(type, listener, options) {
        if (!listener) {
          return;
        }
        var list = this._listeners.get(type);
        if (!list) {
          list = [];
          this._listeners.set(type, list);
        }
        for (var i = 0; i < list.length; i++) {
          if (list[i].listener === listener) {
            return; // like EventTarget: the same listener is added once
          }
        }
        var once = !!(options && typeof options === "object" && options.once);
        var signal = options && typeof options === "object" ? options.signal : null;
        if (signal && signal.aborted) {
          return;
        }
        list.push({ listener: listener, once: once });
        if (signal && typeof signal.addEventListener === "function") {
          var self = this;
          signal.addEventListener(
            "abort",
            function () {
              self.removeEventListener(type, listener);
            },
            { once: true }
          );
        }
      }

      removeEventListener(type, listener) {
        var list = this._listeners.get(type);
        if (!list) {
          return;
        }
        for (var i = 0; i < list.length; i++) {
          if (list[i].listener === listener) {
            list.splice(i, 1);
            break;
          }
        }
        if (!list.length) {
          this._listeners.delete(type);
        }
      }

      /** Adds a listener and returns a function that removes it. */
      on(type, listener) {
        this.addEventListener(type, listener);
        var self = this;
        return function () {
          self.removeEventListener(type, listener);
        };
      }

      /** Like on(), but the listener runs at most once. */
      once(type, listener) {
        this.addEventListener(type, listener, { once: true });
        var self = this;
        return function () {
          self.removeEventListener(type, listener);
        };
      }

      off(type, listener) {
        this.removeEventListener(type, listener);
      }

      /** Number of listeners for one event type (handler properties not counted). */
      listenerCount(type) {
        var list = this._listeners.get(type);
        return list ? list.length : 0;
      }

      /** Dispatches an event object with a string `type` to the listeners. */
      dispatchEvent(event) {
        if (!event || typeof event.type !== "string") {
          throw new TypeError("ApiGatewaySocket.dispatchEvent: event needs a string type");
        }
        this._dispatch(event);
        return true;
      }

      _emit(type, fields) {
        var event = { type: type, target: this, timeStamp: this._now() };
        if (fields) {
          Object.keys(fields).forEach(function (key) {
            event[key] = fields[key];
          });
        }
        this._dispatch(event);
        return event;
      }

      _dispatch(event) {
        var handler = RESERVED[event.type] ? this._handlers[event.type] : null;
        if (typeof handler === "function") {
          this._invoke(handler, event);
        }
        var list = this._listeners.get(event.type);
        if (!list) {
          return;
        }
        var snapshot = list.slice();
        for (var i = 0; i < snapshot.length; i++) {
          var entry = snapshot[i];
          if (list.indexOf(entry) < 0) {
            continue; // removed by an earlier listener
          }
          if (entry.once) {
            this.removeEventListener(event.type, entry.listener);
          }
          this._invoke(entry.listener, event);
        }
      }

      _invoke(listener, event) {
        try {
          if (typeof listener === "function") {
            listener.call(this, event);
          } else if (listener && typeof listener.handleEvent === "function") {
            listener.handleEvent(event);
          }
        } catch (err) {
          // One failing listener must not break the client or the others.
          if (typeof reportError === "function") {
            reportError(err);
          } else if (typeof console !== "undefined") {
            console.error(err);
          }
        }
      }

      _log() {
        if (!this._logger) {
          return;
        }
        var args = Array.prototype.slice.call(arguments);
        args.unshift("[ApiGatewaySocket]");
        try {
          this._logger.apply(null, args);
        } catch (err) {
          // a broken logger must not break the client
        }
      }
    }

    function detach(sock) {
      sock.onopen = null;
      sock.onmessage = null;
      sock.onerror = null;
      sock.onclose = null;
    }

    function safeClose(sock, code, reason) {
      if (sock.readyState === CLOSED || sock.readyState === CLOSING) {
        return;
      }
      try {
        sock.close(code, reason);
      } catch (err) {
        // Browsers only accept 1000 and 3000-4999 from scripts.
        try {
          sock.close();
        } catch (ignored) {
          // nothing more to do
        }
      }
    }

    // WebSocket-style handler properties: onopen, onmessage, onclose, onerror,
    // and the same for the client's own events (onreconnecting, ...).
    LIFECYCLE_EVENTS.forEach(function (name) {
      Object.defineProperty(ApiGatewaySocket.prototype, "on" + name, {
        configurable: true,
        enumerable: false,
        get: function () {
          return this._handlers[name] || null;
        },
        set: function (fn) {
          this._handlers[name] = typeof fn === "function" ? fn : null;
        },
      });
    });

    [
      ["CONNECTING", CONNECTING],
      ["OPEN", OPEN],
      ["CLOSING", CLOSING],
      ["CLOSED", CLOSED],
    ].forEach(function (pair) {
      Object.defineProperty(ApiGatewaySocket, pair[0], { value: pair[1], enumerable: true });
      Object.defineProperty(ApiGatewaySocket.prototype, pair[0], { value: pair[1], enumerable: true });
    });

    ApiGatewaySocket.VERSION = VERSION;
    ApiGatewaySocket.DEFAULTS = DEFAULTS;
    ApiGatewaySocket.EVENTS = Object.freeze(LIFECYCLE_EVENTS.slice());
    ApiGatewaySocket.MAX_PAYLOAD_BYTES = API_GATEWAY_MAX_PAYLOAD_BYTES;
    ApiGatewaySocket.PayloadTooLargeError = PayloadTooLargeError;
    ApiGatewaySocket.TokenError = TokenError;
    ApiGatewaySocket.ConnectionTimeoutError = ConnectionTimeoutError;
    ApiGatewaySocket.utf8Length = utf8Length;
    // So that `const { ApiGatewaySocket } = require(...)` and default imports work too.
    ApiGatewaySocket.ApiGatewaySocket = ApiGatewaySocket;
    ApiGatewaySocket.default = ApiGatewaySocket;

    return ApiGatewaySocket;
  }
);

// Type definitions for apigw-socket.js, the dependency-free client for AWS API
// Gateway WebSocket APIs answered by Django.
//
// UMD: `import ApiGatewaySocket = require("./apigw-socket")`, `import
// ApiGatewaySocket from "./apigw-socket"` (with esModuleInterop), or the global
// `ApiGatewaySocket` after a <script> tag or a side-effect import.

export = ApiGatewaySocket;
export as namespace ApiGatewaySocket;

/**
 * A WebSocket to an AWS API Gateway WebSocket API that gets a fresh Django
 * token before every connection attempt, reconnects with backoff, keeps inside
 * API Gateway's limits and queues sends while disconnected.
 *
 * ```js
 * const socket = new ApiGatewaySocket("wss://ws.example.com", { channel: "lobby" });
 * socket.on("chat.message", (e) => console.log(e.data));
 * socket.send("chat", { text: "hello" });
 * ```
 */
declare class ApiGatewaySocket {
  /**
   * Creates the client and, unless `startClosed` is set, starts connecting at once.
   *
   * @param url The wss:// URL of the API (execute-api URL with stage, or the
   *   custom domain), or a function (sync or async) returning it before each
   *   attempt. http(s):// URLs are turned into ws(s)://; a page-relative URL is
   *   resolved against `location`. Existing query parameters are kept.
   * @param options See {@link ApiGatewaySocket.Options}.
   * @throws TypeError for an unknown option, a bad value, or no WebSocket/fetch.
   */
  constructor(url: ApiGatewaySocket.UrlProvider, options?: ApiGatewaySocket.Options);

  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  /** Version of this file. */
  static readonly VERSION: string;
  /** The default value of every option (frozen). */
  static readonly DEFAULTS: Readonly<ApiGatewaySocket.Defaults>;
  /** The client's own event names; a message `type` never shadows them. */
  static readonly EVENTS: ReadonlyArray<ApiGatewaySocket.LifecycleEventName>;
  /** API Gateway's maximum message size, 131072 bytes (128 KB). */
  static readonly MAX_PAYLOAD_BYTES: 131072;
  /** Thrown by the send methods for a message over `maxPayloadBytes`. */
  static readonly PayloadTooLargeError: typeof ApiGatewaySocketPayloadTooLargeError;
  /** Why a token could not be had (carried by `error` and `unauthorized` events). */
  static readonly TokenError: typeof ApiGatewaySocketTokenError;
  /** A handshake that did not open within `connectionTimeout` (carried by `error` events). */
  static readonly ConnectionTimeoutError: typeof ApiGatewaySocketConnectionTimeoutError;
  /** The class itself, for `const { ApiGatewaySocket } = require(...)`. */
  static readonly ApiGatewaySocket: typeof ApiGatewaySocket;
  /** The class itself, for default imports through bundlers. */
  static readonly default: typeof ApiGatewaySocket;
  /** Size of a string in UTF-8 bytes, as API Gateway counts it. */
  static utf8Length(text: string): number;

  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;

  /**
   * CONNECTING (0) while getting a token, connecting, waiting to reconnect or
   * waiting to come back online; OPEN (1); CLOSED (3) after close(), a 401/403
   * from the token endpoint, or giving up after `maxRetries`. (CLOSING is never
   * reported: close() completes at once.)
   */
  readonly readyState: ApiGatewaySocket.ReadyState;
  /** The channel the client connects to (null: none, the server's default). */
  readonly channel: string | null;
  /** Consecutive failed attempts; back to 0 once a connection has stayed up `minUptime` ms. */
  readonly retryCount: number;
  /** URL of the current or last connection, the token value replaced by `[redacted]`. */
  readonly url: string | null;
  /** Subprotocol the server selected ("" if none). */
  readonly protocol: string;
  /** Extensions the server selected ("" if none). */
  readonly extensions: string;
  /** Bytes waiting: the socket's own buffer plus the local queue. */
  readonly bufferedAmount: number;
  /** Type of binary messages received: "blob" (browser default) or "arraybuffer". */
  binaryType: ApiGatewaySocket.BinaryType;
  /** False once the client will not reconnect by itself (closed, unauthorized, gave up). */
  readonly shouldReconnect: boolean;
  /** Number of messages waiting in the local queue. */
  readonly queueLength: number;
  /** The underlying WebSocket in use, or null. Do not close it yourself. */
  readonly socket: WebSocket | null;
  /** now() (ms) when the current connection opened, or null when not open. */
  readonly connectedAt: number | null;
  /** `expires_in` (seconds) of the last token answer, or null. */
  readonly tokenExpiresIn: number | null;

  /**
   * Sends `{action: options.action, handler, ...params}`. The Django view picks
   * its method by `handler`, then by `action`; API Gateway routes by `action`.
   * A key `action` in params overrides the default route for this message.
   * Queued while not open.
   *
   * @returns true if sent now, false if queued.
   * @throws ApiGatewaySocket.PayloadTooLargeError over `maxPayloadBytes`.
   * @throws TypeError for an empty handler or params that are not a plain object.
   */
  send(handler: string, params?: Record<string, unknown>): boolean;
  /**
   * Sends any JSON-serialisable value as-is. Queued while not open.
   * @returns true if sent now, false if queued.
   * @throws ApiGatewaySocket.PayloadTooLargeError over `maxPayloadBytes`.
   */
  sendJSON(value: unknown): boolean;
  /**
   * Sends a text frame as-is. Binary data is refused (API Gateway closes the
   * connection with 1003 on binary frames). Queued while not open.
   * @returns true if sent now, false if queued.
   * @throws ApiGatewaySocket.PayloadTooLargeError over `maxPayloadBytes`.
   * @throws TypeError for anything but a string.
   */
  sendRaw(text: string): boolean;

  /** Starts connecting if closed (`startClosed`, close(), unauthorized, giveup); else does nothing. */
  open(): void;
  /**
   * Closes the current socket (emitting `close`) and connects again at once
   * with a fresh token. Resets `retryCount`. Works from any state.
   * @param code Close code for the old socket (1000 or 3000-4999), default 1000.
   * @param reason Close reason, default "reconnect".
   */
  reconnect(code?: number, reason?: string): void;
  /**
   * Closes the current socket, gets a new token and connects to `name`. Sends
   * made meanwhile are queued and reach the new channel.
   * @throws TypeError for an empty name.
   */
  switchChannel(name: string): void;
  /**
   * Replaces an open connection without a gap: a new socket with a fresh token
   * is opened, and the old one is closed only once the new one is open. Done
   * automatically every `refreshAfter` ms.
   * @returns false (and does nothing) when not open.
   */
  refresh(): boolean;
  /**
   * Closes for good: the socket is closed, every timer cleared, the
   * online/offline listeners removed; no reconnect follows. Your own listeners
   * stay (see destroy()) and queued messages stay for a later open().
   * Emits `close` unless already closed.
   */
  close(code?: number, reason?: string): void;
  /** close(), then removes every listener and handler property and empties the queue. */
  destroy(): void;

  /** Adds a listener. `options.once` and `options.signal` (AbortSignal) are honoured. */
  addEventListener<K extends keyof ApiGatewaySocket.EventMap>(
    type: K,
    listener: ApiGatewaySocket.Listener<ApiGatewaySocket.EventMap[K]>,
    options?: ApiGatewaySocket.ListenerOptions
  ): void;
  /** Listens for messages whose JSON has `"type": type` (see TypedMessageEvent). */
  addEventListener<T = any>(
    type: string,
    listener: ApiGatewaySocket.Listener<ApiGatewaySocket.TypedMessageEvent<T>>,
    options?: ApiGatewaySocket.ListenerOptions
  ): void;
  removeEventListener<K extends keyof ApiGatewaySocket.EventMap>(
    type: K,
    listener: ApiGatewaySocket.Listener<ApiGatewaySocket.EventMap[K]>
  ): void;
  removeEventListener(type: string, listener: ApiGatewaySocket.Listener<any>): void;
  /** Adds a listener; returns a function that removes it (handy in React effects). */
  on<K extends keyof ApiGatewaySocket.EventMap>(
    type: K,
    listener: ApiGatewaySocket.Listener<ApiGatewaySocket.EventMap[K]>
  ): () => void;
  on<T = any>(type: string, listener: ApiGatewaySocket.Listener<ApiGatewaySocket.TypedMessageEvent<T>>): () => void;
  /** Like on(), but the listener runs at most once. */
  once<K extends keyof ApiGatewaySocket.EventMap>(
    type: K,
    listener: ApiGatewaySocket.Listener<ApiGatewaySocket.EventMap[K]>
  ): () => void;
  once<T = any>(type: string, listener: ApiGatewaySocket.Listener<ApiGatewaySocket.TypedMessageEvent<T>>): () => void;
  /** Same as removeEventListener. */
  off(type: string, listener: ApiGatewaySocket.Listener<any>): void;
  /** Number of listeners for one event type (handler properties not counted). */
  listenerCount(type: string): number;
  /** Delivers an event object with a string `type` to the listeners. Returns true. */
  dispatchEvent(event: { type: string; [key: string]: unknown }): boolean;

  /** WebSocket-style handler properties; each runs before the listeners of its event. */
  onopen: ((this: ApiGatewaySocket, event: ApiGatewaySocket.OpenEvent) => void) | null;
  onmessage: ((this: ApiGatewaySocket, event: ApiGatewaySocket.MessageEvent) => void) | null;
  onclose: ((this: ApiGatewaySocket, event: ApiGatewaySocket.CloseEvent) => void) | null;
  onerror: ((this: ApiGatewaySocket, event: ApiGatewaySocket.ErrorEvent) => void) | null;
  onreconnecting: ((this: ApiGatewaySocket, event: ApiGatewaySocket.ReconnectingEvent) => void) | null;
  onunauthorized: ((this: ApiGatewaySocket, event: ApiGatewaySocket.UnauthorizedEvent) => void) | null;
  ondropped: ((this: ApiGatewaySocket, event: ApiGatewaySocket.DroppedEvent) => void) | null;
  ongiveup: ((this: ApiGatewaySocket, event: ApiGatewaySocket.GiveUpEvent) => void) | null;
}

declare class ApiGatewaySocketPayloadTooLargeError extends Error {
  constructor(size: number, limit: number);
  name: "PayloadTooLargeError";
  /** Size of the refused message in UTF-8 bytes. */
  readonly size: number;
  /** The limit it went over (maxPayloadBytes). */
  readonly limit: number;
}

declare class ApiGatewaySocketTokenError extends Error {
  constructor(message: string, status?: number, cause?: unknown);
  name: "TokenError";
  /** HTTP status of the token answer; 0 for a network error or a bad answer from getToken. */
  readonly status: number;
  /** True for 401 and 403: the client stops and emits `unauthorized`. */
  readonly unauthorized: boolean;
  readonly cause?: unknown;
}

declare class ApiGatewaySocketConnectionTimeoutError extends Error {
  constructor(ms: number);
  name: "ConnectionTimeoutError";
  /** The connectionTimeout that passed, in ms. */
  readonly timeout: number;
}

declare namespace ApiGatewaySocket {
  type PayloadTooLargeError = ApiGatewaySocketPayloadTooLargeError;
  type TokenError = ApiGatewaySocketTokenError;
  type ConnectionTimeoutError = ApiGatewaySocketConnectionTimeoutError;

  type ReadyState = 0 | 1 | 2 | 3;
  type BinaryType = "blob" | "arraybuffer";
  type MaybePromise<T> = T | Promise<T>;

  /** What url and the option providers get: the channel and the attempt number. */
  interface AttemptContext {
    /** Channel of this attempt (null when none). */
    channel: string | null;
    /** retryCount when the attempt started (0 for the first). */
    attempt: number;
  }

  type UrlProvider = string | URL | ((context: AttemptContext) => MaybePromise<string | URL>);
  type QueryValue = string | number | boolean | null | undefined;
  type QueryParams = Record<string, QueryValue>;
  type Protocols = string | string[] | null;

  /** What the token view answers (POST tokenUrl). */
  interface TokenAnswer {
    token: string;
    /** Lifetime of the token in seconds. */
    expires_in?: number;
  }

  /** The parts of the WebSocket constructor the client uses. */
  interface WebSocketLike {
    readonly readyState: number;
    readonly url?: string;
    readonly protocol?: string;
    readonly extensions?: string;
    readonly bufferedAmount?: number;
    binaryType?: string;
    onopen: ((event: any) => void) | null;
    onmessage: ((event: any) => void) | null;
    onerror: ((event: any) => void) | null;
    onclose: ((event: any) => void) | null;
    send(data: string): void;
    close(code?: number, reason?: string): void;
  }
  type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

  /** The minimal response object the client reads from fetch. */
  interface FetchResponseLike {
    readonly status: number;
    readonly ok: boolean;
    json(): Promise<any>;
  }
  type FetchLike = (
    url: string,
    init: { method: "POST"; credentials: "include"; headers: Record<string, string> }
  ) => Promise<FetchResponseLike>;

  /** Where online/offline events come from (the window in a browser). */
  interface EventTargetLike {
    addEventListener(type: "online" | "offline", listener: () => void): void;
    removeEventListener(type: "online" | "offline", listener: () => void): void;
  }

  interface Options {
    // ---- where and what

    /** Channel to join: sent as `channel=<name>` on the URL. Default null (no parameter). */
    channel?: string | null;
    /**
     * Extra query parameters for every attempt, or a function (sync or async)
     * returning them. null/undefined values are left out; `channel` and
     * `ws_token` are always set by the client. Default null.
     */
    query?: QueryParams | ((context: AttemptContext) => MaybePromise<QueryParams | null | undefined>) | null;
    /**
     * WebSocket subprotocols, or a function (sync or async) returning them before
     * each attempt. API Gateway can select one in the $connect answer. Default null.
     */
    protocols?: Protocols | ((context: AttemptContext) => MaybePromise<Protocols>);
    /** binaryType of each socket ("blob" or "arraybuffer"). Default null: the WebSocket's own. */
    binaryType?: BinaryType | null;
    /**
     * The `action` key of messages sent with send(): API Gateway's route
     * selection expression (`$request.body.action`) routes by it. Default "default".
     */
    action?: string;

    // ---- tokens

    /**
     * URL of the Django token view, POSTed before every attempt with
     * `credentials: "include"` and the CSRF header; the answer is
     * `{"token": "...", "expires_in": seconds}`. null or false: connect without a
     * token (no `ws_token` parameter). Default "/websockets/token/".
     */
    tokenUrl?: string | null | false;
    /**
     * Gets the token yourself instead of the POST to tokenUrl: called before
     * every attempt; return the token string or `{token, expires_in}`. Throw an
     * error with `status` 401 or 403 (or `unauthorized: true`) to stop
     * reconnecting with an `unauthorized` event; any other error backs off and
     * retries. Default null.
     */
    getToken?: ((context: AttemptContext) => MaybePromise<string | TokenAnswer>) | null;
    /** Extra headers for the token request, or a function (sync or async) returning them. Default null. */
    tokenHeaders?:
      | Record<string, string>
      | ((context: AttemptContext) => MaybePromise<Record<string, string> | null | undefined>)
      | null;
    /**
     * The CSRF token itself, or a function returning it, for sites whose CSRF
     * cookie is HttpOnly (read it from `{% csrf_token %}` or a meta tag). Default
     * null: read the cookie named csrfCookieName.
     */
    csrfToken?: string | ((context: AttemptContext) => string | null | undefined) | null;
    /** Name of Django's CSRF cookie (settings.CSRF_COOKIE_NAME). Default "csrftoken". */
    csrfCookieName?: string;
    /** Header that carries the CSRF token (settings.CSRF_HEADER_NAME). Default "X-CSRFToken". */
    csrfHeaderName?: string;

    // ---- reconnection

    /**
     * Base of the backoff, ms. The delay before retry n (n = 0, 1, ...) is
     * `random() * min(maxDelay, minDelay * backoffFactor ** n)` (full jitter).
     * Default 1000. Alias: minReconnectionDelay.
     */
    minDelay?: number;
    /** Ceiling of the backoff, ms. Default 30000. Alias: maxReconnectionDelay. */
    maxDelay?: number;
    /** Growth factor of the backoff (>= 1). Default 2. Alias: reconnectionDelayGrowFactor. */
    backoffFactor?: number;
    /**
     * Retries after failures before giving up with a `giveup` event (the client
     * then reads CLOSED; open() starts again). Default Infinity.
     */
    maxRetries?: number;
    /**
     * A connection must stay up this long (ms) before retryCount goes back to 0;
     * one that drops sooner keeps the backoff growing. Default 5000.
     */
    minUptime?: number;
    /**
     * A handshake that has not opened after this many ms is closed and counted
     * as a failed attempt (`error` with ConnectionTimeoutError, `close` 1006).
     * Default 10000. Infinity disables.
     */
    connectionTimeout?: number;

    // ---- API Gateway limits

    /**
     * Send heartbeatMessage every heartbeatInterval ms while open, so that API
     * Gateway's 10-minute idle timeout never fires (it ignores ping/pong
     * frames). false disables. Default true.
     */
    heartbeat?: boolean;
    /** Heartbeat period in ms (keep it under 10 minutes). Default 300000 (5 minutes). */
    heartbeatInterval?: number;
    /** Heartbeat message: an object (sent as JSON) or a string. Default {"action": "heartbeat"}. */
    heartbeatMessage?: string | Record<string, unknown>;
    /**
     * Age in ms at which an open connection is replaced, make-before-break,
     * ahead of API Gateway's 2-hour maximum connection time. false or 0
     * disables. Default 6900000 (115 minutes).
     */
    refreshAfter?: number | false | null;
    /**
     * Largest message, in UTF-8 bytes of its JSON text, that the send methods
     * accept; bigger ones throw PayloadTooLargeError. Default 131072 (API
     * Gateway's 128 KB limit).
     */
    maxPayloadBytes?: number;

    // ---- queue

    /**
     * Most messages kept while not open; when full, the oldest is dropped with
     * a `dropped` event. 0 queues nothing. Default 100. Alias: maxEnqueuedMessages.
     */
    maxQueueSize?: number;

    // ---- start-up and diagnostics

    /** Do not connect until open() (or reconnect()/switchChannel()). Default false. */
    startClosed?: boolean;
    /** Log what the client does through debugLogger (tokens are redacted). Default false. */
    debug?: boolean;
    /** Receives debug lines (first argument "[ApiGatewaySocket]"). Default console.log. */
    debugLogger?: ((...args: unknown[]) => void) | null;

    // ---- injectable environment (tests, Node, unusual hosts)

    /** WebSocket constructor (in Node 20, for example, the `ws` package). Default the global one. */
    WebSocket?: WebSocketConstructor | null;
    /** fetch for the token request. Default the global fetch. */
    fetch?: FetchLike | null;
    /** Default the global setTimeout. */
    setTimeout?: ((callback: () => void, ms: number) => unknown) | null;
    /** Default the global clearTimeout. */
    clearTimeout?: ((id: any) => void) | null;
    /** Default the global setInterval. */
    setInterval?: ((callback: () => void, ms: number) => unknown) | null;
    /** Default the global clearInterval. */
    clearInterval?: ((id: any) => void) | null;
    /** Source of randomness for the jitter, in [0, 1). Default Math.random. */
    random?: (() => number) | null;
    /** Clock in ms (event timeStamp, connection age). Default Date.now. */
    now?: (() => number) | null;
    /** Returns the cookie string the CSRF cookie is read from. Default () => document.cookie. */
    getCookies?: (() => string) | null;
    /** Where online/offline events come from. Default the global object when it has addEventListener. */
    eventTarget?: EventTargetLike | null;
    /** Whether the network is up. Default () => navigator.onLine !== false. */
    isOnline?: (() => boolean) | null;

    // ---- aliases (reconnecting-websocket / partysocket names)

    /** Alias of minDelay. */
    minReconnectionDelay?: number;
    /** Alias of maxDelay. */
    maxReconnectionDelay?: number;
    /** Alias of backoffFactor. */
    reconnectionDelayGrowFactor?: number;
    /** Alias of maxQueueSize. */
    maxEnqueuedMessages?: number;
  }

  /** The option values, all present (see ApiGatewaySocket.DEFAULTS). */
  type Defaults = {
    [K in Exclude<
      keyof Options,
      "minReconnectionDelay" | "maxReconnectionDelay" | "reconnectionDelayGrowFactor" | "maxEnqueuedMessages"
    >]-?: Options[K];
  };

  // ---- events

  interface BaseEvent {
    type: string;
    target: ApiGatewaySocket;
    /** now() when the event was emitted. */
    timeStamp: number;
  }
  /** A connection opened (queued messages were flushed just before). */
  interface OpenEvent extends BaseEvent {
    type: "open";
    /** True when this connection replaced an older one (refresh, no gap). */
    refreshed: boolean;
  }
  /** A message arrived (empty frames are ignored). */
  interface MessageEvent<T = any> extends BaseEvent {
    type: "message";
    /** The JSON-decoded message; text that is not JSON as a string; binary data untouched. */
    data: T;
    /** The frame as received. */
    raw: string | ArrayBuffer | Blob;
    origin: string;
  }
  /**
   * A message whose JSON is an object with a non-empty string `type` is also
   * emitted as an event of that name (after `message`), unless the name is one
   * of the lifecycle events (open, message, close, error, reconnecting,
   * unauthorized, dropped, giveup): those arrive as `message` only.
   */
  interface TypedMessageEvent<T = any> extends BaseEvent {
    data: T;
    raw: string;
  }
  /**
   * The connection ended: closed by the server or network (code as received),
   * a handshake timeout (1006), or close()/reconnect()/switchChannel() (the
   * code given, wasClean true). A refresh emits no close.
   */
  interface CloseEvent extends BaseEvent {
    type: "close";
    code: number;
    reason: string;
    wasClean: boolean;
  }
  /** A socket error, a failed token request, a handshake timeout or a failed refresh. */
  interface ErrorEvent extends BaseEvent {
    type: "error";
    /** TokenError, ConnectionTimeoutError, or what the WebSocket reported (often nothing). */
    error?: unknown;
    message: string;
    /** True when only a make-before-break refresh failed; the connection is still open. */
    refresh?: boolean;
  }
  /** A retry is scheduled. */
  interface ReconnectingEvent extends BaseEvent {
    type: "reconnecting";
    /** 1 for the first retry after a success. */
    attempt: number;
    /** Wait before it, ms. */
    delay: number;
  }
  /** The token endpoint (or getToken) answered 401/403: the client stopped (CLOSED). */
  interface UnauthorizedEvent extends BaseEvent {
    type: "unauthorized";
    status: number;
    error: unknown;
  }
  /** The queue was full: its oldest message was dropped. */
  interface DroppedEvent extends BaseEvent {
    type: "dropped";
    /** What was passed to send/sendJSON (the full message object) or sendRaw. */
    data: unknown;
    /** Its JSON text. */
    raw: string;
  }
  /** maxRetries was reached: the client stopped (CLOSED). */
  interface GiveUpEvent extends BaseEvent {
    type: "giveup";
    attempts: number;
  }

  interface EventMap {
    open: OpenEvent;
    message: MessageEvent;
    close: CloseEvent;
    error: ErrorEvent;
    reconnecting: ReconnectingEvent;
    unauthorized: UnauthorizedEvent;
    dropped: DroppedEvent;
    giveup: GiveUpEvent;
  }
  type LifecycleEventName = keyof EventMap;

  type Listener<E> = ((this: ApiGatewaySocket, event: E) => void) | { handleEvent(event: E): void };

  interface ListenerOptions {
    once?: boolean;
    signal?: AbortSignal;
  }
}

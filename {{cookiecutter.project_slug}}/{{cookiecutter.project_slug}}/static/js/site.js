/*
 * Helpers the example pages share: open a socket from the page's settings, show its
 * state in a status element (data-state="connecting|open|reconnecting|closed|
 * unauthorized|unconfigured"), and show toasts in #toasts. Needs apigw-socket.js.
 */
(function () {
  "use strict";

  var LABELS = {
    connecting: "Connecting…",
    open: "Live",
    reconnecting: "Reconnecting…",
    closed: "Disconnected",
    unauthorized: "Logged out: log in again",
    unconfigured: "No WebSocket API yet: start the site with make dev",
  };

  function setStatus(element, state) {
    if (!element) return;
    element.dataset.state = state;
    element.textContent = LABELS[state] || state;
  }

  /** The JSON a template wrote with {{ value|json_script:"id" }}. */
  function readConfig(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  /**
   * A socket on config.channel, or null when the site has no WebSocket API yet.
   * config: {websocketUrl, channel, action, tokenUrl} (from the context mixins).
   */
  function connect(config, statusElement, options) {
    if (!config.websocketUrl) {
      setStatus(statusElement, "unconfigured");
      return null;
    }
    var socket = new window.ApiGatewaySocket(
      config.websocketUrl,
      Object.assign({ channel: config.channel, action: config.action, tokenUrl: config.tokenUrl }, options || {})
    );
    setStatus(statusElement, "connecting");
    socket.on("open", function () { setStatus(statusElement, "open"); });
    socket.on("close", function () { setStatus(statusElement, "closed"); });
    socket.on("reconnecting", function () { setStatus(statusElement, "reconnecting"); });
    socket.on("unauthorized", function () { setStatus(statusElement, "unauthorized"); });
    socket.on("giveup", function () { setStatus(statusElement, "closed"); });
    // Handy in the browser console: Site.socket.send("handler", {...}).
    Site.socket = socket;
    return socket;
  }

  /**
   * Call report(text) when the server refuses a message in a way the page has no
   * handler for: an {"error": ...} answer from WebSocketView's own checks, or the
   * site view's {"type": "unhandled"} (a route that is not deployed, say).
   */
  function onServerError(socket, report) {
    socket.on("message", function (event) {
      var data = event.data;
      if (!data || typeof data !== "object") return;
      if (typeof data.error === "string" && !data.type) {
        report(data.error);
      } else if (data.type === "unhandled") {
        report("The server has no handler for this message (is its API Gateway route deployed?)");
      }
    });
  }

  /**
   * A <time> element for an ISO 8601 timestamp (as the server sends them), its text
   * in the browser's locale and time zone: the one way the pages show a time.
   * options: Intl.DateTimeFormat options (default: date and time).
   */
  function timeElement(iso, options) {
    var element = document.createElement("time");
    element.dateTime = iso;
    element.textContent = new Date(iso).toLocaleString(undefined, options);
    return element;
  }

  /**
   * A toast in #toasts that goes away after a while or when clicked; ``time`` (an ISO
   * 8601 timestamp, optional) is shown under the text.
   */
  function toast(title, body, level, time) {
    var container = document.getElementById("toasts");
    if (!container) return null;
    var element = document.createElement("div");
    element.className = "toast";
    element.dataset.level = level || "info";
    element.setAttribute("role", "status");
    var heading = document.createElement("strong");
    heading.textContent = title;
    element.appendChild(heading);
    if (body) {
      var text = document.createElement("p");
      text.textContent = body;
      element.appendChild(text);
    }
    if (time) element.appendChild(timeElement(time));
    element.addEventListener("click", function () { element.remove(); });
    container.appendChild(element);
    window.setTimeout(function () { element.remove(); }, 8000);
    return element;
  }

  var Site = {
    setStatus: setStatus,
    readConfig: readConfig,
    connect: connect,
    onServerError: onServerError,
    timeElement: timeElement,
    toast: toast,
    socket: null,
  };
  window.Site = Site;
})();

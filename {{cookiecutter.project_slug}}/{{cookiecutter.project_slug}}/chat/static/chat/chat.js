/*
 * The room page: shows the room's messages and keeps a socket on the room's channel.
 *
 * Sends (through the "chat" route to ChatWebSocketView):
 *   send_message  {text}            stored, then multicast to the room (us included)
 *   fetch_history {before | after}  answered to us only as "chat.history"
 * Receives: "chat.message", "chat.history", "chat.error".
 *
 * Message text is only ever put into the page with textContent: whatever users
 * type is shown as text, never parsed as HTML.
 */
(function () {
  "use strict";

  var config = Site.readConfig("chat-config");
  var list = document.getElementById("messages");
  var log = list.parentElement;
  var olderButton = document.getElementById("load-older");
  var form = document.getElementById("message-form");
  var input = document.getElementById("message-text");
  var errorBox = document.getElementById("chat-error");
  var shownIds = new Set();
  var openedBefore = false;
  var errorTimer = null;

  function idOf(item) {
    return Number(item.dataset.id);
  }

  function render(message) {
    var item = document.createElement("li");
    item.className = "chat-message";
    item.dataset.id = String(message.id);
    if (message.author === config.username) item.classList.add("mine");
    var meta = document.createElement("div");
    meta.className = "meta";
    var author = document.createElement("span");
    author.className = "author";
    author.textContent = message.author || "(deleted user)";
    var time = document.createElement("time");
    time.dateTime = message.created_on;
    time.textContent = new Date(message.created_on).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    meta.append(author, " ", time);
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = message.text;
    item.append(meta, text);
    return item;
  }

  /** Insert messages in id order, skipping any already shown (reconnects overlap). */
  function show(messages) {
    var nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    var appendedAtEnd = false;
    messages.forEach(function (message) {
      if (shownIds.has(message.id)) return;
      shownIds.add(message.id);
      var item = render(message);
      var next = Array.prototype.find.call(list.children, function (other) {
        return idOf(other) > message.id;
      });
      if (next) {
        list.insertBefore(item, next);
      } else {
        list.appendChild(item);
        appendedAtEnd = true;
      }
    });
    if (appendedAtEnd && nearBottom) log.scrollTop = log.scrollHeight;
  }

  function oldestId() {
    return list.firstElementChild ? idOf(list.firstElementChild) : null;
  }

  function newestId() {
    return list.lastElementChild ? idOf(list.lastElementChild) : null;
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
    window.clearTimeout(errorTimer);
    errorTimer = window.setTimeout(function () { errorBox.hidden = true; }, 5000);
  }

  show(config.messages);
  olderButton.hidden = !config.hasMore;
  log.scrollTop = log.scrollHeight;

  var socket = Site.connect(config, document.getElementById("status"));
  if (!socket) {
    form.querySelector("button").disabled = true;
    return;
  }

  socket.on("open", function () {
    // After a reconnect, fetch what was said while we were away.
    if (openedBefore) {
      var newest = newestId();
      socket.send("fetch_history", newest === null ? {} : { after: newest });
    }
    openedBefore = true;
  });

  socket.on("chat.message", function (event) {
    show([event.data.message]);
  });

  socket.on("chat.history", function (event) {
    var answer = event.data;
    show(answer.messages);
    if (answer.direction === "before") {
      olderButton.hidden = !answer.has_more;
      olderButton.disabled = false;
    } else if (answer.has_more) {
      socket.send("fetch_history", { after: newestId() });
    }
  });

  socket.on("chat.error", function (event) {
    showError(event.data.error);
    olderButton.disabled = false;
  });
  Site.onServerError(socket, showError);

  olderButton.addEventListener("click", function () {
    olderButton.disabled = true;
    socket.send("fetch_history", { before: oldestId() });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    socket.send("send_message", { text: text });
    input.value = "";
    input.focus();
  });
})();

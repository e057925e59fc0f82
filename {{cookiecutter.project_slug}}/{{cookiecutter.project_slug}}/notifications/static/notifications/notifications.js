/*
 * The notifications page: a list, an unread count and toasts, kept in step on every
 * tab of the user. Receives (sent to all of the user's connections):
 *   "notification"          {notification, unread}   a new one: toast + list
 *   "notifications.read"    {ids, unread}            read on some tab: update here too
 *   "notifications.summary" {notifications, unread}  answer to "summary" (after a reconnect)
 * Sends, through the "notifications" route: mark_read {ids | all}, summary, send_test.
 */
(function () {
  "use strict";

  var config = Site.readConfig("notifications-config");
  var list = document.getElementById("notification-list");
  var empty = document.getElementById("no-notifications");
  var counter = document.getElementById("unread-count");
  var socket = null;
  var openedBefore = false;

  function setUnread(count) {
    counter.textContent = String(count);
    counter.dataset.count = String(count);
  }

  function itemFor(id) {
    return list.querySelector('li[data-id="' + Number(id) + '"]');
  }

  function markItemRead(item) {
    item.dataset.read = "true";
    var button = item.querySelector("button");
    if (button) button.remove();
  }

  function render(notification) {
    var item = document.createElement("li");
    item.className = "notification";
    item.dataset.id = String(notification.id);
    item.dataset.level = notification.level;
    item.dataset.read = String(notification.read);
    var title = document.createElement("strong");
    title.className = "title";
    title.textContent = notification.title;
    item.append(title, " ", Site.timeElement(notification.created_on));
    if (notification.body) {
      var body = document.createElement("p");
      body.className = "body";
      body.textContent = notification.body;
      item.appendChild(body);
    }
    if (!notification.read) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link mark-read";
      button.textContent = "Mark as read";
      button.addEventListener("click", function () {
        if (socket) socket.send("mark_read", { ids: [notification.id] });
      });
      item.appendChild(button);
    }
    return item;
  }

  /** Show a notification once, newest first. */
  function show(notification) {
    if (itemFor(notification.id)) return false;
    var item = render(notification);
    var next = Array.prototype.find.call(list.children, function (other) {
      return Number(other.dataset.id) < notification.id;
    });
    list.insertBefore(item, next || null);
    empty.hidden = true;
    return true;
  }

  config.notifications.forEach(show);
  empty.hidden = list.children.length > 0;

  socket = Site.connect(config, document.getElementById("status"));
  var sendTest = document.getElementById("send-test");
  var markAll = document.getElementById("mark-all-read");
  if (!socket) {
    sendTest.disabled = markAll.disabled = true;
    return;
  }

  socket.on("open", function () {
    if (openedBefore) socket.send("summary");
    openedBefore = true;
  });

  socket.on("notification", function (event) {
    var notification = event.data.notification;
    if (show(notification)) {
      Site.toast(notification.title, notification.body, notification.level, notification.created_on);
    }
    setUnread(event.data.unread);
  });

  socket.on("notifications.read", function (event) {
    event.data.ids.forEach(function (id) {
      var item = itemFor(id);
      if (item) markItemRead(item);
    });
    setUnread(event.data.unread);
  });

  socket.on("notifications.summary", function (event) {
    event.data.notifications.forEach(function (notification) {
      show(notification);
      var item = itemFor(notification.id);
      if (notification.read && item) markItemRead(item);
    });
    setUnread(event.data.unread);
  });

  socket.on("notifications.error", function (event) {
    Site.toast("Not done", event.data.error, "error");
  });
  Site.onServerError(socket, function (text) { Site.toast("Not done", text, "error"); });

  sendTest.addEventListener("click", function () { socket.send("send_test"); });
  markAll.addEventListener("click", function () { socket.send("mark_read", { all: true }); });
})();

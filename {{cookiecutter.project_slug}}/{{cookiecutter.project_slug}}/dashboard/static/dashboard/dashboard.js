/*
 * The live dashboard: figures arrive as "dashboard.figures" messages, broadcast to
 * the "dashboard" channel by the producer (manage.py dashboard_producer) or by the
 * "refresh" handler. Charts are plain SVG polylines: no library, no CDN.
 */
(function () {
  "use strict";

  var MAX_POINTS = 60;
  var SVG = "http://www.w3.org/2000/svg";
  var config = Site.readConfig("dashboard-config");
  var samples = config.samples.slice(-MAX_POINTS);

  function drawChart(svg, values) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var width = 300;
    var height = 80;
    var top = Math.max(1, Math.max.apply(null, values.concat([0])));
    var step = values.length > 1 ? width / (values.length - 1) : 0;
    var points = values.map(function (value, index) {
      var x = values.length > 1 ? index * step : width;
      var y = height - 4 - (value / top) * (height - 8);
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    if (points.length === 1) points.unshift("0," + points[0].split(",")[1]);
    if (!points.length) return;
    var area = document.createElementNS(SVG, "polygon");
    area.setAttribute("class", "area");
    area.setAttribute("points", "0," + height + " " + points.join(" ") + " " + width + "," + height);
    var line = document.createElementNS(SVG, "polyline");
    line.setAttribute("class", "line");
    line.setAttribute("points", points.join(" "));
    svg.dataset.points = String(values.length);
    svg.append(area, line);
  }

  function showChannels(channels) {
    var body = document.getElementById("channels");
    body.replaceChildren();
    channels.forEach(function (row) {
      var tr = document.createElement("tr");
      var name = document.createElement("td");
      name.textContent = row.channel;
      var count = document.createElement("td");
      count.textContent = String(row.connections);
      tr.append(name, count);
      body.appendChild(tr);
    });
    if (!channels.length) {
      var empty = document.createElement("tr");
      var cell = document.createElement("td");
      cell.colSpan = 2;
      cell.textContent = "No open connections";
      empty.appendChild(cell);
      body.appendChild(empty);
    }
  }

  function render() {
    var latest = samples[samples.length - 1];
    if (!latest) return;
    document.getElementById("connections-total").textContent = String(latest.connections);
    document.getElementById("messages-rate").textContent = latest.messages_per_minute.toFixed(1);
    var updated = document.getElementById("last-update");
    updated.dateTime = latest.taken_on;
    updated.textContent = new Date(latest.taken_on).toLocaleTimeString();
    drawChart(document.getElementById("connections-chart"), samples.map(function (s) { return s.connections; }));
    drawChart(document.getElementById("rate-chart"), samples.map(function (s) { return s.messages_per_minute; }));
    showChannels(latest.channels);
  }

  function add(sample) {
    if (samples.some(function (known) { return known.id === sample.id; })) return;
    samples.push(sample);
    samples.sort(function (a, b) { return a.taken_on < b.taken_on ? -1 : a.taken_on > b.taken_on ? 1 : a.id - b.id; });
    samples = samples.slice(-MAX_POINTS);
    render();
  }

  render();
  var socket = Site.connect(config, document.getElementById("status"));
  var refresh = document.getElementById("refresh");
  if (!socket) {
    refresh.disabled = true;
    return;
  }
  socket.on("open", function () { socket.send("latest"); });
  socket.on("dashboard.figures", function (event) { add(event.data.sample); });
  socket.on("dashboard.error", function (event) { Site.toast("Not done", event.data.error, "error"); });
  Site.onServerError(socket, function (text) { Site.toast("Not done", text, "error"); });
  refresh.addEventListener("click", function () { socket.send("refresh"); });
})();

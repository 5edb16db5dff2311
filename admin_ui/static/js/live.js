/* The alert page: counts per channel and status, refreshed every two seconds. */
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var url = live.getAttribute("data-stats-url");
  var names = JSON.parse(live.getAttribute("data-state-names") || "{}");
  var cells = live.querySelectorAll("td[data-channel]");
  var PERIOD = 2000;

  function apply(d) {
    cells.forEach(function (td) {
      var counts = d.stats.channels[td.getAttribute("data-channel")] || {};
      td.textContent = counts[td.getAttribute("data-status")] || 0;
    });
    document.getElementById("progress-bar").value = d.progress.percent;
    var text = document.getElementById("progress-text");
    text.textContent = d.progress.percent + "%";
    text.setAttribute("data-percent", d.progress.percent);
    document.getElementById("progress-count").textContent = d.progress.handed_over;
    document.getElementById("progress-total").textContent = d.progress.total;
    document.getElementById("recipients").textContent = d.stats.recipients;
    document.getElementById("acknowledged").textContent = d.stats.acknowledged;
    var moved = Object.keys(d.stats.failovers || {}).sort().map(function (k) {
      return k + " " + d.stats.failovers[k];
    });
    document.getElementById("failovers").textContent = moved.join(", ") || "0";
    document.getElementById("alert-state").textContent = names[d.state] || d.state;
  }

  function poll() {
    if (document.hidden) { setTimeout(poll, PERIOD); return; }
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) { apply(d); } })
      .catch(function () { /* offline for a moment: try again at the next tick */ })
      .then(function () { setTimeout(poll, PERIOD); });
  }
  setTimeout(poll, PERIOD);
}());

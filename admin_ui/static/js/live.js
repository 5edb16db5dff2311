/* The alert page: counts per channel and status, polled from stats.json, saying when they were
   last updated and warning, after two failed polls, that they may be out of date. */
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var url = live.getAttribute("data-stats-url");
  var names = JSON.parse(live.getAttribute("data-state-names") || "{}");
  var cells = live.querySelectorAll("td[data-channel]");
  var statusLine = document.getElementById("live-status");
  var warning = document.getElementById("live-stale");
  var deliveries = document.getElementById("deliveries");
  // The counts the deliveries table was rendered with: when the polled ones differ, it is old.
  var rendered = deliveries ? JSON.parse(deliveries.getAttribute("data-counts") || "{}") : {};
  var SENDING = 2000;  // while the alert goes out
  var SETTLING = 10000;  // stopped or sent, waiting for providers' receipts
  var TIMEOUT = 8000;  // a server that accepts the connection but never answers is a failure too
  var STALE_AFTER = 2;  // failed polls in a row before the warning
  var lastClock = live.getAttribute("data-clock");
  var failures = 0;

  function text(name, time) {
    return (live.getAttribute("data-text-" + name) || "").replace("{time}", time);
  }

  function count(channels, channel, status) {
    return (channels[channel] || {})[status] || 0;
  }

  function sameCounts(a, b) {
    var keys = {};
    [a, b].forEach(function (side) {
      Object.keys(side).forEach(function (c) {
        Object.keys(side[c]).forEach(function (s) { keys[c + "\u0000" + s] = [c, s]; });
      });
    });
    return Object.keys(keys).every(function (k) {
      return count(a, keys[k][0], keys[k][1]) === count(b, keys[k][0], keys[k][1]);
    });
  }

  function matching(channels) {
    var wantChannel = deliveries.getAttribute("data-filter-channel");
    var wantStatus = deliveries.getAttribute("data-filter-status");
    var n = 0;
    Object.keys(channels).forEach(function (c) {
      if (wantChannel && c !== wantChannel) { return; }
      Object.keys(channels[c]).forEach(function (s) {
        if (!wantStatus || s === wantStatus) { n += channels[c][s]; }
      });
    });
    return n;
  }

  function markTable(channels) {
    if (!deliveries) { return; }
    var changed = !sameCounts(rendered, channels);
    document.getElementById("deliveries-stale").hidden = !changed;
    var empty = document.getElementById("deliveries-empty");
    // Never "none yet" under counts that show deliveries.
    if (empty && changed && matching(channels) > 0) {
      empty.textContent = deliveries.getAttribute("data-text-new-rows");
    }
  }

  function apply(d) {
    cells.forEach(function (td) {
      td.textContent = count(d.stats.channels, td.getAttribute("data-channel"),
                             td.getAttribute("data-status"));
    });
    document.getElementById("progress-bar").value = d.progress.percent;
    var pct = document.getElementById("progress-text");
    pct.textContent = d.progress.percent + "%";
    pct.setAttribute("data-percent", d.progress.percent);
    document.getElementById("progress-count").textContent = d.progress.handed_over;
    document.getElementById("progress-total").textContent = d.progress.total;
    document.getElementById("recipients").textContent = d.stats.recipients;
    document.getElementById("acknowledged").textContent = d.stats.acknowledged;
    var moved = Object.keys(d.stats.failovers || {}).sort().map(function (k) {
      return k + " " + d.stats.failovers[k];
    });
    document.getElementById("failovers").textContent = moved.join(", ") || "0";
    var state = document.getElementById("alert-state");
    state.textContent = d.state_label || names[d.state] || d.state;
    state.setAttribute("data-state", d.state);
    lastClock = d.clock;
    statusLine.textContent = text(d.final ? "final" : "updated", d.clock);
    statusLine.setAttribute("data-as-of", d.as_of);
    markTable(d.stats.channels);
  }

  function answered() {
    failures = 0;
    warning.textContent = "";
    live.classList.remove("is-stale");
  }

  function unanswered(signedOut) {
    failures += 1;
    if (failures < STALE_AFTER) { return; }
    var message = text(signedOut ? "signed-out" : "stale", lastClock);
    // Rewritten only when it changes: a screen reader announces every change of role=alert.
    if (warning.textContent !== message) { warning.textContent = message; }
    live.classList.add("is-stale");
  }

  function poll() {
    if (document.hidden) { setTimeout(poll, SENDING); return; }
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT);
    var next = SENDING;
    fetch(url, {credentials: "same-origin", cache: "no-store", signal: controller.signal,
                headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (!r.ok) {
          var refused = new Error("stats.json answered " + r.status);
          refused.signedOut = r.status === 401;
          throw refused;
        }
        return r.json();
      })
      .then(function (d) {
        answered();
        apply(d);
        // Final: nothing will change any more, so stop asking.
        next = d.final ? null : (d.state === "sending" ? SENDING : SETTLING);
      }, function (e) {
        unanswered(Boolean(e && e.signedOut));
      })
      .then(function () {
        clearTimeout(timer);
        if (next) { setTimeout(poll, next); }
      });
  }

  if (live.getAttribute("data-final") !== "true") {
    statusLine.textContent = text("updated", lastClock);
    setTimeout(poll, SENDING);
  }
}());

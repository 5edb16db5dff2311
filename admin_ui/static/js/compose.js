/* The compose page: status look, message rows with a live SMS counter, drawing the area, and
   who the alert reaches, counted by the server as the area, channels and status change. */
(function () {
  "use strict";
  var form = document.getElementById("compose-form");
  if (!form) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var rows = document.getElementById("message-rows");

  /* Status: the whole page changes colour, and the matching banner shows. */
  function chosenStatus() {
    var checked = form.querySelector('input[name="status"]:checked');
    return checked ? checked.value : "";
  }
  function showStatus() {
    var status = chosenStatus();
    ["actual", "exercise", "test"].forEach(function (s) {
      document.body.classList.toggle("status-" + s, status.toLowerCase() === s);
    });
    document.querySelectorAll("[data-banner-for]").forEach(function (b) {
      b.hidden = b.getAttribute("data-banner-for") !== status;
    });
    refreshAllCounters();
    scheduleReach();
  }
  form.querySelectorAll('input[name="status"]').forEach(function (r) {
    r.addEventListener("change", showStatus);
  });

  /* Messages: add or remove a language; each row counts its SMS on the server. */
  var counterFormat = rows.getAttribute("data-counter-format");
  var plainFormat = rows.getAttribute("data-plain-format");
  var directions = JSON.parse(rows.getAttribute("data-directions") || "{}");
  var timers = new WeakMap();
  function counterOf(row) { return row.querySelector(".counter"); }
  function languageOf(row) { return row.querySelector(".lang select, .lang input"); }
  function refreshCounter(row) {
    var text = row.querySelector("textarea").value;
    var language = languageOf(row).value;
    fetch(rows.getAttribute("data-counter-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify({text: text, language: language, status: chosenStatus() || "Actual",
                            confirm: document.getElementById("confirm").checked,
                            machine: row.querySelector(".machine-mark input").checked})
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (info) {
      if (!info) { return; }
      var out = counterOf(row);
      out.textContent = info.characters ? counterFormat
        .replace("{encoding}", info.encoding).replace("{characters}", info.characters)
        .replace("{segments}", info.segments) : "";
      if (info.plain) {  /* what the plain punctuation box would make of it */
        out.textContent += " · " + plainFormat.replace("{encoding}", info.plain.encoding)
          .replace("{segments}", info.plain.segments);
      }
      out.setAttribute("data-plain-segments", info.plain ? info.plain.segments : "");
      out.setAttribute("data-segments", info.segments);
      out.setAttribute("data-encoding", info.encoding);
      out.classList.toggle("ucs2", info.encoding !== "GSM-7");
    });
  }
  function scheduleCounter(row) {
    clearTimeout(timers.get(row));
    timers.set(row, setTimeout(function () { refreshCounter(row); }, 250));
  }
  function refreshAllCounters() {
    rows.querySelectorAll(".message-row").forEach(function (row) {
      if (row.querySelector("textarea").value) { scheduleCounter(row); }
    });
  }
  /* The text box takes its language's lang and direction (Arabic is written right to left). */
  function showLanguage(row) {
    var tag = languageOf(row).value, box = row.querySelector("textarea");
    if (tag) { box.setAttribute("lang", tag); } else { box.removeAttribute("lang"); }
    box.setAttribute("dir", directions[tag] || "auto");
  }
  function wire(row) {
    row.querySelector("textarea").addEventListener("input", function () { scheduleCounter(row); });
    languageOf(row).addEventListener("change", function () { showLanguage(row); scheduleCounter(row); });
    var machine = row.querySelector(".machine-mark input");
    machine.addEventListener("change", function () {
      row.classList.toggle("machine-translated", machine.checked);
      scheduleCounter(row);  // the note residents read counts in the SMS
    });
    var remove = row.querySelector(".remove-language");
    remove.addEventListener("click", function () { row.remove(); updateRemoveButtons(); });
  }
  function updateRemoveButtons() {
    var all = rows.querySelectorAll(".message-row");
    all.forEach(function (row) { row.querySelector(".remove-language").hidden = all.length < 2; });
  }
  rows.querySelectorAll(".message-row").forEach(wire);
  var add = document.getElementById("add-language");
  add.hidden = false;
  add.addEventListener("click", function () {
    var next = 0;
    rows.querySelectorAll(".message-row").forEach(function (row) {
      next = Math.max(next, parseInt(row.getAttribute("data-index"), 10) + 1);
    });
    var html = document.getElementById("message-row-template").innerHTML.replace(/__i__/g, String(next));
    rows.insertAdjacentHTML("beforeend", html);
    var row = rows.lastElementChild;
    wire(row);
    updateRemoveButtons();
    languageOf(row).focus();
  });
  document.getElementById("confirm").addEventListener("change", refreshAllCounters);
  updateRemoveButtons();

  /* Reach: the form as it stands, posted (debounced) to reach.json, which counts it with the
     preview's own code. Only the latest answer is shown; typing is never held up. */
  var reachOut = document.getElementById("compose-reach");
  var reachTimer = null, reachAsked = 0, reachController = null;
  var REACH_FIELDS = ["status", "channels", "zones", "everyone", "area_description",
                      "area_geojson", "area_circles", "topic", "severity", "channels_mode",
                      "channels_reason"];
  function askReach() {
    var asked = ++reachAsked;
    if (reachController) { reachController.abort(); }
    reachController = window.AbortController ? new AbortController() : null;
    reachOut.setAttribute("aria-busy", "true");
    fetch(reachOut.getAttribute("data-url"), {
      method: "POST", credentials: "same-origin", body: new FormData(form),
      headers: {"X-CSRFToken": csrf, "Accept": "application/json"},
      signal: reachController ? reachController.signal : undefined
    }).then(function (r) {
      return r.json().then(function (body) { return {ok: r.ok, body: body}; });
    }).then(function (answer) {
      if (asked !== reachAsked) { return; }  // a newer question is on its way
      var body = answer.body || {};
      reachOut.textContent = body.text || "";
      reachOut.classList.toggle("reach-error", !answer.ok);
      reachOut.setAttribute("data-state", answer.ok ? "counted" : "invalid");
      reachOut.setAttribute("data-recipients", answer.ok ? String(body.recipients) : "");
      reachOut.removeAttribute("aria-busy");
      showPosts(answer.ok ? body.posts || [] : []);
    }).catch(function (e) {
      if (asked !== reachAsked || (e && e.name === "AbortError")) { return; }
      reachOut.textContent = reachOut.getAttribute("data-failed");  // never an old number
      reachOut.setAttribute("data-state", "failed");
      reachOut.removeAttribute("aria-busy");
    });
  }
  /* Each public post exactly as the worker will send it (text and length from the server). */
  var postsBox = document.getElementById("compose-posts");
  function showPosts(posts) {
    var list = postsBox.querySelector("ul");
    list.textContent = "";
    posts.forEach(function (p) {
      var item = document.createElement("li"), caption = document.createElement("p"),
          text = document.createElement("blockquote");
      item.setAttribute("data-testid", "compose-post");
      caption.textContent = p.caption;
      text.textContent = p.text;
      text.setAttribute("lang", p.language);
      item.appendChild(caption);
      item.appendChild(text);
      list.appendChild(item);
    });
    postsBox.hidden = posts.length === 0;
  }
  /* A message's words change the posts: asked again once a text is left, not at each key. */
  form.addEventListener("change", function (e) {
    if (e.target.name && /^(text|lang)_/.test(e.target.name)) { scheduleReach(); }
  });
  function scheduleReach() {
    clearTimeout(reachTimer);
    reachTimer = setTimeout(askReach, 400);
  }
  /* Listened to on each field, not only on the form, since a script writing a hidden field
     may dispatch a change event that does not bubble. */
  REACH_FIELDS.forEach(function (name) {
    form.querySelectorAll('[name="' + name + '"]').forEach(function (field) {
      field.addEventListener("input", scheduleReach);
      field.addEventListener("change", scheduleReach);
    });
  });

  /* Channels by severity: the boxes show the severity's channels; ticking one by hand means
     "the channels ticked below" (which then ask for a reason if they differ). */
  var bySeverity = form.querySelector('input[name="channels_mode"][value="severity"]');
  var ticked = form.querySelector('input[name="channels_mode"][value="chosen"]');
  var channelsField = document.getElementById("field-channels");
  var implied = JSON.parse(channelsField.getAttribute("data-severity-channels") || "{}");
  function showImplied() {
    if (!bySeverity || !bySeverity.checked) { return; }
    var chosen = implied[(document.getElementById("severity") || {}).value] || [];
    form.querySelectorAll('input[name="channels"]').forEach(function (box) {
      if (!box.disabled) { box.checked = chosen.indexOf(box.value) !== -1; }
    });
  }
  if (bySeverity) {
    bySeverity.addEventListener("change", showImplied);
    document.getElementById("severity").addEventListener("change", showImplied);
    form.querySelectorAll('input[name="channels"]').forEach(function (box) {
      box.addEventListener("click", function () { ticked.checked = true; scheduleReach(); });
    });
    showImplied();
  }

  /* The map: polygons and rectangles → GeoJSON, circles → {lat, lon, radius_m}. */
  var d = TocsinMap.data();
  var map = TocsinMap.baseMap(document.getElementById("map"), d);
  var drawn = new L.FeatureGroup().addTo(map);
  var geojsonBox = document.getElementById("area_geojson");
  var circlesBox = document.getElementById("area_circles");
  var summary = document.getElementById("drawn-summary");
  var summaryFormat = summary.getAttribute("data-format") || "{shapes} / {circles}";

  function round(x) { return Math.round(x * 1e6) / 1e6; }
  function loadFromBoxes() {
    drawn.clearLayers();
    try {
      if (geojsonBox.value.trim()) {
        L.geoJSON(JSON.parse(geojsonBox.value)).eachLayer(function (l) { drawn.addLayer(l); });
      }
      if (circlesBox.value.trim()) {
        JSON.parse(circlesBox.value).forEach(function (c) {
          drawn.addLayer(L.circle([c.lat, c.lon], {radius: c.radius_m}));
        });
      }
    } catch (e) { /* the server explains what is wrong with the text */ }
    if (drawn.getLayers().length) { map.fitBounds(drawn.getBounds(), {maxZoom: 16}); }
    describe();
  }
  function describe() {
    var shapes = 0, circles = 0;
    drawn.eachLayer(function (l) { if (l instanceof L.Circle) { circles += 1; } else { shapes += 1; } });
    summary.textContent = summaryFormat.replace("{shapes}", shapes).replace("{circles}", circles);
    summary.setAttribute("data-shapes", shapes);
    summary.setAttribute("data-circles", circles);
  }
  function serialize() {
    var features = [], circles = [];
    drawn.eachLayer(function (l) {
      if (l instanceof L.Circle) {
        var c = l.getLatLng();
        circles.push({lat: round(c.lat), lon: round(c.lng), radius_m: Math.round(l.getRadius())});
      } else {
        features.push(l.toGeoJSON(6));
      }
    });
    geojsonBox.value = features.length ? JSON.stringify({type: "FeatureCollection", features: features}) : "";
    circlesBox.value = circles.length ? JSON.stringify(circles) : "";
    describe();
    scheduleReach();
  }
  map.addControl(new L.Control.Draw({
    edit: {featureGroup: drawn},
    draw: {
      polyline: false, marker: false, circlemarker: false,
      polygon: {allowIntersection: false, showArea: false},
      rectangle: {showArea: false},  // leaflet-draw 1.0.4's area label throws in strict mode
      circle: {showRadius: true}
    }
  }));
  map.on(L.Draw.Event.CREATED, function (e) { drawn.addLayer(e.layer); serialize(); });
  map.on(L.Draw.Event.EDITED + " " + L.Draw.Event.DELETED, serialize);
  /* Zones: a click on an outline ticks or unticks its box; ticked zones are highlighted. Not
     while a shape is drawn or edited: the click that ends a rectangle is not a choice. */
  var drawing = false;
  map.on(L.Draw.Event.DRAWSTART + " " + L.Draw.Event.EDITSTART + " " + L.Draw.Event.DELETESTART,
         function () { drawing = true; });
  map.on(L.Draw.Event.DRAWSTOP + " " + L.Draw.Event.EDITSTOP + " " + L.Draw.Event.DELETESTOP,
         function () { setTimeout(function () { drawing = false; }, 0); });
  var zoneBoxes = Array.prototype.slice.call(form.querySelectorAll('input[name="zones"]'));
  function showZones() {
    TocsinMap.highlight(map, zoneBoxes.filter(function (b) { return b.checked; })
                                      .map(function (b) { return b.value; }));
  }
  zoneBoxes.forEach(function (box) {
    box.addEventListener("change", showZones);
    var layer = map.tocsinZones[box.value];
    if (!layer) { return; }
    layer.on("click", function () {
      if (drawing) { return; }
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change", {bubbles: true}));
    });
  });
  showZones();
  geojsonBox.addEventListener("change", loadFromBoxes);
  circlesBox.addEventListener("change", loadFromBoxes);
  loadFromBoxes();
  showStatus();
  window.tocsinDrawn = drawn;
}());

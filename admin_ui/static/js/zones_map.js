/* The zones page: every zone's outline on one map, fetched from the page's JSON endpoint. */
(function () {
  "use strict";
  var el = document.getElementById("zones-map");
  if (!el || !window.TocsinMap) { return; }
  var d = TocsinMap.data();
  var map = TocsinMap.baseMap(el, {tileUrl: d.tileUrl, bounds: d.bounds, zones: []});
  var status = document.getElementById("zones-map-status");

  function label(p) {
    var span = document.createElement("span");
    span.textContent = p.name + " (" + p.code + ")" + (p.keywords.length ? " — " + p.keywords.join(", ") : "");
    return span;
  }

  fetch(d.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (fc) {
      if (!fc) { return; }
      var layer = L.geoJSON(fc, {
        style: {color: "#0b4f9c", weight: 2, fillOpacity: 0.08},
        onEachFeature: function (f, l) { l.bindTooltip(label(f.properties)); }
      }).addTo(map);
      if (fc.features.length) { map.fitBounds(layer.getBounds(), {maxZoom: 15}); }
      status.textContent = fc.features.length + " " + el.getAttribute("data-loaded-text");
      status.setAttribute("data-count", fc.features.length);
    })
    .catch(function () { /* the table below still lists every zone */ });
}());

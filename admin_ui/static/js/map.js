/* Tocsin maps: Leaflet with the configured tiles (optional), zone outlines with their names,
   the chosen zones highlighted and an alert's area. Without tiles (offline, or MAP_TILE_URL=none)
   the outlines and their names are the map, and a note under it says why it is plain. */
(function () {
  "use strict";

  // Names on the map itself up to this many zones; more would cover the map (hover shows them).
  var LABELLED_ZONES = 80;
  var OUTLINE = {color: "#444", weight: 1, fillOpacity: 0.03, dashArray: "4 4"};
  var CHOSEN = {color: "#b00020", weight: 3, fillOpacity: 0.15, dashArray: null};

  function data() {
    var el = document.getElementById("map-data");
    return el ? JSON.parse(el.textContent) : {};
  }

  function showNote(el, which) {
    var note = document.getElementById(el.id + "-note");
    if (!note || !note.hidden) { return; }
    note.textContent = note.getAttribute(which);
    note.setAttribute("data-reason", which === "data-no-tiles" ? "none" : "failed");
    note.hidden = false;
  }

  function tiles(map, el, url) {
    if (!url) { showNote(el, "data-no-tiles"); return; }
    var osm = url.indexOf("openstreetmap.org") !== -1;
    L.tileLayer(url, {
      maxZoom: 19,
      attribution: osm ? '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors' : ""
    }).on("tileerror", function () { showNote(el, "data-tiles-failed"); }).addTo(map);
  }

  function zoneOutlines(map, zones) {
    var layers = {};
    var labelled = zones.length <= LABELLED_ZONES;
    zones.forEach(function (z) {
      if (!z.geometry) { return; }
      var layer = L.geoJSON(z.geometry, {style: OUTLINE});
      layer.bindTooltip(z.name, {permanent: labelled, direction: "center", className: "zone-label"});
      layer.addTo(map);
      layers[z.code] = layer;
    });
    return layers;
  }

  function baseMap(el, d) {
    var map = L.map(el);
    tiles(map, el, d.tileUrl);
    if (d.bounds) {
      map.fitBounds(d.bounds, {maxZoom: 15});
    } else {
      map.setView([20, 0], 2);
    }
    map.tocsinZones = zoneOutlines(map, d.zones || []);
    window.tocsinMap = map;  // the browser tests turn coordinates into pixels with it
    return map;
  }

  /* Draw the zones in `codes` as chosen and every other zone as a plain outline. */
  function highlight(map, codes) {
    Object.keys(map.tocsinZones).forEach(function (code) {
      var chosen = codes.indexOf(code) !== -1;
      var layer = map.tocsinZones[code];
      layer.setStyle(chosen ? CHOSEN : OUTLINE);
      layer.eachLayer(function (l) {
        if (l.getElement()) { l.getElement().setAttribute("data-zone", code + (chosen ? " chosen" : "")); }
      });
      if (chosen) { layer.bringToFront(); }
    });
  }

  function areaLayers(d, area, group) {
    if (!area) { return; }
    var style = {color: "#b00020", weight: 3, fillOpacity: 0.15};
    if (area.geojson) {
      L.geoJSON(area.geojson, {style: style}).eachLayer(function (l) { group.addLayer(l); });
    }
    (area.circles || []).forEach(function (c) {
      group.addLayer(L.circle([c.lat, c.lon], L.extend({radius: c.radius_m}, style)));
    });
  }

  function showArea(el) {
    var d = data();
    var map = baseMap(el, d);
    var area = d.area || {};
    highlight(map, area.zones || []);
    var group = L.featureGroup().addTo(map);
    areaLayers(d, area, group);
    var bounds = group.getLayers().length ? group.getBounds() : null;
    (area.zones || []).forEach(function (code) {
      var zone = map.tocsinZones[code];
      if (zone) { bounds = bounds ? bounds.extend(zone.getBounds()) : zone.getBounds(); }
    });
    if (bounds) { map.fitBounds(bounds, {maxZoom: 16}); }
    return map;
  }

  window.TocsinMap = {data: data, baseMap: baseMap, areaLayers: areaLayers, highlight: highlight,
                      showArea: showArea};

  var viewer = document.querySelector('[data-map-mode="view"]');
  if (viewer) { showArea(viewer); }
}());

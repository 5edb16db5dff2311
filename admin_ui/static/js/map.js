/* Tocsin maps: Leaflet with the configured tiles (optional), zone outlines and an alert's area. */
(function () {
  "use strict";

  function data() {
    var el = document.getElementById("map-data");
    return el ? JSON.parse(el.textContent) : {};
  }

  function baseMap(el, d) {
    var map = L.map(el);
    if (d.tileUrl) {
      var osm = d.tileUrl.indexOf("openstreetmap.org") !== -1;
      L.tileLayer(d.tileUrl, {
        maxZoom: 19,
        attribution: osm ? '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors' : ""
      }).addTo(map);
    }
    if (d.bounds) {
      map.fitBounds(d.bounds, {maxZoom: 15});
    } else {
      map.setView([20, 0], 2);
    }
    (d.zones || []).forEach(function (z) {
      if (!z.geometry) { return; }
      L.geoJSON(z.geometry, {
        interactive: false,
        style: {color: "#444", weight: 1, fill: false, dashArray: "4 4"}
      }).addTo(map);
    });
    window.tocsinMap = map;  // the browser tests turn coordinates into pixels with it
    return map;
  }

  function zoneGeometry(d, code) {
    var found = (d.zones || []).filter(function (z) { return z.code === code; })[0];
    return found && found.geometry;
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
    (area.zones || []).forEach(function (code) {
      var g = zoneGeometry(d, code);
      if (g) { L.geoJSON(g, {style: style}).eachLayer(function (l) { group.addLayer(l); }); }
    });
  }

  function showArea(el) {
    var d = data();
    var map = baseMap(el, d);
    var group = L.featureGroup().addTo(map);
    areaLayers(d, d.area, group);
    if (group.getLayers().length) { map.fitBounds(group.getBounds(), {maxZoom: 16}); }
    return map;
  }

  window.TocsinMap = {data: data, baseMap: baseMap, areaLayers: areaLayers, showArea: showArea};

  var viewer = document.querySelector('[data-map-mode="view"]');
  if (viewer) { showArea(viewer); }
}());

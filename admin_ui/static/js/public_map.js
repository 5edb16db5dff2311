/* The public alert page's map: shown only when scripts run (the page says the area in words
   without it), drawn by map.js's TocsinMap with the alert's area and its zones. */
(function () {
  "use strict";
  var el = document.querySelector('[data-map-mode="public"]');
  if (!el || !window.L || !window.TocsinMap) { return; }
  document.getElementById("public-map-box").hidden = false;
  window.TocsinMap.showArea(el);
}());

/* Site-wide layout for small screens: the main menu folds behind a "Menu" button, and a table
   wider than the page scrolls inside its own region. Without this script the menu stays open
   (stacked), so nothing depends on it. Loaded in <head>, so the menu is folded from the first
   paint. */
(function () {
  "use strict";
  document.documentElement.classList.add("js-menu");

  function wireMenu() {
    var button = document.querySelector("header.top .menu-toggle");
    if (!button) { return; }
    var list = button.nextElementSibling;
    list.id = list.id || "main-menu";
    button.setAttribute("aria-controls", list.id);
    function setOpen(open) { button.setAttribute("aria-expanded", open ? "true" : "false"); }
    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    list.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
  }

  /* The region's name: the table's caption, else the nearest heading before it. */
  function nameOf(table) {
    var caption = table.querySelector("caption");
    if (caption && caption.textContent.trim()) { return caption.textContent.trim(); }
    for (var el = table; el && el !== document.body; el = el.parentElement) {
      for (var s = el.previousElementSibling; s; s = s.previousElementSibling) {
        var h = /^H[1-6]$/.test(s.tagName) ? s : s.querySelector("h1, h2, h3, h4, h5, h6");
        if (h && h.textContent.trim()) { return h.textContent.trim(); }
      }
    }
    return document.title;
  }

  /* A region that scrolls must be reachable by keyboard (and named); one that does not scroll
     is no extra tab stop. Regions the templates marked up themselves are left as they are. */
  function markScrollable(region) {
    if (region.hasAttribute("data-layout-fixed")) { return; }
    var scrolls = region.scrollWidth > region.clientWidth + 1;
    if (scrolls) {
      region.setAttribute("tabindex", "0");
      region.setAttribute("role", "region");
      region.setAttribute("aria-label", nameOf(region.querySelector("table") || region));
    } else {
      ["tabindex", "role", "aria-label"].forEach(function (a) { region.removeAttribute(a); });
    }
  }

  function wireTables() {
    var main = document.querySelector("main");
    if (!main) { return; }
    main.querySelectorAll("table").forEach(function (table) {
      if (table.closest(".table-scroll")) { return; }
      var region = document.createElement("div");
      region.className = "table-scroll";
      table.parentNode.insertBefore(region, table);
      region.appendChild(table);
    });
    var regions = Array.prototype.slice.call(main.querySelectorAll(".table-scroll"));
    regions.forEach(function (region) {
      if (region.hasAttribute("tabindex")) { region.setAttribute("data-layout-fixed", ""); }
    });
    function check() { regions.forEach(markScrollable); }
    check();
    if (window.ResizeObserver) {
      var observer = new ResizeObserver(check);
      regions.forEach(function (region) {
        observer.observe(region);
        var table = region.querySelector("table");
        if (table) { observer.observe(table); }
      });
    } else {
      window.addEventListener("resize", check);
    }
  }

  function wire() { wireMenu(); wireTables(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
}());

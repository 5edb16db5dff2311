// The report page's Print button: hidden without JavaScript (the browser's own print works).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});

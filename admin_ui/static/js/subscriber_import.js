/* The CSV import: upload once, then import chunk after chunk, moving the progress bar and
   adding each rejected row to the report as it comes. Without JavaScript the form posts. */
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var live = document.getElementById("import-live");
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var status = document.getElementById("import-status");

  function text(id, value) { document.getElementById(id).textContent = value; }

  function show(p) {
    document.getElementById("import-bar").value = p.percent;
    text("import-percent", p.percent + "%");
    document.getElementById("import-percent").setAttribute("data-percent", p.percent);
    text("import-done", p.done);
    text("import-total", p.total);
    text("import-created", p.created);
    text("import-updated", p.updated);
    text("import-rejected", p.rejected);
    var body = document.getElementById("import-error-rows");
    (p.errors || []).forEach(function (e) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-testid", "import-error-row");
      [e.row, e.field, e.message].forEach(function (v, i) {
        var td = document.createElement("td");
        if (i === 0) { td.className = "num"; }
        td.textContent = v;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function fail(message) {
    status.textContent = status.getAttribute("data-failed-text").replace("{reason}", message);
    status.className = "warning-text";
    form.querySelector("button").disabled = false;
  }

  function reply(r) {
    return r.json().catch(function () { return {}; }).then(function (d) {
      if (!r.ok) {
        var errors = (d.errors && d.errors.file) || [d.error || r.status];
        throw new Error(errors.join(" "));
      }
      return d;
    });
  }

  function next(p) {
    show(p);
    if (p.finished) {
      status.textContent = status.getAttribute("data-finished-text");
      var link = document.getElementById("import-report-link");
      link.href = p.report_url;
      link.hidden = false;
      form.querySelector("button").disabled = false;
      return null;
    }
    var url = form.getAttribute("data-start-url").replace("start.json", p.job + "/chunk.json");
    return fetch(url, {method: "POST", credentials: "same-origin",
                       headers: {"Content-Type": "application/json", "X-CSRFToken": token,
                                 "Accept": "application/json"},
                       body: JSON.stringify({offset: p.done})})
      .then(reply).then(next);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    live.hidden = false;
    status.textContent = "";
    status.className = "";
    document.getElementById("import-error-rows").textContent = "";
    form.querySelector("button").disabled = true;
    fetch(form.getAttribute("data-start-url"), {method: "POST", credentials: "same-origin",
                                                body: new FormData(form),
                                                headers: {"Accept": "application/json"}})
      .then(reply).then(next)
      .catch(function (err) { fail(err.message); });
  });
}());

/* Address suggestions: as the address is typed, ask GET /api/v1/addresses and offer the matches
   in the field's <datalist>. Only a help to type: the server resolves the address on submit, so
   the form works the same without JavaScript. */
(function () {
  "use strict";
  if (!window.fetch) { return; }
  var DELAY_MS = 200; // wait for a pause in typing: one search per word, not per key
  var MIN_CHARS = 2;

  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = input.getAttribute("data-suggest-url");
    var timer = null;
    var asked = "";

    function fill(items) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      items.forEach(function (item) {
        var option = document.createElement("option");
        option.value = item.address;
        if (item.zone) { option.label = item.address + " · " + item.zone; }
        list.appendChild(option);
      });
    }

    function ask() {
      var q = input.value.trim();
      if (q.length < MIN_CHARS || q === asked) { return; }
      asked = q;
      fetch(url + "?q=" + encodeURIComponent(q), {headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {items: []}; })
        .then(function (body) { if (input.value.trim() === q) { fill(body.items || []); } })
        .catch(function () { /* suggestions are optional; the submit still resolves it */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest-url]"), attach);
}());

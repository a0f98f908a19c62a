// The territory filter of the listings: territory names offered as the user types, from
// /api/territory-names (regions, departments, EPCI, communes by prefix). Choosing one puts the
// value the filter takes (region-84, commune-03310...) in the field; a code typed by hand works too.
(function () {
  "use strict";
  var script = document.currentScript;
  var field = document.getElementById("f-territory");
  var options = document.getElementById("territory-options");
  if (!field || !options) { return; }
  var timer = null;
  var asked = "";

  function show(found) {
    options.textContent = "";
    found.forEach(function (t) {
      var option = document.createElement("option");
      option.value = t.filter;
      option.label = t.name + " (" + (script.dataset[t.kind.toLowerCase()] || t.kind) +
        (t.code ? " " + t.code : "") + ")";
      option.textContent = option.label;
      options.appendChild(option);
    });
  }

  function ask() {
    var text = field.value.trim();
    if (text === asked) { return; }
    asked = text;
    if (text.length < 2 || /^[0-9]/.test(text) || text.indexOf("-") > 0 && /[0-9]$/.test(text)) {
      show([]);
      return;
    }
    fetch(script.dataset.endpoint + "?limit=10&q=" + encodeURIComponent(text))
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (found) { if (field.value.trim() === text) { show(found); } })
      .catch(function () { show([]); });
  }

  field.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 150);
  });
})();

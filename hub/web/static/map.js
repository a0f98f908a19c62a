// The map: markers of geolocated entities over the shipped outline of France (tiles optional).
(function () {
  "use strict";
  var script = document.currentScript;
  var points = JSON.parse(document.getElementById("map-points").textContent);
  var tiles = JSON.parse(document.getElementById("map-tiles").textContent);
  L.Icon.Default.imagePath = script.dataset.images;
  var map = L.map("map", { keyboard: true }).setView([46.6, 2.4], 6);
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 18, attribution: "&copy; tiles" }).addTo(map);
  }
  fetch(script.dataset.outline)
    .then(function (r) { return r.json(); })
    .then(function (outline) {
      L.geoJSON(outline, { style: { color: "#12355b", weight: 1, fillColor: "#ffffff", fillOpacity: 0.8 } })
        .addTo(map).bringToBack();
    })
    .catch(function () { /* the markers still work without the outline */ });
  var bounds = [];
  points.forEach(function (p) {
    var marker = L.marker([p.lat, p.lon], { title: p.name, alt: p.name }).addTo(map);
    var link = document.createElement("a");
    link.href = p.href;
    link.textContent = p.name;
    var box = document.createElement("div");
    box.appendChild(link);
    box.appendChild(document.createTextNode(" (" + p.type + ")"));
    marker.bindPopup(box);
    bounds.push([p.lat, p.lon]);
  });
  // Frame metropolitan France when it has markers: with an overseas one in the bounds, the view
  // would span half the globe and the metropolitan markers would pile up on each other.
  var metropole = bounds.filter(function (b) { return b[0] > 41 && b[0] < 51.5 && b[1] > -5.5 && b[1] < 10; });
  var framed = metropole.length ? metropole : bounds;
  if (framed.length > 1) {
    map.fitBounds(framed, { padding: [30, 30], maxZoom: 10 });
  } else if (framed.length === 1) {
    map.setView(framed[0], 9);
  }
  window.maillageMap = map;
})();

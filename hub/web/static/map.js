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
  if (bounds.length > 1) {
    map.fitBounds(bounds, { padding: [30, 30], maxZoom: 10 });
  } else if (bounds.length === 1) {
    map.setView(bounds[0], 9);
  }
  window.maillageMap = map;
})();

// The observatory charts (Chart.js), from the series the page embeds.
(function () {
  "use strict";
  var series = JSON.parse(document.getElementById("series").textContent);
  var colours = { region: "#12355b", theme: "#2a7f62", type: "#b35c00", month: "#6b3fa0" };
  window.maillageCharts = {};
  Object.keys(series).forEach(function (key) {
    var canvas = document.getElementById("chart-" + key);
    if (!canvas) { return; }
    var labels = Object.keys(series[key]);
    var horizontal = key !== "month";
    window.maillageCharts[key] = new Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [{
          label: canvas.getAttribute("aria-label"),
          data: labels.map(function (l) { return series[key][l]; }),
          backgroundColor: colours[key], borderColor: colours[key],
        }],
      },
      options: {
        animation: false, maintainAspectRatio: false, indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: {
          x: { beginAtZero: true, ticks: { autoSkip: !horizontal } },
          y: { beginAtZero: true, ticks: { autoSkip: horizontal ? false : true } },
        },
      },
    });
  });
})();

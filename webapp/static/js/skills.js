// Skill pages: the trends chart (data from the #trend-data JSON block) and print buttons.
(function () {
  "use strict";

  function drawTrends() {
    var source = document.getElementById("trend-data");
    var canvas = document.getElementById("trend-chart");
    if (!source || !canvas || typeof Chart === "undefined") {
      return;
    }
    var points = JSON.parse(source.textContent);
    var series = [
      ["verified_pairs", "Verified (engineer, skill) pairs", "#198754"],
      ["claimed_only_pairs", "Claimed only", "#6c757d"],
      ["skills_covered", "Skills held at level 3+", "#0d6efd"],
      ["workshops_passed", "Workshops passed", "#fd7e14"]
    ];
    new Chart(canvas, {
      type: "line",
      data: {
        labels: points.map(function (p) { return p.month; }),
        datasets: series.map(function (s) {
          return {
            label: s[1],
            data: points.map(function (p) { return p[s[0]]; }),
            borderColor: s[2],
            backgroundColor: s[2],
            tension: 0.2
          };
        })
      },
      options: {
        animation: false,
        responsive: true,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
    canvas.dataset.ready = "true";
  }

  function bindPrint() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawTrends();
    bindPrint();
  });
})();

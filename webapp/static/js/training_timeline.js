// Training progress: a timeline of who learns what when (data from the #training-data block),
// one horizontal bar per assigned workshop from its assignment to its due (or passed) date.
(function () {
  "use strict";
  var DAY = 86400000;
  var COLOURS = { "on track": "#0d6efd", late: "#dc3545", done: "#fd7e14", verified: "#198754" };

  function draw() {
    var source = document.getElementById("training-data");
    var canvas = document.getElementById("training-timeline");
    if (!source || !canvas || typeof Chart === "undefined") { return; }
    var items = JSON.parse(source.textContent);
    var day = function (iso) { return Math.round(Date.parse(iso + "T00:00:00Z") / DAY); };
    var label = function (n) { return new Date(n * DAY).toISOString().slice(0, 10); };
    var rows = items.map(function (i) { return i.engineer + ": " + i.workshop; });
    var first = Math.min.apply(null, items.map(function (i) { return day(i.start); }));
    var last = Math.max.apply(null, items.map(function (i) { return day(i.end); }));
    canvas.parentElement.style.height = Math.max(160, 28 * items.length + 60) + "px";
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: rows,
        datasets: [{
          label: "Assigned to due",
          data: items.map(function (i) { return [day(i.start), day(i.end) + 1]; }),
          backgroundColor: items.map(function (i) { return COLOURS[i.status] || "#6c757d"; })
        }]
      },
      options: {
        indexAxis: "y",
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var i = items[ctx.dataIndex];
                return i.status + ": " + i.start + " to " + i.end;
              }
            }
          }
        },
        scales: {
          x: {
            beginAtZero: false,
            min: first - 7,
            max: last + 8,
            ticks: { callback: function (v) { return label(v); } }
          }
        }
      }
    });
    canvas.dataset.ready = "true";
  }

  draw();
})();

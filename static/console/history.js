// The history pages' charts: read the JSON named by [data-chart-url] and draw four charts
// with the vendored Chart.js (static/vendor/chartjs/). A file of its own, not an inline
// script, so a Content-Security-Policy without 'unsafe-inline' allows it. Without
// JavaScript the page still says the same figures in words.
(function () {
  "use strict";

  var COLOURS = {
    sent: "#2156d1",
    held: "#9a6200",
    lag: "#b42318",
    opened: "#b42318",
    closed: "#1d7a45",
    targets: ["#2156d1", "#9a6200", "#1d7a45", "#6b3fa0", "#b42318"],
  };

  function base(stacked) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      scales: {
        x: { stacked: stacked, ticks: { autoSkip: true, maxRotation: 0, autoSkipPadding: 12 } },
        y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } },
      },
    };
  }

  function draw(id, type, labels, datasets, stacked) {
    var canvas = document.getElementById(id);
    if (!canvas) { return null; }
    var chart = new window.Chart(canvas, {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: base(stacked),
    });
    // How many points it drew: the page's tests read it, and so can a person's tools.
    canvas.setAttribute("data-points", String(labels.length));
    return chart;
  }

  function render(data) {
    var s = data.series;
    draw("chart-records", "bar", data.labels, [
      { label: "Sent", data: s.written, backgroundColor: COLOURS.sent },
      { label: "Held back", data: s.held, backgroundColor: COLOURS.held },
    ], true);
    draw("chart-lag", "line", data.labels, [
      {
        label: "Behind by (minutes)", data: s.lag_minutes, borderColor: COLOURS.lag,
        backgroundColor: COLOURS.lag, pointRadius: 0, spanGaps: false, tension: 0.2,
      },
    ], false);
    draw("chart-tickets", "bar", data.labels, [
      { label: "Opened", data: s.opened, backgroundColor: COLOURS.opened },
      { label: "Closed", data: s.closed, backgroundColor: COLOURS.closed },
    ], false);
    var drift = data.drift;
    if (drift.labels.length) {
      draw("chart-drift", "bar", drift.labels, drift.datasets.map(function (d, i) {
        return {
          label: d.label, data: d.data,
          backgroundColor: COLOURS.targets[i % COLOURS.targets.length],
        };
      }), false);
    } else {
      var box = document.getElementById("chart-drift");
      if (box) { box.parentNode.hidden = true; }
      var empty = document.querySelector("[data-drift-empty]");
      if (empty) { empty.hidden = false; }
    }
  }

  function start() {
    var section = document.querySelector("[data-chart-url]");
    var status = document.querySelector("[data-chart-status]");
    if (!section || !window.Chart) { return; }
    status.textContent = "Loading the charts…";
    fetch(section.getAttribute("data-chart-url"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) { throw new Error("the console answered " + response.status); }
        return response.json();
      })
      .then(function (data) {
        render(data);
        section.setAttribute("data-loaded", "true");
        status.textContent = "Charts: " + data.span_label.toLowerCase() + ", times in " +
          data.timezone + ", updated " + new Date().toLocaleTimeString([], {
            hour: "2-digit", minute: "2-digit", hourCycle: "h23",
          }) + " (your clock). Reload the page for newer figures.";
      })
      .catch(function (error) {
        status.textContent = "The charts could not be loaded (" + error.message +
          "). The figures above and the lists below are up to date; try reloading the page.";
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

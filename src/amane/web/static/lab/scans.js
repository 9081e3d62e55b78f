// Live progress of queued and running trace scans on the evidence item page: polls the scans API
// every two seconds while one is queued or running, updates the bars, reloads when all are done.
(function () {
  "use strict";
  var panel = document.getElementById("traces");
  if (!panel || !panel.dataset.poll) { return; }
  var url = panel.dataset.poll;
  function tick() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var active = false;
        data.scans.forEach(function (sc) {
          var row = panel.querySelector('tr[data-scan="' + sc.id + '"]');
          if (!row) { return; }
          var bar = row.querySelector(".scan-progress");
          var pct = row.querySelector(".scan-pct");
          var p = sc.progress || 0;
          if (bar) { bar.value = p; }
          if (pct) { pct.textContent = (Math.round(p * 1000) / 10) + " %"; }
          if (sc.status === "queued" || sc.status === "running") { active = true; }
        });
        if (active) { window.setTimeout(tick, 2000); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(tick, 5000); });
  }
  window.setTimeout(tick, 2000);
}());

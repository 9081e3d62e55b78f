/* Crime maps (hotspots with a time slider, forecasts) on the locally served Leaflet.
 *
 * No request leaves the server: the background is the packaged region boundaries (embedded in
 * the page as JSON), a tile layer is added only when the server was given a tile URL, and the
 * hotspots come from this server's API (/api/v1/analytics/hotspots, authenticated by the session
 * cookie). The map itself stays left-to-right inside right-to-left pages; the words it shows come
 * from data-msg-* attributes written by the server in the page language.
 */
(function () {
  "use strict";

  var GI_COLOURS = {
    hot99: "#b2182b", hot95: "#ef8a62", hot90: "#fddbc7", none: "#d9d9d9",
    cold90: "#d1e5f0", cold95: "#67a9cf", cold99: "#2166ac"
  };
  var COUNT_COLOURS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
  /* kernel density: the smallest areas holding 50%, 75% and 90% of the incidents, darkest first */
  var MASS_BANDS = [[0.5, "50", "#bd0026"], [0.75, "75", "#fd8d3c"], [0.9, "90", "#fed976"]];
  var DAY = 86400000;

  function lang() { return document.documentElement.lang || "fr"; }

  function fmt(n, digits) {
    if (n === null || n === undefined || (typeof n === "number" && !isFinite(n))) { return "—"; }
    var opts = { maximumFractionDigits: digits || 0, minimumFractionDigits: digits || 0 };
    return Number(n).toLocaleString(lang() === "fr" ? "fr-FR" : "en-US", opts);
  }

  function msg(el, name, values) {
    var text = el.getAttribute("data-msg-" + name) || "";
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }

  function iso(d) { return new Date(d).toISOString().slice(0, 10); }

  function regionsData() {
    var el = document.getElementById("regions-data");
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  /* A map with the region boundaries (and tiles only if configured), fitted to the focus region. */
  function baseMap(el) {
    var tiles = el.getAttribute("data-tile-url");
    var map = L.map(el, { attributionControl: !!tiles, zoomSnap: 0.25, minZoom: 4 });
    if (map.attributionControl) { map.attributionControl.setPrefix(false); }
    if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); }
    var focus = el.getAttribute("data-focus-region") || "";
    var focusLayer = null;
    var regions = regionsData();
    var all = null;
    if (regions) {
      all = L.geoJSON(regions, {
        interactive: false,
        style: function (f) {
          var mine = focus && f.properties && f.properties.code === focus;
          return {
            color: mine ? "#15305c" : "#7b8794", weight: mine ? 2 : 1, opacity: 1,
            fillColor: mine ? "#fbfaf6" : "#efebe2", fillOpacity: tiles ? 0 : 1
          };
        },
        onEachFeature: function (f, layer) {
          if (focus && f.properties && f.properties.code === focus) { focusLayer = layer; }
        }
      }).addTo(map);
    }
    var home = focusLayer ? focusLayer.getBounds() : (all ? all.getBounds() : L.latLngBounds([[21, -17], [36, -1]]));
    map.fitBounds(home, { padding: [8, 8] });
    return { map: map, home: home };
  }

  function cellTooltip(rows) {
    var box = document.createElement("div");
    box.className = "cell-tip";
    rows.forEach(function (r) {
      var line = document.createElement("div");
      var b = document.createElement("b");
      b.textContent = r[0] + ": ";
      line.appendChild(b);
      line.appendChild(document.createTextNode(r[1]));
      box.appendChild(line);
    });
    return box;
  }

  /* ------------------------------------------------------------------ hotspot map */

  /* Classes for the counts of the cells that have incidents: each distinct value when there are
   * few, else equal-count classes (quantiles); returned as [low, high] ranges, lowest first. */
  function countClasses(values, k) {
    var v = values.filter(function (x) { return x > 0; }).sort(function (a, b) { return a - b; });
    var distinct = v.filter(function (x, i) { return i === 0 || x !== v[i - 1]; });
    if (!v.length) { return []; }
    if (distinct.length <= k) { return distinct.map(function (x) { return [x, x]; }); }
    var out = [];
    var lo = v[0];
    for (var i = 1; i <= k; i++) {
      var hi = i === k ? v[v.length - 1] : v[Math.min(v.length - 1, Math.floor(v.length * i / k) - 1)];
      if (hi >= lo) { out.push([lo, hi]); lo = hi + 1; }
    }
    return out;
  }

  function massBand(mass) {
    for (var i = 0; i < MASS_BANDS.length; i++) {
      if (mass !== null && mass !== undefined && mass <= MASS_BANDS[i][0] + 1e-9) { return MASS_BANDS[i]; }
    }
    return null;
  }

  function initHotspots(el) {
    var form = document.getElementById("map-form");
    var status = document.getElementById("map-status");
    var metaBox = document.getElementById("map-meta");
    var slider = document.getElementById("week");
    var weekLabel = document.getElementById("week-label");
    var base = baseMap(el);
    var map = base.map;
    var layer = null;
    var data = null;
    var classes = [];
    var controller = null;
    var timer = null;
    var classLabels = {};
    Array.prototype.forEach.call(document.querySelectorAll("#legend-gi li[data-class]"), function (li) {
      classLabels[li.getAttribute("data-class")] = li.textContent.trim();
    });
    var bandLabels = {};
    Array.prototype.forEach.call(document.querySelectorAll("#legend-kde li[data-band]"), function (li) {
      bandLabels[li.getAttribute("data-band")] = li.textContent.trim();
    });
    Array.prototype.forEach.call(document.querySelectorAll("#top-cells th[data-kde]"), function (th) {
      th.setAttribute("data-default", th.textContent);
    });

    function field(name) { return form.elements[name]; }
    function value(name) { var f = field(name); return f ? f.value : ""; }

    function windowDates() {
      var steps = parseInt(el.getAttribute("data-steps"), 10) || 52;
      var asOf = Date.parse(el.getAttribute("data-as-of") + "T00:00:00Z");
      var k = parseInt(slider.value, 10);
      var span = parseInt(value("span"), 10) || 4;
      var end = asOf - 7 * DAY * (steps - 1 - k);
      return { start: iso(end - (7 * span - 1) * DAY), end: iso(end) };
    }

    function showWindow() {
      var w = windowDates();
      weekLabel.textContent = w.start + " → " + w.end;
      slider.setAttribute("aria-valuetext", w.start + " – " + w.end);
    }

    function colourBy() {
      if (value("method") === "kde") { return "kde"; }
      return value("colour") === "count" ? "count" : "gi";
    }

    function bandOf(p) { var b = massBand(p.mass); return b ? bandLabels[b[1]] || "" : msg(el, "outside"); }
    function bandShort(p) { var b = massBand(p.mass); return b ? msg(el, "band-short", { n: b[1] }) : msg(el, "outside"); }
    function pct(x) { return msg(el, "pct", { n: fmt(100 * (x || 0)) }); }

    function styleOf(f) {
      var p = f.properties || {};
      if (colourBy() === "kde") {
        var band = massBand(p.mass);
        var fill = band ? band[2] : "#ffffff";
        return { color: fill, weight: 0.4, opacity: 0.9, fillColor: fill, fillOpacity: band ? 0.78 : 0 };
      }
      if (colourBy() === "gi") {
        var cls = p.hot || "none";
        return { color: cls === "none" ? "#8a8f96" : "#4a4a4a", weight: cls === "none" ? 0.4 : 0.7, opacity: 0.8,
                 fillColor: GI_COLOURS[cls] || GI_COLOURS.none, fillOpacity: cls === "none" ? 0.3 : 0.85 };
      }
      if (!p.count) { return { color: "#9aa3ad", weight: 0.3, opacity: 0.5, fillColor: "#ffffff", fillOpacity: 0.15 }; }
      var i = 0;
      while (i < classes.length - 1 && p.count > classes[i][1]) { i++; }
      var colour = COUNT_COLOURS[Math.round(i * (COUNT_COLOURS.length - 1) / Math.max(1, classes.length - 1))];
      return { color: "#7a4a00", weight: 0.5, opacity: 0.7, fillColor: colour, fillOpacity: 0.85 };
    }

    function updateLegend() {
      var by = colourBy();
      var groups = { gi: ["legend-gi", "legend-gi-note"], count: ["legend-count", "legend-count-note"],
                     kde: ["legend-kde", "legend-kde-note", "legend-kde-bw"] };
      Object.keys(groups).forEach(function (k) {
        groups[k].forEach(function (id) { var n = document.getElementById(id); if (n) { n.hidden = k !== by; } });
      });
      var bw = document.getElementById("legend-kde-bw");
      var meta = (data && data.meta) || {};
      if (bw) { bw.textContent = by === "kde" && meta.bandwidth_m ? msg(el, "bandwidth", { m: fmt(meta.bandwidth_m) }) : ""; }
      Array.prototype.forEach.call(document.querySelectorAll("#top-cells th[data-kde]"), function (th) {
        th.textContent = by === "kde" ? th.getAttribute("data-kde") : th.getAttribute("data-default");
      });
      var items = document.querySelectorAll("#legend-count li");
      Array.prototype.forEach.call(items, function (li, i) {
        var c = classes[i];
        li.hidden = !c;
        if (!c) { return; }
        var sw = li.querySelector(".swatch");
        sw.className = "swatch sw-q" + Math.round(i * (COUNT_COLOURS.length - 1) / Math.max(1, classes.length - 1));
        li.querySelector(".q-label").textContent = c[0] === c[1] ? fmt(c[0]) : fmt(c[0]) + "–" + fmt(c[1]);
      });
    }

    function topCells() {
      var body = document.querySelector("#top-cells tbody");
      if (!body) { return; }
      while (body.firstChild) { body.removeChild(body.firstChild); }
      if (!layer) { return; }
      var key = colourBy() === "kde" ? "density" : "count";
      var cells = layer.getLayers().slice().sort(function (a, b) {
        return (b.feature.properties[key] || 0) - (a.feature.properties[key] || 0);
      }).slice(0, 15);
      cells.forEach(function (cell, i) {
        var p = cell.feature.properties;
        var tr = document.createElement("tr");
        var td0 = document.createElement("td");
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "btn btn-quiet cell-go";
        btn.textContent = String(i + 1);
        btn.addEventListener("click", function () {
          map.fitBounds(cell.getBounds(), { maxZoom: 15 });
          cell.openTooltip(cell.getBounds().getCenter());
        });
        td0.appendChild(btn);
        tr.appendChild(td0);
        var cols = key === "density" ? [fmt(p.density, 1), pct(p.mass), bandShort(p)]
          : [fmt(p.count), fmt(p.z, 2), classLabels[p.hot] || p.hot || ""];
        cols.forEach(function (text, j) {
          var td = document.createElement("td");
          if (j < 2) { td.className = "num"; }
          td.textContent = text;
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    }

    function draw() {
      if (layer) { map.removeLayer(layer); layer = null; }
      var feats = (data && data.features) || [];
      classes = countClasses(feats.map(function (f) { return f.properties.count || 0; }), 5);
      layer = L.geoJSON({ type: "FeatureCollection", features: feats }, {
        style: styleOf,
        onEachFeature: function (f, l) {
          var p = f.properties || {};
          if (colourBy() === "kde") {
            l.bindTooltip(cellTooltip([
              [msg(el, "density"), fmt(p.density, 1)],
              [msg(el, "mass"), pct(p.mass)],
              [msg(el, "band"), bandOf(p)]
            ]), { sticky: true, direction: "top" });
            return;
          }
          l.bindTooltip(cellTooltip([
            [msg(el, "count"), fmt(p.count)],
            [msg(el, "density"), fmt(p.density, 1)],
            [msg(el, "z"), fmt(p.z, 2)],
            [msg(el, "p"), p.p === null || p.p === undefined ? "—" : Number(p.p).toPrecision(2)],
            [msg(el, "class"), classLabels[p.hot] || p.hot || ""]
          ]), { sticky: true, direction: "top" });
        }
      }).addTo(map);
      el.setAttribute("data-cells", String(feats.length));
      updateLegend();
      topCells();
      var meta = (data && data.meta) || {};
      var parts = [msg(el, "events", { n: fmt(meta.events || 0) }), msg(el, "cells", { n: fmt(feats.length) })];
      if (meta.without_coordinates) { parts.push(msg(el, "nocoords", { n: fmt(meta.without_coordinates) })); }
      if (meta.gi_star_unavailable && feats.length) { parts.push(msg(el, "nogi")); }
      metaBox.textContent = parts.join(" · ");
      status.textContent = feats.length ? "" : msg(el, "empty");
      status.className = "map-status" + (feats.length ? "" : " is-empty");
    }

    function load(fit) {
      showWindow();
      if (controller) { controller.abort(); }
      controller = typeof AbortController === "function" ? new AbortController() : null;
      var w = windowDates();
      var params = new URLSearchParams();
      ["unit", "group", "category", "method"].forEach(function (n) { if (value(n)) { params.set(n, value(n)); } });
      // the API calls the cell size "cell"; the page keeps "cell_m" in its own address
      if (value("method") === "h3") { params.set("resolution", value("resolution")); } else { params.set("cell", value("cell_m")); }
      params.set("start", w.start);
      params.set("end", w.end);
      el.parentNode.classList.add("is-loading");
      el.setAttribute("aria-busy", "true");
      status.className = "map-status";
      status.textContent = msg(el, "loading");
      fetch(el.getAttribute("data-api") + "?" + params.toString(), {
        credentials: "same-origin", headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (!r.ok) { throw new Error(body.detail || body.title || String(r.status)); }
          return body;
        });
      }).then(function (body) {
        data = body;
        draw();
        if (fit && layer && layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [12, 12], maxZoom: 14 }); }
        el.parentNode.classList.remove("is-loading");
        el.removeAttribute("aria-busy");
        el.setAttribute("data-loaded", "true");
      }).catch(function (err) {
        if (err && err.name === "AbortError") { return; }
        el.parentNode.classList.remove("is-loading");
        el.removeAttribute("aria-busy");
        status.className = "map-status is-error";
        status.textContent = msg(el, "error") + " " + (err && err.message ? err.message : "");
      });
      var url = new URL(window.location.href);
      ["unit", "group", "category", "method", "resolution", "cell_m", "colour", "span"].forEach(function (n) {
        if (value(n)) { url.searchParams.set(n, value(n)); } else { url.searchParams.delete(n); }
      });
      url.searchParams.set("week", slider.value);
      window.history.replaceState(null, "", url.toString());
    }

    function methodFields() {
      var m = value("method") || "h3";
      Array.prototype.forEach.call(form.querySelectorAll("[data-for-method]"), function (n) {
        n.hidden = n.getAttribute("data-for-method").split(" ").indexOf(m) < 0;
      });
    }

    var initialUnit = value("unit");
    var initialWeek = new URL(window.location.href).searchParams.get("week");
    if (initialWeek !== null && /^\d+$/.test(initialWeek) && +initialWeek <= +slider.max) { slider.value = initialWeek; }
    methodFields();
    slider.addEventListener("input", function () {
      showWindow();
      clearTimeout(timer);
      timer = setTimeout(function () { load(false); }, 300);
    });
    form.addEventListener("change", function (ev) {
      var name = ev.target && ev.target.name;
      if (name === "week") { return; }
      if (name === "unit") { form.submit(); return; }
      if (name === "colour") {
        if (layer) { layer.setStyle(styleOf); }
        updateLegend();
        window.history.replaceState(null, "", (function () { var u = new URL(window.location.href); u.searchParams.set("colour", value("colour")); return u.toString(); })());
        return;
      }
      if (name === "method") { methodFields(); }
      load(true);
    });
    form.addEventListener("submit", function (ev) {
      if (value("unit") !== initialUnit) { return; }  // another unit: the server redraws the page
      ev.preventDefault();
      load(true);
    });
    load(true);
  }

  /* ------------------------------------------------------------------ forecast map */

  function initForecast(el) {
    var base = baseMap(el);
    var map = base.map;
    var dataEl = document.getElementById("forecast-data");
    var fc = null;
    try { fc = dataEl ? JSON.parse(dataEl.textContent) : null; } catch (e) { fc = null; }
    var feats = (fc && fc.features) || [];
    var layer = L.geoJSON({ type: "FeatureCollection", features: feats }, {
      style: function (f) {
        var p = f.properties || {};
        if (p.selected_1pct) { return { color: "#67000d", weight: 1, fillColor: "#b2182b", fillOpacity: 0.85 }; }
        if (p.selected_5pct) { return { color: "#7a3b00", weight: 0.8, fillColor: "#f4a582", fillOpacity: 0.75 }; }
        return { color: "#8c96a0", weight: 0.5, fillColor: "#d9d9d9", fillOpacity: 0.3 };
      },
      onEachFeature: function (f, l) {
        var p = f.properties || {};
        var rows = [[msg(el, "rank"), fmt(p.rank)], [msg(el, "score"), fmt(p.score, 3)]];
        if (p.selected_1pct) { rows.push([msg(el, "top1"), "✓"]); } else if (p.selected_5pct) { rows.push([msg(el, "top5"), "✓"]); }
        l.bindTooltip(cellTooltip(rows), { sticky: true, direction: "top" });
      }
    }).addTo(map);
    el.setAttribute("data-cells", String(feats.length));
    if (feats.length) { map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 16 }); }
    el.setAttribute("data-loaded", "true");
  }

  function init(root) {
    if (typeof L === "undefined") { return; }
    Array.prototype.forEach.call((root || document).querySelectorAll(".map[data-kind]"), function (el) {
      if (el.getAttribute("data-ready")) { return; }
      el.setAttribute("data-ready", "true");
      if (el.getAttribute("data-kind") === "hotspots") { initHotspots(el); } else { initForecast(el); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function () { init(document); });
})();

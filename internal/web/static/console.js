// Shieldwall console behaviour. Loaded from /static (the Content Security
// Policy allows no inline script): keyboard shortcuts, the federation and
// relationship graphs (Cytoscape.js), the alerts chart (ECharts) and live
// updates over server-sent events.
(function () {
  "use strict";

  var colours = { connected: "#3ddc97", degraded: "#ffd23f", cut: "#ff3b5c", unknown: "#6b7d90" };
  var levelColours = { critical: "#ff3b5c", high: "#ff8a3d", medium: "#ffd23f", low: "#4fb3ff", informational: "#8aa0b4" };

  function keyboard() {
    var pending = false, timer = null;
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) {
        if (e.key === "Escape") { t.blur(); }
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) { return; }
      if (e.key === "/") {
        var s = document.getElementById("search");
        if (s) { e.preventDefault(); s.focus(); }
        return;
      }
      if (pending) {
        pending = false;
        clearTimeout(timer);
        var link = document.querySelector('nav a[data-key="' + e.key + '"]');
        if (link) { e.preventDefault(); window.location.href = link.getAttribute("href"); }
        return;
      }
      if (e.key === "g") {
        pending = true;
        timer = setTimeout(function () { pending = false; }, 1500);
      }
    });
  }

  var graphs = {};

  function drawGraph(id) {
    var el = document.getElementById(id);
    if (!el || typeof cytoscape === "undefined") { return; }
    var elements = JSON.parse(el.getAttribute("data-graph") || "[]");
    graphs[id] = cytoscape({
      container: el,
      elements: elements,
      layout: { name: elements.length > 2 ? "concentric" : "grid", concentric: function (n) { return n.data("kind") === "self" ? 2 : 1; }, levelWidth: function () { return 1; }, minNodeSpacing: 120, padding: 30 },
      style: [
        { selector: "node", style: { "label": "data(label)", "color": "#d7e1ea", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4, "background-color": "#4fb3ff", "width": 22, "height": 22 } },
        { selector: 'node[kind = "self"]', style: { "background-color": "#d7e1ea", "width": 34, "height": 34, "shape": "hexagon" } },
        { selector: "node[link]", style: { "background-color": function (n) { return colours[n.data("link")] || colours.unknown; } } },
        { selector: "edge", style: { "width": 2, "line-color": "#4a5d70", "curve-style": "bezier", "target-arrow-shape": "triangle", "target-arrow-color": "#4a5d70", "label": "data(label)", "font-size": 9, "color": "#9fb1c2", "text-rotation": "autorotate" } },
        { selector: "edge[link]", style: { "line-color": function (e) { return colours[e.data("link")] || colours.unknown; }, "target-arrow-shape": "none" } }
      ],
      userZoomingEnabled: true, boxSelectionEnabled: false, minZoom: 0.2, maxZoom: 1.5
    });
  }

  function drawChart() {
    var el = document.getElementById("alertchart");
    if (!el || typeof echarts === "undefined") { return; }
    var d = JSON.parse(el.getAttribute("data-chart") || "{}");
    if (!d.labels) { return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      backgroundColor: "transparent",
      textStyle: { color: "#d7e1ea" },
      tooltip: { trigger: "axis" },
      legend: { top: 0, textStyle: { color: "#d7e1ea" } },
      grid: { left: 40, right: 10, top: 36, bottom: 30 },
      xAxis: { type: "category", data: d.labels, axisLabel: { color: "#7f92a5" } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: "#7f92a5" }, splitLine: { lineStyle: { color: "#243140" } } },
      series: d.levels.slice().reverse().map(function (l) {
        return { name: l, type: "bar", stack: "alerts", data: d.series[l], itemStyle: { color: levelColours[l] } };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function selectAll() {
    var all = document.getElementById("select-all");
    if (!all) { return; }
    all.addEventListener("change", function () {
      document.querySelectorAll('#alerts-table input[name="id"]').forEach(function (c) { c.checked = all.checked; });
    });
  }

  function text(el, s) { el.textContent = s; }

  function live() {
    if (!document.body.getAttribute("data-live") || typeof EventSource === "undefined") { return; }
    var badge = document.getElementById("live");
    var ticker = document.getElementById("ticker");
    var es = new EventSource("/events");
    es.onopen = function () { if (badge) { badge.classList.add("on"); } };
    es.onerror = function () { if (badge) { badge.classList.remove("on"); } };
    es.addEventListener("alert", function (ev) {
      var a = JSON.parse(ev.data);
      if (ticker) {
        ticker.hidden = false;
        var link = document.createElement("a");
        link.href = "/alerts/" + encodeURIComponent(a.id);
        text(link, "new " + a.level + " alert: " + a.title);
        ticker.insertBefore(link, ticker.firstChild);
        while (ticker.children.length > 5) { ticker.removeChild(ticker.lastChild); }
      }
      var body = document.querySelector("#alerts-table tbody");
      if (body && !window.location.search) {
        var tr = document.createElement("tr");
        tr.className = "fresh";
        var cells = [a.level, a.time, a.title, "", "", "untriaged", ""];
        if (document.getElementById("select-all")) { cells.unshift(""); }
        cells.forEach(function (c, i) {
          var td = document.createElement("td");
          if (c === a.title) {
            var l = document.createElement("a");
            l.href = "/alerts/" + encodeURIComponent(a.id);
            text(l, a.title);
            td.appendChild(l);
          } else { text(td, c); }
          tr.appendChild(td);
        });
        body.insertBefore(tr, body.firstChild);
      }
    });
    es.addEventListener("peers", function (ev) {
      var ps = JSON.parse(ev.data) || [];
      ps.forEach(function (p) {
        Object.keys(graphs).forEach(function (g) {
          var n = graphs[g].getElementById("peer:" + p.peer);
          if (n && n.length) { n.data("link", p.link); }
          var e = graphs[g].getElementById("e:" + p.peer);
          if (e && e.length) { e.data("link", p.link); e.data("label", p.link + " · " + p.lag_objects + " waiting, " + Math.round(p.lag_seconds) + "s"); }
        });
        var row = document.querySelector('#peers-table tr[data-peer="' + CSS.escape(p.peer) + '"]');
        if (row) {
          var f = function (name) { return row.querySelector('[data-field="' + name + '"]'); };
          var link = f("link");
          if (link) { text(link, p.link); link.className = "badge link-" + p.link; }
          if (f("lag_objects")) { text(f("lag_objects"), String(p.lag_objects)); }
          if (f("lag_seconds")) { text(f("lag_seconds"), Math.round(p.lag_seconds) + " s"); }
          if (f("last_error")) { text(f("last_error"), p.last_error || ""); }
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    keyboard();
    drawGraph("fedgraph");
    drawGraph("relgraph");
    drawChart();
    selectAll();
    live();
  });
})();

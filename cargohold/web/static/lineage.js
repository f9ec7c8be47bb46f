// Draws the lineage graph of the page's #graph element with cytoscape.js. The graph's JSON is
// embedded in the page (#graph-data, a non-executed data block), so drawing starts as soon as
// cytoscape.js is loaded, without a second request. Positions come from a breadth-first layering
// computed here in one pass (inputs on the left), given to cytoscape as a preset layout: no
// iterative layout, no animation; labels too small to read at the fitted zoom are not drawn.
(function () {
  "use strict";
  var X_GAP = 190, Y_GAP = 44;

  function positions(graph) {
    var out = {}, indegree = {}, layer = {}, order = [];
    graph.nodes.forEach(function (n) { out[n.id] = []; indegree[n.id] = 0; });
    graph.edges.forEach(function (e) {
      if (out[e.source] && e.target in indegree) { out[e.source].push(e.target); indegree[e.target] += 1; }
    });
    function walk(starts) {  // breadth-first from the starts: a node's layer is its distance
      var queue = starts.slice(), head = 0;
      starts.forEach(function (id) { layer[id] = 0; order.push(id); });
      while (head < queue.length) {
        var id = queue[head++];
        out[id].forEach(function (next) {
          if (!(next in layer)) { layer[next] = layer[id] + 1; order.push(next); queue.push(next); }
        });
      }
    }
    walk(graph.nodes.filter(function (n) { return indegree[n.id] === 0; }).map(function (n) { return n.id; }));
    graph.nodes.forEach(function (n) { if (!(n.id in layer)) { walk([n.id]); } });  // cycles
    var columns = {}, at = {};
    order.forEach(function (id) { (columns[layer[id]] = columns[layer[id]] || []).push(id); });
    Object.keys(columns).forEach(function (key) {
      var column = columns[key];
      column.forEach(function (id, i) { at[id] = { x: Number(key) * X_GAP, y: (i - (column.length - 1) / 2) * Y_GAP }; });
    });
    return at;
  }

  function draw(container, graph, base) {
    var at = positions(graph), elements = [];
    graph.nodes.forEach(function (n) {
      elements.push({ group: "nodes", position: at[n.id], data: { id: n.id, label: n.label, kind: n.kind, path: n.path || "", root: n.root ? "yes" : "no" } });
    });
    graph.edges.forEach(function (e) {
      elements.push({ group: "edges", data: { id: e.id, source: e.source, target: e.target } });
    });
    var cy = cytoscape({
      container: container,
      elements: elements,
      wheelSensitivity: 0.3,
      maxZoom: 1.6,
      minZoom: 0.05,
      textureOnViewport: elements.length > 300,
      style: [
        { selector: "node", style: { "label": "data(label)", "font-size": 10, "min-zoomed-font-size": 6, "text-wrap": "wrap", "text-max-width": 140, "text-valign": "bottom", "text-margin-y": 4, "background-color": "#0f766e", "width": 18, "height": 18 } },
        { selector: "node[kind = 'job']", style: { "shape": "round-rectangle", "background-color": "#6366f1", "width": 22, "height": 14 } },
        { selector: "node[kind = 'dataset']", style: { "shape": "barrel", "background-color": "#0891b2" } },
        { selector: "node[root = 'yes']", style: { "border-width": 3, "border-color": "#f59e0b" } },
        { selector: "edge", style: { "width": 1.2, "line-color": "#9ca3af", "target-arrow-color": "#9ca3af", "target-arrow-shape": "triangle", "curve-style": "straight", "arrow-scale": 0.8 } }
      ],
      layout: { name: "preset", fit: true, padding: 30, animate: false }
    });
    cy.on("tap", "node", function (evt) {
      var path = evt.target.data("path");
      if (path) { window.location.href = base + path; }
    });
    window.cargoholdGraph = cy;
    cy.one("render", function () {  // the first frame is on the canvas
      container.setAttribute("data-painted-ms", String(Math.round(performance.now())));
    });
    container.setAttribute("data-ready-ms", String(Math.round(performance.now())));
    container.setAttribute("data-status", "ready");
    container.setAttribute("data-nodes", String(cy.nodes().length));
  }

  var container = document.getElementById("graph");
  var embedded = document.getElementById("graph-data");
  if (!container || !embedded) { return; }
  var base = document.body.getAttribute("data-base") || "";
  var graph;
  try {
    graph = JSON.parse(embedded.textContent || "");
  } catch (err) {
    container.setAttribute("data-status", "error");
    container.textContent = "cannot read the graph: " + err.message;
    return;
  }
  container.setAttribute("data-fetched-ms", String(Math.round(performance.now())));
  function start() {
    try { draw(container, graph, base); } catch (err) {
      container.setAttribute("data-status", "error");
      container.textContent = "cannot draw the graph: " + err.message;
    }
  }
  // cytoscape.js is deferred: it has run once the document is parsed
  if (document.readyState !== "loading") { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();

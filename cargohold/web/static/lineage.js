// Draws the lineage graph of the page's #graph element from its JSON API with cytoscape.js.
(function () {
  "use strict";
  function draw(container, graph, base) {
    var elements = [];
    graph.nodes.forEach(function (n) {
      elements.push({ group: "nodes", data: { id: n.id, label: n.label, kind: n.kind, path: n.path || "", root: n.root ? "yes" : "no" } });
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
      style: [
        { selector: "node", style: { "label": "data(label)", "font-size": 10, "text-wrap": "wrap", "text-max-width": 140, "text-valign": "bottom", "text-margin-y": 4, "background-color": "#0f766e", "width": 18, "height": 18 } },
        { selector: "node[kind = 'job']", style: { "shape": "round-rectangle", "background-color": "#6366f1", "width": 22, "height": 14 } },
        { selector: "node[kind = 'dataset']", style: { "shape": "barrel", "background-color": "#0891b2" } },
        { selector: "node[root = 'yes']", style: { "border-width": 3, "border-color": "#f59e0b" } },
        { selector: "edge", style: { "width": 1.2, "line-color": "#9ca3af", "target-arrow-color": "#9ca3af", "target-arrow-shape": "triangle", "curve-style": "bezier", "arrow-scale": 0.8 } }
      ],
      layout: { name: "preset" }
    });
    cy.layout({ name: "breadthfirst", directed: true, roots: cy.nodes().roots(), spacingFactor: 1.6, animate: false,
                transform: function (node, pos) { return { x: pos.y, y: pos.x }; } }).run();
    cy.on("tap", "node", function (evt) {
      var path = evt.target.data("path");
      if (path) { window.location.href = base + path; }
    });
    window.cargoholdGraph = cy;
    container.setAttribute("data-ready-ms", String(Math.round(performance.now())));
    container.setAttribute("data-status", "ready");
    container.setAttribute("data-nodes", String(cy.nodes().length));
  }
  // This script runs right after #graph is parsed: the graph's JSON is fetched while the
  // browser still loads cytoscape.js (deferred); drawing waits for both.
  var container = document.getElementById("graph");
  if (!container) { return; }
  var base = document.body.getAttribute("data-base") || "";
  var loaded = fetch(container.getAttribute("data-api"), { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(function (graph) {
      container.setAttribute("data-fetched-ms", String(Math.round(performance.now())));
      return graph;
    });
  var ready = new Promise(function (resolve) {
    if (document.readyState !== "loading") { resolve(); } else { document.addEventListener("DOMContentLoaded", resolve); }
  });
  Promise.all([loaded, ready])
    .then(function (both) { draw(container, both[0], base); })
    .catch(function (err) { container.setAttribute("data-status", "error"); container.textContent = "cannot load the graph: " + err.message; });
})();

"""``cargohold lineage ARTIFACT``: the upstream and downstream graph of an artifact.

Drawn as two trees in the terminal, as Mermaid flowchart text with ``--mermaid``, or as nodes
and edges with ``--json``. An edge ``a -> b`` means the run that produced ``b`` read ``a``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cargohold.cli.ids import resolve_artifact
from cargohold.cli.output import artifact_dict
from cargohold.core.errors import InvalidArgumentError

if TYPE_CHECKING:
    from cargohold.cli.app import App
    from cargohold.core.catalog import Catalog
    from cargohold.core.catalog.objects import Artifact

__all__ = ["LineageGraph", "collect", "draw_tree", "mermaid", "run_lineage"]


@dataclass
class LineageGraph:
    """Artifacts around ``root`` and the edges between them (producer input -> output)."""

    root: Artifact
    nodes: dict[str, Artifact] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)
    parents: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)


def collect(catalog: Catalog, root: Artifact, *, depth: int) -> LineageGraph:
    """Walk ``depth`` levels upstream and downstream of ``root`` through the catalog.

    Raises:
        InvalidArgumentError: ``depth`` is negative.
        NotFoundError: the artifact vanished meanwhile.
    """
    if depth < 0:
        raise InvalidArgumentError(f"--depth must be >= 0, got {depth}")
    graph = LineageGraph(root=root, nodes={root.id: root})
    walks: list[tuple[Callable[..., list[Artifact]], dict[str, list[str]], bool]] = [
        (catalog.upstream, graph.parents, True),
        (catalog.downstream, graph.children, False),
    ]
    for step, adjacency, upward in walks:
        frontier, seen = [root], {root.id}
        for _ in range(depth):
            following: list[Artifact] = []
            for node in frontier:
                linked = step(artifact_id=node.id)
                adjacency[node.id] = [a.id for a in linked]
                for other in linked:
                    graph.nodes.setdefault(other.id, other)
                    graph.edges.add((other.id, node.id) if upward else (node.id, other.id))
                    if other.id not in seen:
                        seen.add(other.id)
                        following.append(other)
            frontier = following
            if not frontier:
                break
    return graph


def label(artifact: Artifact) -> str:
    """``name v3 [date=2026-11-01] (1a2b3c4d)``."""
    parts = ",".join(f"{k}={v}" for k, v in sorted(artifact.partitions.items()))
    where = f" [{parts}]" if parts else ""
    return f"{artifact.dataset.name} v{artifact.version}{where} ({artifact.id[:8]})"


def draw_tree(graph: LineageGraph) -> list[str]:
    """The graph as text: the artifact, then its upstream and downstream trees."""
    lines = [f"● {label(graph.root)}"]
    sections = [
        ("upstream (read to produce it)", graph.parents),
        ("downstream (produced from it)", graph.children),
    ]
    for index, (title, adjacency) in enumerate(sections):
        last_section = index == len(sections) - 1
        lines.append(("└── " if last_section else "├── ") + title)
        indent = "    " if last_section else "│   "
        kids = adjacency.get(graph.root.id, [])
        if not kids:
            lines.append(indent + "└── (none recorded)")
        _branch(graph, adjacency, kids, indent, {graph.root.id}, lines)
    return lines


def _branch(
    graph: LineageGraph,
    adjacency: dict[str, list[str]],
    ids: list[str],
    indent: str,
    path: set[str],
    lines: list[str],
) -> None:
    for position, node_id in enumerate(ids):
        last = position == len(ids) - 1
        node = graph.nodes[node_id]
        cycle = " (cycle)" if node_id in path else ""
        lines.append(indent + ("└── " if last else "├── ") + label(node) + cycle)
        if not cycle:
            below = adjacency.get(node_id, [])
            child_indent = indent + ("    " if last else "│   ")
            _branch(graph, adjacency, below, child_indent, path | {node_id}, lines)


def mermaid(graph: LineageGraph) -> str:
    """Mermaid flowchart text (left to right; the artifact itself highlighted)."""
    ids = {node_id: f"n{index}" for index, node_id in enumerate(sorted(graph.nodes))}
    lines = ["flowchart LR"]
    for node_id in sorted(graph.nodes):
        node = graph.nodes[node_id]
        parts = "<br/>".join(f"{k}={v}" for k, v in sorted(node.partitions.items()))
        text = f"{node.dataset.name} v{node.version}" + (f"<br/>{parts}" if parts else "")
        text = text.replace('"', "#quot;")
        lines.append(f'    {ids[node_id]}["{text}"]')
    for source, target in sorted(graph.edges):
        lines.append(f"    {ids[source]} --> {ids[target]}")
    lines.append("    classDef focus stroke-width:3px")
    lines.append(f"    class {ids[graph.root.id]} focus")
    return "\n".join(lines)


def run_lineage(app: App) -> int:
    """``cargohold lineage ARTIFACT [--depth N] [--mermaid]``."""
    root = resolve_artifact(app, app.args.artifact)
    graph = collect(app.catalog, root, depth=app.args.depth)
    if app.out.as_json:
        app.out.json(
            {
                "root": root.id,
                "nodes": [artifact_dict(n) for _, n in sorted(graph.nodes.items())],
                "edges": [{"from": s, "to": t} for s, t in sorted(graph.edges)],
                "mermaid": mermaid(graph),
            }
        )
    elif app.args.mermaid:
        app.out.line(mermaid(graph))
    else:
        for line in draw_tree(graph):
            app.out.line(line)
    return 0

"""The lineage graph of an artifact or a dataset, from the catalog's own lineage records.

Nodes are artifacts (or datasets) and the jobs (task or asset) that read and wrote them, as in
Marquez's graph; edges run input -> job -> output. The walk is breadth-first in both directions
and stops at ``depth`` hops or ``max_nodes`` artifacts, whichever comes first (``truncated``
says so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cargohold.core.catalog.objects import Artifact, DatasetID
from cargohold.core.errors import InvalidArgumentError
from cargohold.web.views import dataset_path

if TYPE_CHECKING:
    from cargohold.core.catalog.catalog import Catalog

__all__ = ["MAX_DEPTH", "MAX_NODES", "artifact_graph", "dataset_graph"]

MAX_DEPTH = 10
MAX_NODES = 500


def _check(depth: int, max_nodes: int) -> None:
    if not 0 <= depth <= MAX_DEPTH:
        raise InvalidArgumentError(f"depth must be between 0 and {MAX_DEPTH}, got {depth}")
    if not 1 <= max_nodes <= MAX_NODES:
        raise InvalidArgumentError(f"max_nodes must be between 1 and {MAX_NODES}, got {max_nodes}")


def _job_key(artifact: Artifact) -> str | None:
    src = artifact.source
    if src is None or not src.job:
        return None
    return f"{src.orchestrator}:{src.job}:{src.task}"


def _walk(
    catalog: Catalog, roots: list[Artifact], *, depth: int, max_nodes: int
) -> tuple[dict[str, Artifact], set[tuple[str, str]], bool]:
    """Artifacts reachable from ``roots`` and the (upstream id, downstream id) pairs.

    Breadth-first, one batched catalog read (:meth:`Catalog.lineage_neighbours`) per level.
    """
    seen: dict[str, Artifact] = {a.id: a for a in roots}
    edges: set[tuple[str, str]] = set()
    level = list(seen.values())
    truncated = False
    for _ in range(depth):
        if not level:
            break
        found = catalog.lineage_neighbours(artifact_ids=[a.id for a in level])
        following: list[Artifact] = []
        for artifact in level:
            near = found[artifact.id]
            neighbours = [(u, (u.id, artifact.id)) for u in near.upstream]
            neighbours += [(d, (artifact.id, d.id)) for d in near.downstream]
            for other, edge in neighbours:
                if other.id not in seen:
                    if len(seen) >= max_nodes:
                        truncated = True
                        continue
                    seen[other.id] = other
                    following.append(other)
                edges.add(edge)
        level = following
    return seen, edges, truncated


def _job_node(key: str, artifact: Artifact) -> dict[str, Any]:
    src = artifact.source
    assert src is not None
    label = f"{src.job}.{src.task}" if src.task else src.job
    return {"id": f"job:{key}", "kind": "job", "label": label, "orchestrator": src.orchestrator}


def artifact_graph(
    catalog: Catalog, *, artifact_id: str, depth: int = 3, max_nodes: int = 200
) -> dict[str, Any]:
    """The graph around one artifact: artifact and job nodes, input -> job -> output edges.

    Raises:
        NotFoundError: no such artifact.
        InvalidArgumentError: depth or max_nodes out of range.
    """
    _check(depth, max_nodes)
    root = catalog.get_artifact(artifact_id=artifact_id)
    artifacts, edges, truncated = _walk(catalog, [root], depth=depth, max_nodes=max_nodes)
    nodes: dict[str, dict[str, Any]] = {}
    links: set[tuple[str, str]] = set()
    for artifact in artifacts.values():
        parts = ",".join(f"{k}={v}" for k, v in sorted(artifact.partitions.items()))
        nodes[f"artifact:{artifact.id}"] = {
            "id": f"artifact:{artifact.id}",
            "kind": "artifact",
            "label": f"{artifact.dataset.name} v{artifact.version}"
            + (f" {parts}" if parts else ""),
            "path": f"/artifacts/{quote(artifact.id, safe='')}",
            "root": artifact.id == root.id,
        }
        job = _job_key(artifact)
        if job is not None:
            nodes.setdefault(f"job:{job}", _job_node(job, artifact))
            links.add((f"job:{job}", f"artifact:{artifact.id}"))
    for up, down in edges:
        job = _job_key(artifacts[down])
        target = f"job:{job}" if job is not None else f"artifact:{down}"
        links.add((f"artifact:{up}", target))
    return _graph(nodes, links, truncated, root=f"artifact:{root.id}")


def dataset_graph(
    catalog: Catalog, *, dataset: DatasetID, depth: int = 3, max_nodes: int = 200, sample: int = 20
) -> dict[str, Any]:
    """The graph around a dataset: the lineage of its ``sample`` newest artifacts, folded into
    dataset and job nodes.

    Raises:
        NotFoundError: no such dataset.
        InvalidArgumentError: depth or max_nodes out of range.
    """
    _check(depth, max_nodes)
    ds = catalog.get_dataset(dataset=dataset)
    roots = list(catalog.list_artifacts(dataset=ds.id, limit=sample).items)
    artifacts, edges, truncated = _walk(catalog, roots, depth=depth, max_nodes=max_nodes)
    nodes: dict[str, dict[str, Any]] = {}
    links: set[tuple[str, str]] = set()

    def dataset_node(artifact: Artifact) -> str:
        did = artifact.dataset
        key = f"dataset:{did.project}/{did.domain}/{did.name}/{did.version}"
        nodes.setdefault(
            key,
            {
                "id": key,
                "kind": "dataset",
                "label": did.name,
                "path": dataset_path(did),
                "root": did == ds.id,
            },
        )
        return key

    for artifact in artifacts.values():
        node = dataset_node(artifact)
        job = _job_key(artifact)
        if job is not None:
            nodes.setdefault(f"job:{job}", _job_node(job, artifact))
            links.add((f"job:{job}", node))
    for up, down in edges:
        job = _job_key(artifacts[down])
        target = f"job:{job}" if job is not None else dataset_node(artifacts[down])
        links.add((dataset_node(artifacts[up]), target))
    root = f"dataset:{ds.id.project}/{ds.id.domain}/{ds.id.name}/{ds.id.version}"
    nodes.setdefault(
        root,
        {
            "id": root,
            "kind": "dataset",
            "label": ds.id.name,
            "path": dataset_path(ds.id),
            "root": True,
        },
    )
    return _graph(nodes, links, truncated, root=root)


def _graph(
    nodes: dict[str, dict[str, Any]], links: set[tuple[str, str]], truncated: bool, *, root: str
) -> dict[str, Any]:
    return {
        "root": root,
        "nodes": sorted(nodes.values(), key=lambda n: str(n["id"])),
        "edges": [
            {"id": f"{s}->{t}", "source": s, "target": t} for s, t in sorted(links) if s != t
        ],
        "truncated": truncated,
    }

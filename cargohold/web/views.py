"""What every page shows, as JSON-ready dicts: the JSON API returns them, the pages render them.

Each function reads the catalog through its public API (keyset pages, never a full scan) and
raises the catalog's own errors (:class:`NotFoundError`, :class:`InvalidArgumentError`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cargohold.core.catalog.objects import Artifact, ArtifactSource, Dataset, DatasetID
from cargohold.core.proxy.urls import CargoholdURL
from cargohold.core.types.literals import Literal

if TYPE_CHECKING:
    from cargohold.core.catalog.catalog import Catalog

__all__ = [
    "Links",
    "artifact_summary",
    "artifact_view",
    "cache_view",
    "dataset_view",
    "datasets_view",
    "run_view",
    "source_links",
]

PAGE_SIZE = 50
DATASET_PAGE_SIZE = 100
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, kw_only=True)
class Links:
    """Where the UIs a source can link back to live (None: no link)."""

    airflow_url: str | None = None
    dagster_url: str | None = None


def dataset_path(dataset_id: DatasetID) -> str:
    """The page path of a dataset (``/datasets/{project}/{domain}/{name}/{version}``)."""
    parts = (dataset_id.project, dataset_id.domain, dataset_id.name, dataset_id.version)
    return "/datasets/" + "/".join(quote(p, safe="") for p in parts)


def _dataset_id(dataset: DatasetID) -> dict[str, str]:
    return {
        "project": dataset.project,
        "domain": dataset.domain,
        "name": dataset.name,
        "version": dataset.version,
        "path": dataset_path(dataset),
    }


def _dataset(ds: Dataset) -> dict[str, Any]:
    return {
        **_dataset_id(ds.id),
        "partition_keys": list(ds.partition_keys),
        "metadata": dict(ds.metadata),
        "created_at": ds.created_at.isoformat() if ds.created_at else None,
    }


def datasets_view(
    catalog: Catalog, *, query: str = "", page_token: str | None = None, limit: int = PAGE_SIZE
) -> dict[str, Any]:
    """One keyset page of datasets whose name starts with ``query``."""
    page = catalog.list_datasets(name_prefix=query or None, limit=limit, page_token=page_token)
    return {
        "query": query,
        "datasets": [_dataset(ds) for ds in page.items],
        "next_token": page.next_token,
    }


def source_links(source: ArtifactSource | None, links: Links) -> dict[str, Any] | None:
    """The source of an artifact, with a link into the orchestrator's UI when configured."""
    if source is None:
        return None
    out: dict[str, Any] = {
        "orchestrator": source.orchestrator,
        "namespace": source.namespace,
        "job": source.job,
        "run_id": source.run_id,
        "task": source.task,
        "map_index": source.map_index,
        "try_number": source.try_number,
        "url": None,
    }
    q = _quote
    if source.orchestrator == "airflow" and links.airflow_url and source.job:
        base = links.airflow_url.rstrip("/")
        url = f"{base}/dags/{q(source.job)}"
        if source.run_id:
            url += f"/runs/{q(source.run_id)}"
            if source.task:
                url += f"/tasks/{q(source.task)}"
                if source.map_index >= 0:
                    url += f"/mapped/{source.map_index}"
        out["url"] = url
    elif source.orchestrator == "dagster" and links.dagster_url and source.run_id:
        out["url"] = f"{links.dagster_url.rstrip('/')}/runs/{q(source.run_id)}"
    return out


def _quote(text: str) -> str:
    return quote(text, safe="")


def _output(name: str, literal: Literal) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "type": str(literal.type),
        "literal_hash": literal.hash,
        "inline": literal.blob is None,
    }
    if literal.blob is None:
        out["value"] = literal.value
        return out
    blob = literal.blob
    out |= {
        "uri": blob.uri,
        "size": blob.size,
        "content_hash": blob.hash,
        "format": blob.format,
        "python_type": blob.python_type,
        "rows": blob.rows,
        "schema": [{"name": n, "type": t} for n, t in blob.schema] if blob.schema else None,
        "previewable": blob.format in ("parquet", "arrow"),
    }
    return out


def artifact_summary(artifact: Artifact) -> dict[str, Any]:
    """The short form of an artifact (lists, graphs)."""
    return {
        "id": artifact.id,
        "path": f"/artifacts/{_quote(artifact.id)}",
        "dataset": _dataset_id(artifact.dataset),
        "version": artifact.version,
        "partitions": dict(artifact.partitions),
        "tags": list(artifact.tags),
        "outputs": sorted(artifact.data),
        "created_at": artifact.created_at.isoformat() if artifact.created_at else None,
        "source": (
            None
            if artifact.source is None
            else {
                "orchestrator": artifact.source.orchestrator,
                "job": artifact.source.job,
                "run_id": artifact.source.run_id,
                "task": artifact.source.task,
            }
        ),
    }


def artifact_view(catalog: Catalog, *, artifact_id: str, links: Links) -> dict[str, Any]:
    """An artifact: its outputs (schema, rows, size, content hash), source and readers.

    Raises:
        NotFoundError: no such artifact.
    """
    artifact = catalog.get_artifact(artifact_id=artifact_id)
    reads = catalog.reads_of(artifact_id=artifact_id)
    return {
        **artifact_summary(artifact),
        "url": str(CargoholdURL.for_artifact(artifact)),
        "metadata": dict(artifact.metadata),
        "updated_at": artifact.updated_at.isoformat() if artifact.updated_at else None,
        "source": source_links(artifact.source, links),
        "data": [_output(name, artifact.data[name]) for name in sorted(artifact.data)],
        "reads": [
            {"source": source_links(r.source, links), "read_at": r.read_at.isoformat()}
            for r in reads[-100:]
        ],
        "read_count": len(reads),
    }


def _calendar(artifacts: Sequence[Artifact], key: str) -> list[dict[str, Any]] | None:
    """Months of a calendar grid for a single date partition key (None when not dates)."""
    by_day: dict[str, Artifact] = {}
    for artifact in artifacts:
        value = artifact.partitions.get(key, "")
        if not _DATE.match(value):
            return None
        best = by_day.get(value)
        if best is None or artifact.version > best.version:
            by_day[value] = artifact
    months: dict[tuple[int, int], dict[int, Artifact]] = {}
    for value, artifact in by_day.items():
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        months.setdefault((day.year, day.month), {})[day.day] = artifact
    grid: list[dict[str, Any]] = []
    for (year, month), days in sorted(months.items(), reverse=True):
        first = date(year, month, 1)
        length = (date(year + month // 12, month % 12 + 1, 1) - first).days
        cells: list[dict[str, Any] | None] = [None] * first.weekday()
        for day_number in range(1, length + 1):
            found = days.get(day_number)
            cells.append(
                {
                    "day": day_number,
                    "date": date(year, month, day_number).isoformat(),
                    "artifact": None if found is None else found.id,
                    "version": None if found is None else found.version,
                }
            )
        weeks = [cells[i : i + 7] for i in range(0, len(cells), 7)]
        weeks[-1] += [None] * (7 - len(weeks[-1]))
        grid.append(
            {"year": year, "month": month, "label": first.strftime("%B %Y"), "weeks": weeks}
        )
    return grid


def dataset_view(
    catalog: Catalog,
    *,
    dataset: DatasetID,
    page_token: str | None = None,
    limit: int = DATASET_PAGE_SIZE,
) -> dict[str, Any]:
    """A dataset: one keyset page of its newest artifacts (partitions, versions, tags), as a
    calendar when its only partition key holds dates.

    Raises:
        NotFoundError: no such dataset.
    """
    ds = catalog.get_dataset(dataset=dataset)
    page = catalog.list_artifacts(dataset=ds.id, limit=limit, page_token=page_token)
    items = list(page.items)
    calendar = None
    if len(ds.partition_keys) == 1 and items:
        calendar = _calendar(items, ds.partition_keys[0])
    tags = sorted({(t, a.id) for a in items for t in a.tags})
    return {
        **_dataset(ds),
        "artifacts": [artifact_summary(a) for a in items],
        "calendar": calendar,
        "tags": [{"name": t, "artifact_id": i} for t, i in tags],
        "next_token": page.next_token,
    }


def cache_view(entries: Sequence[tuple[str, Artifact]], *, limit: int = 500) -> dict[str, Any]:
    """Cache entries (task, key, size, created, last used), newest first."""
    rows = sorted(
        entries, key=lambda e: e[1].created_at.isoformat() if e[1].created_at else "", reverse=True
    )
    out = []
    for task, artifact in rows[:limit]:
        out.append(
            {
                "id": artifact.id,
                "path": f"/artifacts/{_quote(artifact.id)}",
                "task": task,
                "cache_version": artifact.dataset.version,
                "key": artifact.tags[0] if artifact.tags else "",
                "size": int(artifact.metadata.get("cache_size", "0") or 0),
                "created_at": artifact.created_at.isoformat() if artifact.created_at else None,
                "last_used": artifact.metadata.get("cache_last_used") or None,
                "outputs": sorted(artifact.data),
            }
        )
    return {"entries": out, "total": len(entries), "shown": len(out)}


def run_view(
    catalog: Catalog, *, job: str, run_id: str, task: str | None, links: Links
) -> dict[str, Any]:
    """What one run (or one task of it) wrote and read."""
    written = [
        a for a in catalog.run_outputs(job=job, run_id=run_id) if not task or _task_of(a) == task
    ]
    read = catalog.run_inputs(job=job, run_id=run_id)
    if task:
        read = [a for a in read if _read_by(catalog, a, job=job, run_id=run_id, task=task)]
    return {
        "job": job,
        "run_id": run_id,
        "task": task,
        "written": [artifact_summary(a) for a in written],
        "read": [artifact_summary(a) for a in read],
        "links": source_links(
            ArtifactSource(orchestrator="airflow", job=job, run_id=run_id, task=task or ""), links
        ),
    }


def _read_by(catalog: Catalog, artifact: Artifact, *, job: str, run_id: str, task: str) -> bool:
    return any(
        r.source.job == job and r.source.run_id == run_id and r.source.task == task
        for r in catalog.reads_of(artifact_id=artifact.id)
    )


def _task_of(artifact: Artifact) -> str:
    return artifact.source.task if artifact.source is not None else ""


def metadata_text(metadata: Mapping[str, str]) -> list[tuple[str, str]]:
    """Metadata as sorted pairs (for tables)."""
    return sorted(metadata.items())

"""Conformance: ``Catalog.lineage_neighbours``, the batched upstream/downstream query, gives
exactly what ``upstream``/``downstream`` give one artifact at a time, in a number of statements
that does not grow with the number of artifacts asked about."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from cargohold.core.catalog import ArtifactSource, Catalog, Neighbours
from cargohold.core.catalog import lineage as catalog_lineage
from cargohold.core.errors import NotFoundError

from .helpers import inline


def _graph(catalog: Catalog) -> list[str]:
    """Artifacts over several runs: tasks of one run kept apart, a run-level producer (no task),
    an empty task name, an artifact with no source, a fan-out and a fan-in. Their ids."""
    for name in ("raw", "clean", "report", "loose", "fan"):
        catalog.create_dataset(dataset=name, partition_keys=["n"] if name == "fan" else [])

    def make(dataset: str, source: ArtifactSource | None, **kw: Any) -> str:
        return catalog.create_artifact(
            dataset=dataset, data={"x": inline()}, source=source, **kw
        ).id

    raw = make("raw", ArtifactSource(job="ingest", run_id="r1"))
    raw2 = make("raw", ArtifactSource(job="ingest", run_id="r1", task=""))
    clean_src = ArtifactSource(orchestrator="airflow", job="etl", run_id="r2", task="clean")
    catalog.record_read(artifact_id=raw, source=clean_src)
    catalog.record_read(artifact_id=raw2, source=clean_src)
    clean = make("clean", clean_src)
    report_src = ArtifactSource(orchestrator="airflow", job="etl", run_id="r2", task="report")
    catalog.record_read(artifact_id=clean, source=report_src)
    catalog.record_read(artifact_id=clean, source=report_src)  # read twice: one neighbour
    report = make("report", report_src)
    whole_run = ArtifactSource(orchestrator="dagster", job="assets", run_id="r3")
    catalog.record_read(artifact_id=report, source=whole_run)
    catalog.record_read(
        artifact_id=clean, source=ArtifactSource(job="assets", run_id="r3", task="any")
    )
    summary = make("report", whole_run)
    loose = make("loose", None)
    fans = []
    for n in range(4):
        src = ArtifactSource(job="fan", run_id="r4", task=f"t{n}")
        catalog.record_read(artifact_id=summary, source=src)
        fans.append(make("fan", src, partitions={"n": str(n)}))
    return [raw, raw2, clean, report, summary, loose, *fans]


@contextmanager
def _statements(catalog: Catalog) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = catalog.database.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _ids(neighbours: Neighbours) -> tuple[list[str], list[str]]:
    return [a.id for a in neighbours.upstream], [a.id for a in neighbours.downstream]


def test_neighbours_equal_upstream_and_downstream(catalog: Catalog) -> None:
    ids = _graph(catalog)
    batched = catalog.lineage_neighbours(artifact_ids=ids)
    assert list(batched) == ids
    for artifact_id in ids:
        one_by_one = (
            [a.id for a in catalog.upstream(artifact_id=artifact_id)],
            [a.id for a in catalog.downstream(artifact_id=artifact_id)],
        )
        assert _ids(batched[artifact_id]) == one_by_one, artifact_id
    raw, raw2, clean, report, summary, loose, *fans = ids
    assert _ids(batched[clean]) == ([raw, raw2], [report, summary])
    assert _ids(batched[summary]) == ([clean, report], fans)
    assert _ids(batched[loose]) == ([], [])
    assert batched[fans[0]].upstream[0] == catalog.get_artifact(artifact_id=summary)


def test_neighbours_batch_in_constant_statements(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _graph(catalog)
    with _statements(catalog) as few:
        catalog.lineage_neighbours(artifact_ids=ids[:2])
    with _statements(catalog) as many:
        catalog.lineage_neighbours(artifact_ids=ids)
    queries = [s for s in many if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) == len([s for s in few if s.lstrip().upper().startswith("SELECT")])
    assert len(queries) <= 5  # existence, up pairs, down pairs, artifacts, their data and tags
    # ids beyond one IN list are split and give the same answer
    whole = catalog.lineage_neighbours(artifact_ids=ids)
    monkeypatch.setattr(catalog_lineage, "_CHUNK", 3)
    assert catalog.lineage_neighbours(artifact_ids=ids) == whole


def test_neighbours_bad_input(catalog: Catalog) -> None:
    ids = _graph(catalog)
    assert catalog.lineage_neighbours(artifact_ids=[]) == {}
    assert list(catalog.lineage_neighbours(artifact_ids=[ids[0], ids[0]])) == [ids[0]]
    with pytest.raises(NotFoundError, match="missing-1, missing-2"):
        catalog.lineage_neighbours(artifact_ids=[ids[0], "missing-1", "missing-2"])

"""``cargohold retention set/show`` and ``cargohold gc --apply`` really deleting: an expired
version's blob leaves the store, what is still referenced stays and loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .conftest import Demo


def _blob_files(demo: Demo) -> set[str]:
    root = Path(demo.hold.store.root) / "cas"
    return {p.name for p in root.rglob("*") if p.is_file()}


def test_retention_then_gc_apply_deletes_exactly_the_expired_blob(run: Any, demo: Demo) -> None:
    hold = demo.hold
    catalog = hold.catalog
    superseded = catalog.get_artifact(artifact_id=demo.raw[0])
    newer = catalog.create_artifact(
        dataset="raw_orders",
        data={"frame": hold.put(demo.payload + b"rerun")},
        partitions={"date": "2026-11-01"},
    )
    catalog.close()
    doomed = superseded.data["frame"].blob
    assert doomed is not None
    before = _blob_files(demo)
    assert doomed.hash in before

    assert run("retention", "show", "raw_orders", "--json").json()["keep_last"] is None
    shown = run("retention", "set", "raw_orders", "--keep-last", "1", "--json").json()
    assert shown == {"dataset": "raw_orders", "keep_last": 1, "max_age_days": None}
    assert run("retention", "show", "raw_orders", "--json").json()["keep_last"] == 1
    assert run("retention", "set", "raw_orders").code == 1  # nothing to set

    dry = run("gc", "--grace-hours", "0", "--json").json()
    assert dry["expired_artifacts"] == [superseded.id]
    assert _blob_files(demo) == before  # a dry run deletes nothing

    applied = run("gc", "--apply", "--grace-hours", "0", "--json").json()
    assert applied["dry_run"] is False
    assert applied["expired_artifacts"] == [superseded.id]
    assert applied["blob_hashes"] == [doomed.hash]
    assert applied["bytes"] == doomed.size
    assert _blob_files(demo) == before - {doomed.hash}

    again = demo.hold.catalog
    for artifact_id in [newer.id, demo.raw[1], *demo.clean, demo.report]:
        artifact = again.get_artifact(artifact_id=artifact_id)
        for literal in artifact.data.values():
            hold.get(literal)  # every remaining artifact loads
    assert hold.get(again.get_artifact(artifact_id=newer.id).data["frame"]) is not None
    again.close()


def test_gc_apply_without_retention_keeps_every_version(run: Any, demo: Demo) -> None:
    before = _blob_files(demo)
    run("retention", "set", "raw_orders", "--keep-last", "1")
    applied = run("gc", "--apply", "--grace-hours", "0", "--no-retention", "--json").json()
    assert applied["expired_artifacts"] == []
    assert applied["count"] == 0
    assert _blob_files(demo) == before

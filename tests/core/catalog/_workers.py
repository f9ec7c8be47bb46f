"""Process entry points for the cross-process race tests (imported by spawned children)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from cargohold.core.catalog import Catalog
from cargohold.core.errors import ReservationConflictError
from cargohold.core.types.literals import Literal, LiteralType


def create_many(url: str, count: int, start: Any, results: Any) -> None:
    """Wait for the start signal, then create ``count`` artifacts in one partition."""
    with Catalog(url=url) as catalog:
        catalog.get_dataset(dataset="race")  # connect and check the schema before the gun
        start.wait(30)
        versions = []
        for i in range(count):
            artifact = catalog.create_artifact(
                dataset="race",
                data={"i": Literal(type=LiteralType(kind="int"), value=i)},
                partitions={"date": "2026-11-01"},
            )
            versions.append(artifact.version)
        results.put(versions)


def reserve_once(url: str, owner: str, start: Any, results: Any) -> None:
    """Wait for the start signal, then try once to take the reservation."""
    with Catalog(url=url) as catalog:
        catalog.get_dataset(dataset="race")
        start.wait(30)
        try:
            catalog.get_or_extend_reservation(
                dataset="race", tag_name="key", owner_id=owner, heartbeat_interval=60
            )
            results.put((owner, True))
        except ReservationConflictError:
            results.put((owner, False))


def hold_then_stop(url: str, owner: str, heartbeat: float, beats: int, results: Any) -> None:
    """Take the reservation, heartbeat ``beats`` times, then stop without releasing it."""
    with Catalog(url=url) as catalog:
        for _ in range(beats):
            catalog.get_or_extend_reservation(
                dataset="race",
                tag_name="key",
                owner_id=owner,
                heartbeat_interval=timedelta(seconds=heartbeat),
            )
            results.put("beat")
            time.sleep(heartbeat)
        results.put("stopped")

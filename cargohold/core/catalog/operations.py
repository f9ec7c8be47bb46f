"""Catalog operations beyond datasets and artifacts, as mixins of the facade: reservations and
lineage (reads). The upkeep (blob references, expiry, retention, garbage collection) is in
:mod:`.upkeep`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from cargohold.core.catalog import lineage as _lineage
from cargohold.core.catalog import reservations as _reservations
from cargohold.core.catalog.base import CatalogBase, DatasetRef
from cargohold.core.catalog.objects import (
    Artifact,
    ArtifactSource,
    Neighbours,
    Read,
    Reservation,
)
from cargohold.core.catalog.validation import (
    check_heartbeat,
    check_key,
    check_name,
)
from cargohold.core.context import RunContext

__all__ = ["LineageMixin", "ReservationsMixin"]


class ReservationsMixin(CatalogBase):
    """Reservations: leases on (dataset, tag name)."""

    def get_or_extend_reservation(
        self,
        *,
        dataset: DatasetRef,
        tag_name: str,
        owner_id: str,
        heartbeat_interval: timedelta | float,
    ) -> Reservation:
        """Acquire or extend a reservation; it expires at now + heartbeat x grace multiplier.

        An expired reservation of another owner is taken over.

        Raises:
            ReservationConflictError: another owner holds it unexpired (names holder, expiry).
            NotFoundError: the dataset does not exist.
            InvalidArgumentError: a bad tag, owner or heartbeat.
        """
        ds = self.get_dataset(dataset=dataset)
        name = check_name(tag_name, what="tag_name")
        owner = check_key(owner_id, what="owner_id")
        heartbeat = check_heartbeat(heartbeat_interval)
        now = self.now()
        return self.database.write(
            lambda conn: _reservations.get_or_extend(
                conn,
                dataset=ds,
                tag_name=name,
                owner_id=owner,
                heartbeat_interval=heartbeat,
                grace_multiplier=self.grace_multiplier,
                now=now,
            ),
            single_statement=True,  # one upsert; repeating it is harmless
        )

    def get_reservation(self, *, dataset: DatasetRef, tag_name: str) -> Reservation:
        """The current reservation of (dataset, tag name), possibly expired.

        Raises:
            NotFoundError: there is none.
        """
        ds = self.get_dataset(dataset=dataset)
        return self.database.read(
            lambda conn: _reservations.get_reservation(conn, dataset=ds, tag_name=tag_name)
        )

    def release_reservation(self, *, dataset: DatasetRef, tag_name: str, owner_id: str) -> None:
        """Release the owner's reservation.

        Raises:
            NotFoundError: ``owner_id`` holds no reservation on (dataset, tag name).
        """
        ds = self.get_dataset(dataset=dataset)
        self.database.write(
            lambda conn: _reservations.release(
                conn, dataset=ds, tag_name=tag_name, owner_id=owner_id
            )
        )


class LineageMixin(CatalogBase):
    """Reads recorded in the catalog, and the lineage they give."""

    def record_read(self, *, artifact_id: str, source: ArtifactSource | RunContext) -> Read:
        """Record that an execution read an artifact.

        Raises:
            NotFoundError: the artifact does not exist.
        """
        if isinstance(source, RunContext):
            source = ArtifactSource.from_context(source)
        now, src = self.now(), source
        return self.database.write(
            lambda conn: _lineage.record_read(conn, artifact_id=artifact_id, source=src, now=now)
        )

    def reads_of(self, *, artifact_id: str) -> list[Read]:
        """Every recorded read of an artifact, oldest first."""
        return self.database.read(lambda conn: _lineage.reads_of(conn, artifact_id=artifact_id))

    def upstream(self, *, artifact_id: str) -> list[Artifact]:
        """The artifacts the producing run of this artifact read.

        Raises:
            NotFoundError: the artifact does not exist.
        """
        return self.database.read(lambda conn: _lineage.upstream(conn, artifact_id=artifact_id))

    def downstream(self, *, artifact_id: str) -> list[Artifact]:
        """The artifacts produced by runs that read this artifact.

        Raises:
            NotFoundError: the artifact does not exist.
        """
        return self.database.read(lambda conn: _lineage.downstream(conn, artifact_id=artifact_id))

    def lineage_neighbours(self, *, artifact_ids: Iterable[str]) -> dict[str, Neighbours]:
        """:meth:`upstream` and :meth:`downstream` of many artifacts at once, keyed by artifact
        id: one read transaction with four queries per 500 ids, instead of two transactions per
        artifact. A lineage walk calls it once per breadth-first level.

        Raises:
            NotFoundError: one of the artifacts does not exist (the missing ids are named).
        """
        ids = list(artifact_ids)
        if not ids:
            return {}
        return self.database.read(lambda conn: _lineage.neighbours(conn, artifact_ids=ids))

    def run_inputs(self, *, job: str, run_id: str) -> list[Artifact]:
        """The artifacts the run ``(job, run_id)`` read."""
        return self.database.read(lambda conn: _lineage.run_inputs(conn, job=job, run_id=run_id))

    def run_outputs(self, *, job: str, run_id: str) -> list[Artifact]:
        """The artifacts the run ``(job, run_id)`` produced."""
        return self.database.read(lambda conn: _lineage.run_outputs(conn, job=job, run_id=run_id))

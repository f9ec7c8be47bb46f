"""Which catalog dataset version an asset writes and reads, and repartitioning.

An asset's dataset is named by its key (:mod:`.naming`). Its first partitioning is dataset version
``1``. When the asset's partitioning changes (unpartitioned to partitioned, a daily asset renamed
to ``cargohold/partition_key="day"``, ...) the next write creates the next dataset version with
the new partition keys, as ``FilesystemIOManager`` replaces its file by a folder; the earlier
versions and their artifacts stay in the catalog as history. Each partitioning has exactly one
dataset version (going back to an earlier partitioning continues that version), so "the version
whose partition keys are these" is unambiguous, for writers and readers alike.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

from cargohold.core.catalog import Catalog, Dataset, DatasetID
from cargohold.core.errors import AlreadyExistsError, NotFoundError

__all__ = ["dataset_versions", "readable_dataset", "writable_dataset"]

REPARTITIONED_FROM = "cargohold.repartitioned_from"
"""Dataset metadata of a version made by repartitioning: the version it follows."""


def _version_number(dataset: Dataset) -> int:
    try:
        return int(dataset.id.version)
    except ValueError:
        return 0


def dataset_versions(catalog: Catalog, *, name: str) -> list[Dataset]:
    """Every version of dataset ``name`` in the catalog's project and domain, oldest first."""
    found: list[Dataset] = []
    token: str | None = None
    while True:
        page = catalog.list_datasets(
            project=catalog.project, domain=catalog.domain, name=name, limit=100, page_token=token
        )
        found.extend(ds for ds in page.items if ds.id.name == name)
        token = page.next_token
        if not token:
            return sorted(found, key=_version_number)


def _matching(versions: Sequence[Dataset], dims: Sequence[str]) -> Dataset | None:
    for dataset in reversed(versions):
        if tuple(dataset.partition_keys) == tuple(dims):
            return dataset
    return None


def writable_dataset(
    catalog: Catalog, *, name: str, dims: Sequence[str], metadata: Mapping[str, str]
) -> tuple[DatasetID, Dataset | None]:
    """The dataset version an asset partitioned by ``dims`` writes to, created when missing.

    Returns the id and, when this call created a new version by repartitioning, the version it
    follows (for a warning); else None.

    Raises:
        CatalogError: the catalog failed.
    """
    base = DatasetID(project=catalog.project, domain=catalog.domain, name=name)
    try:
        first = catalog.get_dataset(dataset=base)
    except NotFoundError:
        with contextlib.suppress(AlreadyExistsError):  # another step created it first
            catalog.create_dataset(dataset=base, partition_keys=dims, metadata=metadata)
        first = catalog.get_dataset(dataset=base)
    if tuple(first.partition_keys) == tuple(dims):
        return first.id, None
    versions = dataset_versions(catalog, name=name)
    found = _matching(versions, dims)
    if found is not None:
        return found.id, None
    previous = versions[-1]
    new = DatasetID(
        project=catalog.project,
        domain=catalog.domain,
        name=name,
        version=str(_version_number(previous) + 1),
    )
    with contextlib.suppress(AlreadyExistsError):
        catalog.create_dataset(
            dataset=new,
            partition_keys=dims,
            metadata={**metadata, REPARTITIONED_FROM: previous.id.version},
        )
    return new, previous


def readable_dataset(catalog: Catalog, *, name: str, dims: Sequence[str] | None) -> Dataset:
    """The dataset version to read: the one partitioned by ``dims``; when ``dims`` is None or no
    version has them, the one with as many partition keys, else version ``1``.

    Raises:
        NotFoundError: no dataset ``name`` at all.
    """
    base = DatasetID(project=catalog.project, domain=catalog.domain, name=name)
    first = catalog.get_dataset(dataset=base)
    if dims is not None and tuple(first.partition_keys) == tuple(dims):
        return first
    versions = dataset_versions(catalog, name=name)
    if len(versions) <= 1:
        return first
    if dims is not None:
        found = _matching(versions, dims)
        if found is not None:
            return found
        for dataset in reversed(versions):
            if len(dataset.partition_keys) == len(dims):
                return dataset
    return versions[-1] if dims is None else first

"""Reading inputs: which artifact an input means (latest, pinned version, tag, id), and loading
several partitions concurrently with a bound.

Input metadata (``AssetIn(metadata={...})`` or ``In(metadata={...})``) the IO manager reads:

* ``columns``: read only these columns of a table;
* ``cargohold/version``: load this artifact version (of each partition) instead of the latest;
* ``cargohold/tag``: load the artifact carrying this tag (``production``, ...);
* ``cargohold/artifact_id``: load exactly this artifact;
* ``allow_missing_partitions``: skip partitions that have no artifact instead of failing.
"""

from __future__ import annotations

import collections.abc
import typing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cargohold.core.catalog import Artifact, Catalog, DatasetRef
from cargohold.core.errors import ConfigurationError, NotFoundError, TypeMismatchError

__all__ = [
    "Loaded",
    "Pin",
    "check_many_annotation",
    "element_type",
    "is_mapping_type",
    "load_concurrently",
    "resolve_artifact",
]

VERSION_METADATA = "cargohold/version"
TAG_METADATA = "cargohold/tag"
ARTIFACT_ID_METADATA = "cargohold/artifact_id"


@dataclass(frozen=True, kw_only=True)
class Pin:
    """Which artifact an input loads: the latest (all None), a version, a tag or an id."""

    version: int | None = None
    tag: str | None = None
    artifact_id: str | None = None

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> Pin:
        """The pin an input's metadata asks for.

        Raises:
            ConfigurationError: more than one pin, or a malformed one.
        """
        version = metadata.get(VERSION_METADATA)
        tag = metadata.get(TAG_METADATA)
        artifact_id = metadata.get(ARTIFACT_ID_METADATA)
        given = [v for v in (version, tag, artifact_id) if v is not None]
        if len(given) > 1:
            raise ConfigurationError(
                f"pin an input by one of {VERSION_METADATA}, {TAG_METADATA} or "
                f"{ARTIFACT_ID_METADATA}, not several"
            )
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise ConfigurationError(f"{VERSION_METADATA} must be an int, got {version!r}")
        for name, value in ((TAG_METADATA, tag), (ARTIFACT_ID_METADATA, artifact_id)):
            if value is not None and not isinstance(value, str):
                raise ConfigurationError(f"{name} must be a str, got {value!r}")
        return cls(version=version, tag=tag, artifact_id=artifact_id)

    def describe(self) -> str:
        """A human description (for errors)."""
        if self.version is not None:
            return f"version {self.version}"
        if self.tag is not None:
            return f"tag {self.tag!r}"
        if self.artifact_id is not None:
            return f"artifact {self.artifact_id}"
        return "latest version"


def resolve_artifact(
    catalog: Catalog, *, dataset: DatasetRef, partitions: Mapping[str, str], pin: Pin
) -> Artifact:
    """The artifact of ``dataset`` in ``partitions`` that ``pin`` selects.

    Raises:
        NotFoundError: no such artifact.
    """
    if pin.artifact_id is not None:
        return catalog.get_artifact(artifact_id=pin.artifact_id)
    if pin.tag is not None:
        return catalog.get_artifact(dataset=dataset, tag=pin.tag)
    return catalog.get_artifact(dataset=dataset, partitions=partitions, version=pin.version)


@dataclass(frozen=True, kw_only=True)
class Loaded:
    """One loaded partition: the value and the artifact it came from (None when missing)."""

    key: str
    value: Any = None
    artifact: Artifact | None = None
    missing: NotFoundError | None = None


def load_concurrently(
    keys: Sequence[str],
    load_one: Callable[[str], Loaded],
    *,
    max_concurrency: int,
) -> list[Loaded]:
    """``load_one`` over ``keys`` on at most ``max_concurrency`` threads, in key order.

    A missing artifact comes back as a :class:`Loaded` with ``missing`` set; other errors are
    raised (the first one, after every load finished).
    """
    if len(keys) <= 1 or max_concurrency <= 1:
        return [load_one(key) for key in keys]
    workers = min(max_concurrency, len(keys))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cargohold-load") as pool:
        return list(pool.map(load_one, keys))


def is_mapping_type(annotation: Any) -> bool:
    """True for ``dict``, ``dict[str, X]``, ``Mapping[str, X]`` and the like."""
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, collections.abc.Mapping)


def check_many_annotation(annotation: Any, *, dataset: str, count: int) -> None:
    """Several partitions load into a dict keyed by partition key: the input's annotation must
    be a dict (or absent, ``Any``, ``object``), as Dagster's ``UPathIOManager`` requires.

    Raises:
        TypeMismatchError: another annotation.
    """
    if annotation in (None, Any, object) or is_mapping_type(annotation):
        return
    name = getattr(annotation, "__name__", repr(annotation))
    raise TypeMismatchError(
        f"this input loads {count} partitions of {dataset!r} as a dict keyed by partition key, "
        f"but the type annotation on the input is not a dict ({name}); annotate it as "
        f"dict[str, {name}], or as a table type (pandas.DataFrame, pyarrow.Table, "
        f"polars.LazyFrame, ScannedTable) to load them as one table"
    )


def element_type(annotation: Any) -> Any:
    """The type each value is loaded as: None for Any/object/unannotated; the value type of
    ``dict[str, X]`` when several partitions load into a dict."""
    if annotation in (None, Any, object):
        return None
    if is_mapping_type(annotation):
        args = typing.get_args(annotation)
        return as_type_of(args[1]) if len(args) == 2 else None
    return annotation


def as_type_of(annotation: Any) -> Any:
    """The ``as_type`` of a single (unpartitioned) load: None for Any/object/unannotated."""
    if annotation in (None, Any, object):
        return None
    return annotation

"""Choosing and describing one output (named data entry) of an artifact."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cargohold.core.errors import ProxyError
from cargohold.core.proxy.urls import CargoholdURL
from cargohold.core.types.literals import Literal, canonical_json

if TYPE_CHECKING:
    from cargohold.core.catalog.objects import Artifact

__all__ = ["describe", "pick_output"]


def pick_output(artifact: Artifact, output: str | None) -> tuple[str, Literal]:
    """The ``(name, literal)`` of an artifact's data entry ``output`` (or its only one).

    Raises:
        ProxyError: ``output`` is unknown, or None while the artifact has several entries.
    """
    names = sorted(artifact.data)
    if output is None:
        if len(names) != 1:
            raise ProxyError(
                f"artifact {artifact.id} has outputs {names}; name one (append /NAME to the "
                f"cargohold:// URL, or pass --output NAME)"
            )
        output = names[0]
    if output not in artifact.data:
        raise ProxyError(f"artifact {artifact.id} has no output {output!r}; it has {names}")
    return output, artifact.data[output]


def describe(artifact: Artifact, output: str, literal: Literal) -> dict[str, str]:
    """String metadata describing one output of an artifact (as ``get_data`` returns it)."""
    meta = {
        "artifact_id": artifact.id,
        "dataset": str(artifact.dataset),
        "version": str(artifact.version),
        "partitions": canonical_json(dict(artifact.partitions)).decode(),
        "output": output,
        "type": str(literal.type),
        "literal_hash": literal.hash,
        "url": str(CargoholdURL.for_artifact(artifact, output=output)),
        "inline": "true" if literal.blob is None else "false",
    }
    if literal.blob is not None:
        meta |= {
            "uri": literal.blob.uri,
            "size": str(literal.blob.size),
            "hash": literal.blob.hash,
            "format": literal.blob.format,
        }
    return meta

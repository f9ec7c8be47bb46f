"""Offline validation of OpenLineage events against the published JSON schemas.

:class:`EventValidator` validates an event against the core schema its ``schemaURL`` names (2-0-2
when absent or unknown), then every facet (run, job, dataset, input and output facets) against
the schema its ``_schemaURL`` names: the ``#/$defs/...`` definition when the URL has a fragment,
else the wrapper object ``{"<facetKey>": facet}``. It uses jsonschema's Draft 2020-12 validator,
a ``referencing`` registry mapping every ``https://openlineage.io/spec/...`` URL to the file of
the same path in the schema folder, and a FormatChecker that checks ``uuid``, ``date-time``
(RFC 3339) and ``uri``.

The schemas ship with cargohold (``cargohold/core/lineage/spec``, Apache-2.0, see its README); pass
``spec_dir`` to use another copy with the same layout. A facet whose ``_schemaURL`` lies under
``https://openlineage.io/spec/`` but is not in the folder is an error; a custom facet (any other
URL) is only checked for ``_producer`` and ``_schemaURL``, except cargohold's own facets, whose
schemas (``cargohold/core/lineage/schemas``) are checked as well.

Needs the ``jsonschema`` and ``referencing`` packages (imported when a validator is built).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

from cargohold.core.errors import InvalidEventError, LineageError

__all__ = [
    "SPEC_BASE",
    "EventValidator",
    "InvalidEventError",
    "custom_schema_dir",
    "is_rfc3339",
    "iter_facets",
    "is_uuid",
    "packaged_spec_dir",
    "validate_event",
]

SPEC_BASE = "https://openlineage.io/spec/"
_DEFAULT_CORE = f"{SPEC_BASE}2-0-2/OpenLineage.json"
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S*$")


def packaged_spec_dir() -> Path:
    """The folder of OpenLineage schemas shipped inside cargohold."""
    return Path(__file__).parent / "spec"


def custom_schema_dir() -> Path:
    """The folder of the schemas of cargohold's own facets (validated like the spec's)."""
    return Path(__file__).parent / "schemas"


def is_rfc3339(value: object) -> bool:
    """True when ``value`` is an RFC 3339 date-time string with a time zone."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_uuid(value: object) -> bool:
    """True when ``value`` is a UUID string in the 8-4-4-4-12 form."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        UUID(value)
    except ValueError:
        return False
    return all(value[i] == "-" for i in (8, 13, 18, 23))


class EventValidator:
    """Validates events against the OpenLineage schemas in ``spec_dir`` (see module docstring).

    Raises:
        LineageError: ``spec_dir`` holds no ``2-0-2/OpenLineage.json``, or jsonschema /
            referencing are not installed.
    """

    def __init__(self, *, spec_dir: str | Path | None = None) -> None:
        self.spec_dir = Path(spec_dir) if spec_dir is not None else packaged_spec_dir()
        if not (self.spec_dir / "2-0-2" / "OpenLineage.json").is_file():
            raise LineageError(f"no OpenLineage schemas in {self.spec_dir}")
        try:
            import jsonschema
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012
        except ImportError as exc:
            raise LineageError(
                "validating events needs jsonschema and referencing: pip install jsonschema"
            ) from exc
        resources = [
            (
                SPEC_BASE + path.relative_to(self.spec_dir).as_posix(),
                Resource.from_contents(
                    json.loads(path.read_text("utf-8")), default_specification=DRAFT202012
                ),
            )
            for path in sorted(self.spec_dir.rglob("*.json"))
        ]
        # cargohold's own facets (the partitions facet), published under their $id
        for path in sorted(custom_schema_dir().glob("*.json")):
            contents = json.loads(path.read_text("utf-8"))
            resources.append(
                (
                    str(contents["$id"]),
                    Resource.from_contents(contents, default_specification=DRAFT202012),
                )
            )
        self._known = {uri for uri, _ in resources}
        self._registry = Registry().with_resources(resources)
        checker = jsonschema.FormatChecker()
        checker.checks("uuid")(is_uuid)
        checker.checks("date-time")(is_rfc3339)
        checker.checks("uri")(lambda value: not isinstance(value, str) or bool(_URI.match(value)))
        self._checker = checker
        self._validator_class = jsonschema.Draft202012Validator
        self._validators: dict[str, Any] = {}

    def errors(self, event: Mapping[str, Any]) -> list[str]:
        """Every violation in ``event`` (empty when it is valid), each prefixed by its path."""
        core = str(event.get("schemaURL") or "").split("#")[0]
        if core not in self._known:
            core = _DEFAULT_CORE
        # Validate against the one event kind it is, so errors name the field, not the oneOf.
        kind = (
            "RunEvent" if "run" in event else "DatasetEvent" if "dataset" in event else "JobEvent"
        )
        core = f"{core}#/$defs/{kind}"
        found = [
            f"{_path(error.absolute_path)}: {error.message}"
            for error in self._validator(core).iter_errors(event)
        ]
        for where, key, facet in iter_facets(event):
            found.extend(f"{where}.{key}: {message}" for message in self._facet_errors(key, facet))
        return found

    def validate(self, event: Mapping[str, Any]) -> None:
        """Check ``event``.

        Raises:
            InvalidEventError: ``event`` violates the schemas (all violations listed).
        """
        found = self.errors(event)
        if found:
            raise InvalidEventError(found)

    def _facet_errors(self, key: str, facet: object) -> list[str]:
        if not isinstance(facet, Mapping):
            return ["a facet must be an object"]
        if facet.get("_deleted") is True:
            return []
        missing = [name for name in ("_producer", "_schemaURL") if not facet.get(name)]
        if missing:
            return [f"the facet lacks {' and '.join(missing)}"]
        url = str(facet["_schemaURL"])
        document, _, fragment = url.partition("#")
        if document not in self._known:
            if url.startswith(SPEC_BASE):
                return [f"unknown OpenLineage schema {url}"]
            return []
        if fragment:
            validator = self._validator(url)
            instance: object = facet
        else:
            validator = self._validator(document)
            instance = {key: facet}
        return [
            f"{_path(error.absolute_path)}: {error.message}"
            for error in validator.iter_errors(instance)
        ]

    def _validator(self, url: str) -> Any:
        validator = self._validators.get(url)
        if validator is None:
            validator = self._validator_class(
                {"$ref": url}, registry=self._registry, format_checker=self._checker
            )
            self._validators[url] = validator
        return validator


@cache
def _default_validator(spec_dir: str) -> EventValidator:
    return EventValidator(spec_dir=spec_dir)


def validate_event(event: Mapping[str, Any], *, spec_dir: str | Path | None = None) -> None:
    """Validate ``event`` with a (reused) :class:`EventValidator` for ``spec_dir``.

    Raises:
        InvalidEventError: the event violates the schemas.
        LineageError: the schemas or jsonschema are missing.
    """
    folder = str(Path(spec_dir) if spec_dir is not None else packaged_spec_dir())
    _default_validator(folder).validate(event)


def iter_facets(event: Mapping[str, Any]) -> Iterator[tuple[str, str, object]]:
    """Every facet of ``event`` as ``(where, key, facet)``: run, job, dataset, input, output."""

    def items(where: str, container: object) -> Iterator[tuple[str, str, object]]:
        if isinstance(container, Mapping):
            for key, value in container.items():
                yield where, str(key), value

    run = event.get("run")
    job = event.get("job")
    if isinstance(run, Mapping):
        yield from items("run.facets", run.get("facets"))
    if isinstance(job, Mapping):
        yield from items("job.facets", job.get("facets"))
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        datasets = event.get(side)
        for index, dataset in enumerate(datasets if isinstance(datasets, list) else []):
            if isinstance(dataset, Mapping):
                yield from items(f"{side}[{index}].facets", dataset.get("facets"))
                yield from items(f"{side}[{index}].{extra}", dataset.get(extra))


def _path(parts: Any) -> str:
    return "/" + "/".join(str(part) for part in parts)

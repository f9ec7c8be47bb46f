"""``cargohold://`` URLs: a stable, human-readable name for one output of one artifact.

Grammar (each bracketed part optional; names are percent-encoded where they contain one of
``/ @ : = ? %``)::

    cargohold://{project}/{domain}/{dataset}[@{version}|:{tag}][/{key}={value}...][/{output}]
                [?dataset_version={dataset version}]

* ``project``, ``domain``, ``dataset``: the dataset's id (its version is ``1`` unless
  ``?dataset_version=`` says otherwise).
* ``@{version}``: the artifact version (an integer, counting from 1 within the partition);
  without it, the latest version of the partition.
* ``:{tag}``: the artifact a tag points at (no partitions may follow then).
* ``/{key}={value}``: partition values; every partition key of the dataset must be given.
* ``/{output}``: the name of the artifact's data entry; optional when it has only one.

Examples::

    cargohold://default/development/daily_orders/date=2026-11-01
    cargohold://default/development/daily_orders@3/date=2026-11-01/frame
    cargohold://analytics/production/model:champion/weights
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urlsplit

from cargohold.core.errors import ProxyError

if TYPE_CHECKING:
    from cargohold.core.catalog.objects import Artifact, DatasetID

__all__ = ["SCHEME", "CargoholdURL"]

SCHEME = "cargohold"
_SAFE = ""  # percent-encode everything but unreserved characters


def _q(text: str) -> str:
    return quote(text, safe=_SAFE)


@dataclass(frozen=True, kw_only=True)
class CargoholdURL:
    """A parsed ``cargohold://`` URL (see the module docstring for the grammar)."""

    project: str
    domain: str
    dataset: str
    dataset_version: str = "1"
    version: int | None = None
    tag: str | None = None
    partitions: Mapping[str, str] = field(default_factory=dict)
    output: str | None = None

    def __post_init__(self) -> None:
        if self.tag is not None and (self.version is not None or self.partitions):
            raise ProxyError(
                f"a cargohold:// URL names an artifact by tag, or by partitions and version, "
                f"not both (tag {self.tag!r})"
            )

    @property
    def dataset_id(self) -> DatasetID:
        """The id of the dataset the URL points into."""
        from cargohold.core.catalog.objects import DatasetID

        return DatasetID(
            project=self.project,
            domain=self.domain,
            name=self.dataset,
            version=self.dataset_version,
        )

    @classmethod
    def parse(cls, url: str) -> CargoholdURL:
        """Parse a ``cargohold://`` URL.

        Raises:
            ProxyError: the URL does not follow the grammar (the message says which part).
        """
        parts = urlsplit(url)
        if parts.scheme != SCHEME:
            raise ProxyError(
                f"not a cargohold:// URL: {url!r:.120}; expected "
                f"cargohold://{{project}}/{{domain}}/{{dataset}}[@{{version}}|:{{tag}}]"
                f"[/{{key}}={{value}}...][/{{output}}]"
            )
        segments = [s for s in parts.path.split("/") if s]
        if not parts.netloc or len(segments) < 2:
            raise ProxyError(f"{url!r:.120} lacks a project, a domain or a dataset")
        project, domain, spec = unquote(parts.netloc), unquote(segments[0]), segments[1]
        version: int | None = None
        tag: str | None = None
        name = spec
        for marker in ("@", ":"):
            if marker in spec:
                name, _, suffix = spec.partition(marker)
                if marker == "@":
                    try:
                        version = int(unquote(suffix))
                    except ValueError:
                        raise ProxyError(
                            f"artifact version must be an integer in {url!r:.120}, got {suffix!r}"
                        ) from None
                else:
                    tag = unquote(suffix)
                break
        partitions: dict[str, str] = {}
        output: str | None = None
        for segment in segments[2:]:
            if output is not None:
                raise ProxyError(
                    f"in {url!r:.120} the output name {output!r} must be the last part"
                )
            if "=" in segment:
                key, _, value = segment.partition("=")
                partitions[unquote(key)] = unquote(value)
            else:
                output = unquote(segment)
        query = parse_qs(parts.query)
        dataset_version = query.get("dataset_version", ["1"])[-1]
        if not name or not project or not domain:
            raise ProxyError(f"{url!r:.120} has an empty project, domain or dataset")
        return cls(
            project=project,
            domain=domain,
            dataset=unquote(name),
            dataset_version=dataset_version,
            version=version,
            tag=tag,
            partitions=partitions,
            output=output,
        )

    @classmethod
    def for_artifact(cls, artifact: Artifact, *, output: str | None = None) -> CargoholdURL:
        """The URL pinning one artifact (its partitions and version) and optionally an output."""
        ds = artifact.dataset
        return cls(
            project=ds.project,
            domain=ds.domain,
            dataset=ds.name,
            dataset_version=ds.version,
            version=artifact.version,
            partitions=dict(artifact.partitions),
            output=output,
        )

    def __str__(self) -> str:
        spec = _q(self.dataset)
        if self.version is not None:
            spec += f"@{self.version}"
        elif self.tag is not None:
            spec += f":{_q(self.tag)}"
        path = [_q(self.domain), spec]
        path += [f"{_q(k)}={_q(v)}" for k, v in sorted(self.partitions.items())]
        if self.output is not None:
            path.append(_q(self.output))
        url = f"{SCHEME}://{_q(self.project)}/" + "/".join(path)
        if self.dataset_version != "1":
            url += f"?dataset_version={_q(self.dataset_version)}"
        return url

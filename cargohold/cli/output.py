"""What the command line prints: tables for people, JSON for scripts, a progress bar on stderr."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from cargohold.core.catalog.objects import Artifact

__all__ = ["Output", "ProgressBar", "artifact_dict", "human_bytes", "short_time"]


def human_bytes(size: float) -> str:
    """``1.5 MiB`` style sizes."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover


def short_time(value: datetime | None) -> str:
    """``2026-11-01 12:00:00`` (UTC), or ``-``."""
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


class Output:
    """Writes results as a table or lines (people) or as one JSON document (``--json``)."""

    def __init__(self, *, stdout: TextIO, stderr: TextIO, as_json: bool) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.as_json = as_json

    def json(self, value: Any) -> None:
        """Print ``value`` as indented JSON."""
        self.stdout.write(json.dumps(value, indent=2, sort_keys=False, default=_default) + "\n")

    def line(self, text: str = "") -> None:
        """Print one line for people."""
        self.stdout.write(text + "\n")

    def note(self, text: str) -> None:
        """Print a hint on stderr (never mixed into JSON)."""
        self.stderr.write(text + "\n")

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[object]],
        *,
        empty: str = "(none)",
    ) -> None:
        """Print an aligned table (or ``empty`` when there are no rows)."""
        if not rows:
            self.line(empty)
            return
        cells = [[str(c) for c in headers]] + [
            ["-" if c is None else str(c) for c in r] for r in rows
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
        for index, row in enumerate(cells):
            text = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.line(text.rstrip())
            if index == 0:
                self.line("  ".join("-" * width for width in widths))

    def fields(self, pairs: Mapping[str, object]) -> None:
        """Print ``key: value`` lines, keys aligned."""
        width = max((len(k) for k in pairs), default=0)
        for key, value in pairs.items():
            self.line(f"{key.ljust(width)}  {'-' if value in (None, '') else value}")


class ProgressBar:
    """A one-line progress bar on a terminal stream, redrawn at most ten times a second."""

    def __init__(self, *, stream: TextIO, total: int | None, label: str, width: int = 30) -> None:
        self.stream = stream
        self.total = total
        self.label = label
        self.width = width
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None) -> None:
        """Record progress; ``total`` overrides the one given at construction."""
        if total is not None:
            self.total = total
        now = time.monotonic()
        if now - self._last < 0.1 and (self.total is None or done < self.total):
            return
        self._last = now
        rate = done / max(now - self.started, 1e-6)
        if self.total:
            filled = int(self.width * done / self.total)
            bar = "#" * filled + "-" * (self.width - filled)
            text = (
                f"\r{self.label} [{bar}] {100 * done / self.total:5.1f}% "
                f"{human_bytes(done)}/{human_bytes(self.total)} {human_bytes(rate)}/s"
            )
        else:
            text = f"\r{self.label} {human_bytes(done)} {human_bytes(rate)}/s"
        self.stream.write(text)
        self.stream.flush()

    def finish(self) -> None:
        """End the bar's line."""
        self.stream.write("\n")
        self.stream.flush()


def artifact_dict(artifact: Artifact) -> dict[str, Any]:
    """The JSON form of an artifact, with its pinned ``cargohold://`` URL."""
    from cargohold.core.proxy import CargoholdURL

    ds = artifact.dataset
    return {
        "id": artifact.id,
        "dataset": {
            "project": ds.project,
            "domain": ds.domain,
            "name": ds.name,
            "version": ds.version,
        },
        "version": artifact.version,
        "partitions": dict(artifact.partitions),
        "tags": list(artifact.tags),
        "metadata": dict(artifact.metadata),
        "url": str(CargoholdURL.for_artifact(artifact)),
        "source": None if artifact.source is None else vars(artifact.source),
        "created_at": artifact.created_at,
        "data": {name: lit.to_dict() for name, lit in sorted(artifact.data.items())},
    }

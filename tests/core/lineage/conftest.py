"""Fixtures of the lineage tests: schema folders, a validating receiver, a capturing transport.

Every event a test produces goes through :func:`check_events`, which validates it against the
schemas shipped in cargohold AND against ``../shared/openlineage-spec`` (beside the repository).
Outside CI a missing shared folder only skips that second validation; with ``CI=true`` it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from cargohold.core.lineage.testing import CapturingTransport, LineageReceiver
from cargohold.core.lineage.validation import EventValidator, packaged_spec_dir

REPO = Path(__file__).resolve().parents[3]
SHARED_SPEC = REPO.parent / "shared" / "openlineage-spec"


@pytest.fixture(scope="session")
def validators() -> list[EventValidator]:
    """Validators over the packaged schemas and the shared reference copy."""
    found = [EventValidator(spec_dir=packaged_spec_dir())]
    if (SHARED_SPEC / "2-0-2" / "OpenLineage.json").is_file():
        found.append(EventValidator(spec_dir=SHARED_SPEC))
    elif os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the shared OpenLineage schemas are missing at {SHARED_SPEC}")
    return found


@pytest.fixture(scope="session")
def check_events(validators: list[EventValidator]) -> Any:
    """A function that validates events against every schema folder, failing the test if not."""

    def check(events: Iterable[Mapping[str, Any]]) -> int:
        count = 0
        for event in events:
            for validator in validators:
                errors = validator.errors(event)
                assert not errors, f"invalid event ({validator.spec_dir}): {errors}\n{event}"
            count += 1
        return count

    return check


@pytest.fixture
def capture(check_events: Any) -> Iterator[CapturingTransport]:
    """A capturing transport whose events are all validated when the test ends."""
    transport = CapturingTransport()
    yield transport
    check_events(transport.events)


@pytest.fixture
def receiver(check_events: Any) -> Iterator[LineageReceiver]:
    """A validating Marquez-like receiver; at the end every accepted event is re-validated."""
    with LineageReceiver() as server:
        yield server
        check_events(server.events)


@pytest.fixture(autouse=True)
def _clean_openlineage_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No OpenLineage configuration leaks in from the environment, the cwd or ~/.openlineage.

    openlineage-python's client writes ``OPENLINEAGE__TRANSPORT__TRANSPORTS__*`` aliases into
    ``os.environ``; the whole environment is restored after each test so none leaks out either.
    """
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith("OPENLINEAGE"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield
    os.environ.clear()
    os.environ.update(saved)

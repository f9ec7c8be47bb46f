"""Dagster at the trust boundary (issue 12): an asset's dataclass loads downstream with the
default settings; a class nobody declares loads only once ``CARGOHOLD_ALLOWED_TYPES`` allows
it; hostile literals in the catalog make a load fail with a ``CargoholdError``, nothing else."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from hypothesis import HealthCheck, given, settings

from cargohold.core.errors import CargoholdError, UntrustedTypeError
from cargohold.core.types.literals import Literal
from cargohold.dagster_integration import CargoholdIOManager
from tests.core.types._elsewhere import Spot
from tests.support import hostile


@dataclasses.dataclass(frozen=True)
class Batch:
    rows: int
    source: str


@dg.asset
def batch() -> Batch:
    return Batch(rows=3, source="orders")


@dg.asset
def batch_size(batch: Batch) -> int:
    assert isinstance(batch, Batch), type(batch)
    return batch.rows


@dg.asset
def spot():  # type: ignore[no-untyped-def]
    return Spot(x=1, label="far")


@dg.asset
def spot_label(spot):  # type: ignore[no-untyped-def]
    return spot.label


@dg.asset
def spot_kind(spot):  # type: ignore[no-untyped-def]
    return type(spot).__name__  # never fails: any failure is the load's


def _cause(exc: BaseException) -> BaseException:
    """The innermost CargoholdError Dagster wrapped (or the exception itself)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, CargoholdError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


def test_an_assets_dataclass_loads_downstream(local_io_manager: CargoholdIOManager) -> None:
    result = dg.materialize([batch, batch_size], resources={"io_manager": local_io_manager})
    assert result.success
    assert result.output_for_node("batch_size") == 3


def test_an_undeclared_class_is_refused_until_allowed(
    local_io_manager: CargoholdIOManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = {"io_manager": local_io_manager}
    assert dg.materialize([spot], resources=resources).success
    with pytest.raises(Exception) as caught:  # noqa: PT011 - Dagster wraps the load's error
        dg.materialize([spot_label, spot.to_source_asset()], resources=resources)
    error = _cause(caught.value)
    assert isinstance(error, UntrustedTypeError), repr(caught.value)
    assert "tests.core.types._elsewhere:Spot" in str(error)

    monkeypatch.setenv("CARGOHOLD_ALLOWED_TYPES", "tests.core.types._elsewhere.*")
    allowed = CargoholdIOManager(
        store_url=local_io_manager.store_url, catalog_url=local_io_manager.catalog_url
    )
    result = dg.materialize([spot_label, spot.to_source_asset()], resources={"io_manager": allowed})
    assert result.success
    assert result.output_for_node("spot_label") == "far"


def test_fuzz_io_manager_load(local_io_manager: CargoholdIOManager, tmp_path: Path) -> None:
    """Hostile literals recorded as the upstream asset: the downstream load raises a
    CargoholdError (or succeeds); no new import; nothing written outside; bounded time."""
    hostile.warm_up()
    resources = {"io_manager": local_io_manager}
    assert dg.materialize([spot], resources=resources).success
    hold = local_io_manager.hold()
    valid = [hold.put(value).to_dict() for value in (Spot(x=1, label="a"), b"x" * 70_000, 3)]
    uris = sorted({blob.uri for doc in valid for blob in Literal.from_dict(doc).blobs()})
    outside, cwd = tmp_path / "outside", tmp_path / "cwd"
    outside.mkdir()
    cwd.mkdir()

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
        database=None,
    )
    @given(document=hostile.documents(valid, outside, uris))
    def fuzz(document: Any) -> None:
        try:
            literal = Literal.from_json(hostile.as_text(document))
        except CargoholdError:
            return
        try:
            hold.catalog.create_artifact(dataset="spot", data={"value": literal})
        except CargoholdError:
            return  # the catalog refuses it: nothing to load
        with hostile.watched(outside=outside, cwd=cwd, bound=60.0) as check:
            failure: BaseException | None = None
            try:
                dg.materialize([spot_kind, spot.to_source_asset()], resources=resources)
            except Exception as exc:  # Dagster wraps the load's error
                failure = exc
            check()
        assert failure is None or isinstance(_cause(failure), CargoholdError), repr(failure)

    fuzz()

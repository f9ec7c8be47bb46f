"""ArtifactQuery, partition_by_date and partition_by_key, end to end through Cargohold."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from cargohold.core.catalog import (
    Catalog,
    PartitionSpec,
    Range,
    partition_by_date,
    partition_by_key,
    partition_specs,
)
from cargohold.core.context import RunContext
from cargohold.core.errors import InvalidArgumentError, NotFoundError
from cargohold.core.hold import Cargohold
from cargohold.core.query import ArtifactQuery


@partition_by_date(key="report_date")
def generate_daily_report(report_date: datetime) -> pd.DataFrame:
    return pd.DataFrame({"day": [report_date.isoformat()]})


@partition_by_key(key="customer_id")
@partition_by_date()
def transactions(customer_id: str, day: date) -> int:
    return 1


@pytest.fixture
def hold(catalog_url: str, tmp_path: Path) -> Iterator[Cargohold]:
    hold = Cargohold(store_url=(tmp_path / "store").as_uri(), catalog_url=catalog_url)
    yield hold
    hold.catalog.close()


def test_partition_declarations() -> None:
    assert partition_specs(generate_daily_report) == (
        PartitionSpec(key="report_date", kind="date"),
    )
    assert [s.key for s in partition_specs(transactions)] == ["customer_id", "date"]
    assert partition_specs(len) == ()
    spec = PartitionSpec(key="d", kind="date")
    assert spec.normalize(datetime(2026, 11, 1, 15, 30)) == "2026-11-01"
    assert spec.normalize("2026-11-01T00:00:00") == "2026-11-01"
    assert spec.normalize(date(2026, 11, 1)) == "2026-11-01"
    with pytest.raises(InvalidArgumentError, match="ISO date"):
        spec.normalize("yesterday")
    with pytest.raises(InvalidArgumentError, match="twice"):
        partition_by_key(key="customer_id")(transactions)
    with pytest.raises(InvalidArgumentError):
        partition_by_key(key="a/b")


def test_get_latest_and_load(hold: Cargohold, tmp_path: Path) -> None:
    catalog = hold.catalog
    catalog.create_dataset(dataset="generate_daily_report", partition_keys=["report_date"])
    for rows in (2, 3):
        frame = pd.DataFrame({"a": range(rows), "b": ["x"] * rows, "c": [1.5] * rows})
        catalog.create_artifact(
            dataset="generate_daily_report",
            data={"o0": hold.put(frame)},
            partitions={"report_date": datetime(2026, 11, 1)},
        )
    found = ArtifactQuery.get_latest(
        task_name="generate_daily_report",
        partition_keys={"report_date": "2026-11-01"},
        hold=hold,
    )
    assert found is not None
    assert found.version == 2
    assert found.partitions == {"report_date": "2026-11-01"}
    assert found.uri is not None
    loaded = found.load(columns=["a", "c"])
    assert list(loaded.columns) == ["a", "c"]
    assert len(loaded) == 3
    target = found.download(str(tmp_path / "copy.bin"))
    with found.open() as stream, open(target, "rb") as copy:
        assert stream.read() == copy.read()
    same = ArtifactQuery.get_latest(
        dataset="generate_daily_report",
        partition_keys={"report_date": datetime(2026, 11, 1, 9, 0)},
        producer=generate_daily_report,
        catalog=catalog,
        hold=hold,
    )
    assert same is not None
    assert same.id == found.id
    assert (
        ArtifactQuery.get_latest(
            task_name="generate_daily_report",
            partition_keys={"report_date": date(2026, 10, 1)},
            hold=hold,
        )
        is None
    )


def test_list_artifacts_inline_values_and_lineage(hold: Cargohold) -> None:
    catalog = hold.catalog
    catalog.create_dataset(dataset="transactions", partition_keys=["customer_id", "date"])
    for customer, day in [("c1", "2026-11-01"), ("c1", "2026-11-02"), ("c2", "2026-11-01")]:
        catalog.create_artifact(
            dataset="transactions",
            data={"n": hold.put(len(customer + day))},
            partitions={"customer_id": customer, "date": day},
        )
    found = ArtifactQuery.list_artifacts(
        task_name="transactions", partition_keys={"customer_id": "c1"}, hold=hold
    )
    assert [a.partitions["date"] for a in found] == ["2026-11-02", "2026-11-01"]
    assert found[0].uri is None
    assert found[0].load() == 12
    with pytest.raises(InvalidArgumentError, match="inline"):
        found[0].open()
    ranged = ArtifactQuery.list_artifacts(
        dataset="transactions",
        partition_keys={"date": Range(ge=date(2026, 11, 2))},
        catalog=catalog,
        hold=hold,
    )
    assert [a.partitions["customer_id"] for a in ranged] == ["c1"]
    assert len(ArtifactQuery.list_artifacts(dataset="transactions", limit=2, hold=hold)) == 2
    latest_c2 = ArtifactQuery.get_latest(
        task_name="transactions", partition_keys={"customer_id": "c2"}, hold=hold
    )
    assert latest_c2 is not None
    context = RunContext(job="downstream", run_id="r1")
    assert latest_c2.load(context=context) == 12
    assert [a.id for a in catalog.run_inputs(job="downstream", run_id="r1")] == [latest_c2.id]


def test_query_errors(hold: Cargohold) -> None:
    with pytest.raises(InvalidArgumentError, match="exactly one"):
        ArtifactQuery.get_latest(hold=hold)
    with pytest.raises(NotFoundError):
        ArtifactQuery.get_latest(task_name="missing", hold=hold)
    catalog: Catalog = hold.catalog
    catalog.create_dataset(dataset="two")
    catalog.create_artifact(dataset="two", data={"a": hold.put(1), "b": hold.put(2)})
    found = ArtifactQuery.get_latest(dataset="two", hold=hold)
    assert found is not None
    with pytest.raises(InvalidArgumentError, match="data_name"):
        found.load()
    picked = ArtifactQuery.get_latest(dataset="two", data_name="b", hold=hold)
    assert picked is not None
    assert picked.load() == 2


def test_default_catalog_comes_from_the_environment(
    catalog_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARGOHOLD_CATALOG_URL", catalog_url)
    monkeypatch.setenv("CARGOHOLD_STORE_URL", (tmp_path / "s").as_uri())
    hold = Cargohold.from_env()
    hold.catalog.create_dataset(dataset="env")
    hold.catalog.create_artifact(dataset="env", data={"x": hold.put("hello")})
    hold.catalog.close()
    found = ArtifactQuery.get_latest(dataset="env")
    assert found is not None
    assert found.load() == "hello"

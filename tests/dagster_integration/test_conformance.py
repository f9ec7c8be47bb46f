"""CargoholdIOManager behaves as Dagster's own IO managers: our tests of the behaviours Dagster's
suites test for ``FilesystemIOManager`` (``test_fs_io_manager.py``) and ``UPathIOManager``
(``test_upath_io_manager.py``), each run on a local store and on S3 (moto over HTTP), with a
SQLite catalog. Written for cargohold (no code taken from Dagster).

FilesystemIOManager behaviours:

1. op outputs are stored and loaded downstream; each handled output carries ``path`` metadata;
2. outputs that cannot be serialized fail the step with a clear error (Dagster: not picklable;
   cargohold: ``UnsupportedTypeError``, pickle is off by default);
3. assets with key prefixes are stored under their key path and load downstream;
4. partitioned assets store one value per partition and load the same partition downstream;
5. a partition mapping that selects no upstream partitions loads ``None``;
6. a partitioned multi-asset hands every output to the IO manager;
7. a partitioned graph-backed asset passes op outputs inside the graph and its asset input;
8. a self-dependent asset (``TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)``)
   bootstraps: its first partition loads ``None``, the next one the previous value;
9. outputs annotated ``None`` (assets and ops, ``Nothing`` inputs) are never handed over;
10. an unannotated output whose value is ``None`` is handled without ``path`` metadata;
11. multi-partitioned assets store and load per ``MultiPartitionKey``;
12. loading a partition that was never materialized raises a ``FileNotFoundError`` naming it.

UPathIOManager behaviours:

13. direct calls: ``handle_output`` / ``load_input`` on ``build_output_context`` /
    ``build_input_context`` round-trip JSON-like values, with an ``Any`` or a concrete type;
14. a daily asset downstream of an hourly one loads a dict of its 24 hours;
15. ``AllPartitionMapping`` from a partitioned run loads a dict of every static partition;
16. ... and from a non-partitioned run too;
17. static partition keys containing dots are stored and loaded as given;
18. a one-partition dependency loads the value itself, not a dict;
19. several partitions into an input not annotated as a dict is an error naming the cause;
20. ... but an unannotated or ``Any`` input gets the dict;
21. the IO manager's own metadata is on the handled output (``dagster/row_count``, schema, uri);
22. partitioned and unpartitioned assets load (concurrently, ``max_concurrency``), and a
    ``TimeWindowPartitionMapping(start_offset=-1)`` input loads both days;
23. a missing upstream partition fails the load;
24. ``allow_missing_partitions`` skips it (also when the upstream was never materialized).

The issue's additions (Dagster's own IO managers do these too, or Dagster's UI shows them):

25. ``Definitions.load_asset_value`` and ``AssetValueLoader`` outside a run: the latest value,
    or the one a partition key names;
26. an asset changed from unpartitioned to partitioned keeps working (a new dataset version;
    the old one stays as history);
27. two materializations of unchanged inputs and code report the same ``DataVersion``, a
    changed value another one;
28. with a UI base URL configured, each materialization links to its artifact's page.
"""

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from cargohold.core.catalog import DatasetID
from cargohold.core.errors import PartitionNotFoundError, UnsupportedTypeError
from cargohold.dagster_integration import CargoholdIOManager
from tests.support.services import S3Server

DAILY = dg.DailyPartitionsDefinition(start_date="2026-01-01")
HOURLY = dg.HourlyPartitionsDefinition(start_date="2026-01-01-00:00")
AB = dg.StaticPartitionsDefinition(["A", "B"])
Manager = Callable[..., CargoholdIOManager]


@pytest.fixture(params=["local", "s3"])
def make_manager(request: pytest.FixtureRequest, tmp_path: Path) -> Manager:
    """Makes IO managers on one store (a local folder, or a fresh bucket on moto's S3 server)
    and one SQLite catalog; extra fields (``ui_url``, ...) are passed through."""
    catalog_url = f"sqlite:///{tmp_path}/catalog.db"
    if request.param == "local":
        store: dict[str, Any] = {"store_url": f"file://{tmp_path}/store"}
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        store = {
            "store_url": f"s3://{server.create_bucket()}/store",
            "store_options": server.options(),
        }

    def make(**extra: Any) -> CargoholdIOManager:
        return CargoholdIOManager(catalog_url=catalog_url, **store, **extra)

    return make


def _handled(result: Any) -> list[Any]:
    return [event for event in result.all_node_events if event.is_handled_output]


def _run(assets: list[Any], manager: CargoholdIOManager, **kwargs: Any) -> Any:
    return dg.materialize(assets, resources={"io_manager": manager}, **kwargs)


# -- FilesystemIOManager -------------------------------------------------------------------


def test_op_outputs_round_trip_with_path_metadata(make_manager: Manager) -> None:
    @dg.op
    def op_a() -> list[int]:
        return [1, 2, 3]

    @dg.op
    def op_b(values: list[int]) -> int:
        return len(values)

    @dg.job(resource_defs={"io_manager": make_manager()})
    def ops() -> None:
        op_b(op_a())

    result = ops.execute_in_process()
    assert result.success
    assert result.output_for_node("op_b") == 3
    handled = _handled(result)
    assert len(handled) == 2
    assert all("path" in event.event_specific_data.metadata for event in handled)
    loaded = [event for event in result.all_events if event.is_loaded_input]
    assert loaded[0].event_specific_data.upstream_step_key == "op_a"


def test_unserializable_output_fails_clearly(make_manager: Manager) -> None:
    @dg.asset
    def lam() -> Any:
        return lambda x: x

    with pytest.raises(UnsupportedTypeError, match="no transformer"):
        _run([lam], make_manager())


def test_key_prefixed_assets(make_manager: Manager) -> None:
    @dg.asset(key_prefix=["one", "two"])
    def asset1() -> list[int]:
        return [1, 2, 3]

    @dg.asset(key_prefix=["four"], ins={"asset1": dg.AssetIn(key_prefix=["one", "two"])})
    def asset2(asset1: list[int]) -> list[int]:
        return [*asset1, 4]

    manager = make_manager()
    result = _run([asset1, asset2], manager)
    assert result.output_for_node("four__asset2") == [1, 2, 3, 4]
    catalog = manager.hold().catalog
    assert catalog.get_latest(dataset="one.two.asset1").version == 1
    assert catalog.get_latest(dataset="four.asset2").version == 1


def test_partitioned_assets(make_manager: Manager) -> None:
    @dg.asset(partitions_def=DAILY)
    def daily(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    @dg.asset(partitions_def=DAILY)
    def after(daily: str) -> str:
        return daily + "!"

    manager = make_manager()
    for day in ("2026-01-01", "2026-01-02"):
        result = _run([daily, after], manager, partition_key=day)
        assert result.output_for_node("after") == day + "!"
    assert len(manager.hold().catalog.list_artifacts(dataset="daily", limit=10).items) == 2


class _NoPartitions(dg.PartitionMapping):
    """A partition mapping that selects no upstream partition."""

    def validate_partition_mapping(self, *args: Any, **kwargs: Any) -> None:
        return None

    def get_upstream_mapped_partitions_result_for_partitions(
        self,
        downstream_partitions_subset: Any,
        downstream_partitions_def: Any,
        upstream_partitions_def: Any,
        current_time: Any = None,
        dynamic_partitions_store: Any = None,
    ) -> Any:
        from dagster._core.definitions.partitions.mapping import UpstreamPartitionsResult

        return UpstreamPartitionsResult(
            partitions_subset=upstream_partitions_def.empty_subset(),
            required_but_nonexistent_subset=upstream_partitions_def.empty_subset(),
        )

    def get_downstream_partitions_for_partitions(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @property
    def description(self) -> str:
        return "no partitions"


@pytest.mark.parametrize("materialized", [False, True])
def test_no_upstream_partitions_load_none(make_manager: Manager, materialized: bool) -> None:
    @dg.asset(partitions_def=DAILY)
    def asset1() -> int:
        return 1

    @dg.asset(partitions_def=DAILY, ins={"asset1": dg.AssetIn(partition_mapping=_NoPartitions())})
    def asset2(asset1: Any) -> bool:
        return asset1 is None

    manager = make_manager()
    if materialized:  # the dataset exists, or not yet: None both ways
        _run([asset1], manager, partition_key="2026-01-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _run([asset1.to_source_assets()[0], asset2], manager, partition_key="2026-01-01")
    assert result.output_for_node("asset2") is True


def test_partitioned_multi_asset(make_manager: Manager) -> None:
    @dg.multi_asset(
        partitions_def=AB, outs={"out_1": dg.AssetOut(key="up_1"), "out_2": dg.AssetOut(key="up_2")}
    )
    def upstream() -> tuple[dg.Output[int], dg.Output[int]]:
        return dg.Output(1, output_name="out_1"), dg.Output(2, output_name="out_2")

    @dg.asset(partitions_def=AB)
    def downstream(up_1: int, up_2: int) -> int:
        return up_1 + up_2

    result = _run([upstream, downstream], make_manager(), partition_key="A")
    assert result.output_for_node("downstream") == 3
    assert len(_handled(result)) == 3


def test_partitioned_graph_backed_asset(make_manager: Manager) -> None:
    @dg.asset(key_prefix=["the", "prefix"], partitions_def=AB)
    def one() -> int:
        return 1

    @dg.op
    def add_1(value: int) -> int:
        return value + 1

    @dg.graph
    def four(value: int) -> int:
        return add_1(add_1(add_1(value)))

    four_asset = dg.AssetsDefinition.from_graph(
        four, keys_by_input_name={"value": dg.AssetKey(["the", "prefix", "one"])}, partitions_def=AB
    )
    result = _run([one, four_asset], make_manager(), partition_key="A")
    assert result.success
    assert len(_handled(result)) == 4
    assert result.output_for_node("four") == 4


def test_self_dependent_asset_bootstraps(make_manager: Manager) -> None:
    @dg.asset(
        partitions_def=DAILY,
        ins={
            "a": dg.AssetIn(
                partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
            )
        },
    )
    def a(a: int | None) -> int:
        return 1 if a is None else a + 1

    manager = make_manager()
    assert _run([a], manager, partition_key="2026-01-01").output_for_node("a") == 1
    assert _run([a], manager, partition_key="2026-01-02").output_for_node("a") == 2


def test_none_annotated_outputs_are_not_handled(make_manager: Manager) -> None:
    @dg.asset
    def asset1() -> None:
        pass

    @dg.asset(deps=[asset1])
    def asset2() -> None:
        pass

    @dg.op
    def op1() -> None:
        pass

    @dg.op(ins={"after": dg.In(dg.Nothing)})
    def op2() -> None:
        pass

    manager = make_manager()
    assert _handled(_run([asset1, asset2], manager)) == []

    @dg.job(resource_defs={"io_manager": manager})
    def job1() -> None:
        op2(op1())

    assert _handled(job1.execute_in_process()) == []
    assert manager.hold().catalog.list_datasets(limit=10).items == ()


def test_none_value_has_no_path_metadata(make_manager: Manager) -> None:
    @dg.asset
    def asset1():  # type: ignore[no-untyped-def]  # unannotated on purpose
        pass

    @dg.asset
    def asset2(asset1: Any) -> bool:
        return asset1 is None

    manager = make_manager()
    result = _run([asset1, asset2], manager)
    handled = _handled(result)
    assert len(handled) == 2
    metadata = next(e for e in handled if e.step_key == "asset1").event_specific_data.metadata
    assert "path" not in metadata
    assert "uri" not in metadata
    assert result.output_for_node("asset2") is True  # downstream loads None, as Dagster's


MULTI = dg.MultiPartitionsDefinition(
    {"abc": dg.StaticPartitionsDefinition(["a", "b"]), "date": DAILY}
)


def test_multi_partitioned_assets(make_manager: Manager) -> None:
    @dg.asset(partitions_def=MULTI)
    def multi(context: dg.AssetExecutionContext) -> str:
        return str(context.partition_key)

    @dg.asset(partitions_def=MULTI)
    def multi_after(multi: str) -> str:
        return multi

    manager = make_manager()
    key = dg.MultiPartitionKey({"abc": "a", "date": "2026-01-02"})
    result = _run([multi, multi_after], manager, partition_key=key)
    assert len(_handled(result)) == 2
    assert result.output_for_node("multi_after") == str(key)
    found = manager.hold().catalog.get_latest(
        dataset="multi", partitions={"abc": "a", "date": "2026-01-02"}
    )
    assert found.version == 1


def test_missing_partition_is_a_file_not_found_error(make_manager: Manager) -> None:
    @dg.asset(partitions_def=MULTI)
    def multi() -> int:
        return 1

    @dg.asset(partitions_def=MULTI)
    def multi_after(multi: int) -> int:
        return multi

    manager = make_manager()
    _run([multi], manager, partition_key=dg.MultiPartitionKey({"abc": "a", "date": "2026-01-02"}))
    missing = dg.MultiPartitionKey({"abc": "b", "date": "2026-01-02"})
    with pytest.raises(FileNotFoundError, match=r"b\|2026-01-02") as raised:
        _run([multi.to_source_assets()[0], multi_after], manager, partition_key=missing)
    assert isinstance(raised.value, PartitionNotFoundError)


# -- UPathIOManager ------------------------------------------------------------------------


@pytest.mark.parametrize("data", [0, 0.0, [0, 1, 2], {"a": 0}, [{"a": 0}, {"b": 1}, {"c": 2}]])
@pytest.mark.parametrize("typing_type", [Any, None])
def test_direct_calls_round_trip(make_manager: Manager, data: Any, typing_type: Any) -> None:
    manager = make_manager()
    kind = typing_type or type(data)
    dagster_type = dg.DagsterType(type_check_fn=lambda _, value: True, name="t", typing_type=kind)
    out = dg.build_output_context(name="abc", step_key="123", dagster_type=dagster_type)
    manager.handle_output(out, data)
    loading = dg.build_input_context(name="abc", upstream_output=out, dagster_type=dagster_type)
    assert manager.load_input(loading) == data


def test_direct_calls_on_assets(make_manager: Manager) -> None:
    manager = make_manager()
    manager.handle_output(dg.build_output_context(asset_key="direct"), {"x": 1})
    assert manager.load_input(dg.build_input_context(asset_key="direct")) == {"x": 1}
    out = dg.build_output_context(
        asset_key="direct_daily", partition_key="2026-01-02", asset_partitions_def=DAILY
    )
    manager.handle_output(out, 7)
    loading = dg.build_input_context(
        asset_key="direct_daily", partition_key="2026-01-02", asset_partitions_def=DAILY
    )
    assert manager.load_input(loading) == 7


def test_daily_downstream_of_hourly_loads_24_hours(make_manager: Manager) -> None:
    @dg.asset(partitions_def=HOURLY)
    def hours(context: dg.AssetExecutionContext) -> dict[str, str]:
        return {key: key for key in context.partition_keys}

    @dg.asset(partitions_def=DAILY)
    def day(hours: dict[str, str]) -> int:
        return len(hours)

    manager = make_manager()
    _run(
        [hours],
        manager,
        tags={
            "dagster/asset_partition_range_start": "2026-01-01-00:00",
            "dagster/asset_partition_range_end": "2026-01-01-23:00",
        },
    )
    result = _run([hours.to_source_assets()[0], day], manager, partition_key="2026-01-01")
    assert result.output_for_node("day") == 24


@pytest.mark.parametrize("partitioned_run", [True, False])
def test_all_partition_mapping_loads_every_partition(
    make_manager: Manager, partitioned_run: bool
) -> None:
    @dg.asset(partitions_def=AB)
    def upstream(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    @dg.asset(
        partitions_def=AB if partitioned_run else None,
        ins={"upstream": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
    )
    def downstream(upstream: dict[str, str]) -> dict[str, str]:
        return upstream

    manager = make_manager()
    for key in ("A", "B"):
        _run([upstream], manager, partition_key=key)
    extra = {"partition_key": "A"} if partitioned_run else {}
    result = _run([upstream.to_source_assets()[0], downstream], manager, **extra)
    assert result.output_for_node("downstream") == {"A": "A", "B": "B"}


def test_partition_keys_with_dots(make_manager: Manager) -> None:
    dotted = dg.StaticPartitionsDefinition(["0.0-to-1.0", "1.0-to-2.0"])

    @dg.asset(partitions_def=dotted)
    def ranges(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    manager = make_manager()
    _run([ranges], manager, partition_key="0.0-to-1.0")
    found = manager.hold().catalog.get_latest(
        dataset="ranges", partitions={"partition": "0.0-to-1.0"}
    )
    assert manager.hold().get(found.data["value"]) == "0.0-to-1.0"


def test_one_partition_loads_the_value(make_manager: Manager) -> None:
    @dg.asset(partitions_def=DAILY)
    def upstream() -> int:
        return 42

    @dg.asset(partitions_def=DAILY)
    def daily_asset(upstream: int) -> int:
        return upstream

    result = _run([upstream, daily_asset], make_manager(), partition_key="2026-01-01")
    assert result.output_for_node("daily_asset") == 42


def _hours_then(manager: CargoholdIOManager, downstream: Any) -> Any:
    @dg.asset(partitions_def=HOURLY, name="hours")
    def hours(context: dg.AssetExecutionContext) -> dict[str, str]:
        return {key: key for key in context.partition_keys}

    _run(
        [hours],
        manager,
        tags={
            "dagster/asset_partition_range_start": "2026-01-01-00:00",
            "dagster/asset_partition_range_end": "2026-01-01-23:00",
        },
    )
    return _run(
        [hours.to_source_assets()[0], downstream],
        manager,
        partition_key="2026-01-01",
        raise_on_error=False,
    )


def test_several_partitions_need_a_dict_annotation(make_manager: Manager) -> None:
    @dg.asset(partitions_def=DAILY)
    def wrong(hours: str) -> str:
        return hours

    result = _hours_then(make_manager(), wrong)
    assert not result.success
    text = str(result.get_step_failure_events()[0].step_failure_data.error)
    assert "type annotation on the input is not a dict" in text


@pytest.mark.parametrize("annotated", [False, True])
def test_unannotated_or_any_input_gets_the_dict(make_manager: Manager, annotated: bool) -> None:
    if annotated:

        @dg.asset(partitions_def=DAILY, name="loose")
        def loose(hours: Any) -> int:
            return len(hours)

    else:

        @dg.asset(partitions_def=DAILY, name="loose")
        def loose(hours):  # type: ignore[no-untyped-def]
            return len(hours)

    result = _hours_then(make_manager(), loose)
    assert result.output_for_node("loose") == 24


def test_io_manager_metadata_on_the_handled_output(make_manager: Manager) -> None:
    @dg.asset
    def table() -> pd.DataFrame:
        return pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})

    metadata = _handled(_run([table], make_manager()))[0].event_specific_data.metadata
    assert metadata["dagster/row_count"] == dg.MetadataValue.int(3)
    columns = metadata["dagster/column_schema"].schema.columns
    assert [c.name for c in columns] == ["a", "b"]
    assert metadata["uri"].value == metadata["path"].path


def test_time_window_mapping_loads_both_days(make_manager: Manager) -> None:
    @dg.asset(partitions_def=DAILY)
    def upstream(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    @dg.asset(
        partitions_def=DAILY,
        ins={"upstream": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(-1))},
    )
    def downstream(upstream: dict[str, str]) -> dict[str, str]:
        return upstream

    manager = make_manager(max_concurrency=2)
    for day in ("2026-01-01", "2026-01-02"):
        _run([upstream], manager, partition_key=day)
    result = _run([upstream.to_source_assets()[0], downstream], manager, partition_key="2026-01-02")
    assert result.output_for_node("downstream") == {
        "2026-01-01": "2026-01-01",
        "2026-01-02": "2026-01-02",
    }


@pytest.mark.parametrize("allow", [False, True])
def test_missing_partitions(make_manager: Manager, allow: bool) -> None:
    @dg.asset(partitions_def=DAILY)
    def upstream(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    metadata = {"allow_missing_partitions": True} if allow else {}

    @dg.asset(
        partitions_def=DAILY,
        ins={
            "upstream": dg.AssetIn(
                partition_mapping=dg.TimeWindowPartitionMapping(-1), metadata=metadata
            )
        },
    )
    def downstream(upstream: dict[str, str]) -> int:
        return len(upstream)

    manager = make_manager()
    assets = [upstream.to_source_assets()[0], downstream]
    if allow:  # never materialized at all: nothing to load
        assert _run(assets, manager, partition_key="2026-01-05").output_for_node("downstream") == 0
    _run([upstream], manager, partition_key="2026-01-01")
    result = _run(assets, manager, partition_key="2026-01-02", raise_on_error=False)
    if allow:
        assert result.output_for_node("downstream") == 1
    else:
        assert not result.success
        text = str(result.get_step_failure_events()[0].step_failure_data.error)
        assert "PartitionNotFoundError" in text
        assert "2026-01-02" in text


# -- the additions -----------------------------------------------------------------


def test_load_asset_value_outside_a_run(make_manager: Manager) -> None:
    @dg.asset(partitions_def=DAILY)
    def daily(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({"day": [context.partition_key]})

    @dg.asset
    def plain() -> dict[str, int]:
        return {"n": 1}

    manager = make_manager()
    defs = dg.Definitions(assets=[daily, plain], resources={"io_manager": manager})
    for day in ("2026-01-01", "2026-01-02"):
        _run([daily], manager, partition_key=day)
    _run([plain], manager)
    _run([plain], manager)  # a second version: the latest is loaded
    frame = defs.load_asset_value("daily", partition_key="2026-01-02")
    assert list(frame["day"]) == ["2026-01-02"]
    assert defs.load_asset_value("plain") == {"n": 1}
    with defs.get_asset_value_loader() as loader:
        assert list(loader.load_asset_value("daily", partition_key="2026-01-01")["day"]) == [
            "2026-01-01"
        ]
        assert loader.load_asset_value("plain", python_type=dict) == {"n": 1}
    with pytest.raises(FileNotFoundError, match="2026-01-03"):
        defs.load_asset_value("daily", partition_key="2026-01-03")


def test_unpartitioned_to_partitioned(make_manager: Manager) -> None:
    manager = make_manager()

    @dg.asset(name="my_asset")
    def before() -> int:
        return 1

    @dg.asset(name="my_asset", partitions_def=DAILY)
    def after(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    @dg.asset(partitions_def=DAILY)
    def reader(my_asset: str) -> str:
        return my_asset

    _run([before], manager)
    result = _run([after, reader], manager, partition_key="2026-01-02")
    assert result.output_for_node("reader") == "2026-01-02"
    catalog = manager.hold().catalog
    old = DatasetID(project=catalog.project, domain=catalog.domain, name="my_asset")
    new = DatasetID(project=catalog.project, domain=catalog.domain, name="my_asset", version="2")
    assert catalog.get_dataset(dataset=new).partition_keys == ("date",)
    history = catalog.get_latest(dataset=old)  # the unpartitioned version stays
    assert manager.hold().get(history.data["value"]) == 1


def _data_version(result: Any, node: str) -> str:
    event = result.asset_materializations_for_node(node)[0]
    return str(event.tags["dagster/data_version"])


def test_data_version_from_content(make_manager: Manager) -> None:
    value = {"rows": [1, 2, 3]}

    @dg.asset(name="versioned")
    def versioned() -> pd.DataFrame:
        return pd.DataFrame(value)

    manager = make_manager()
    first = _data_version(_run([versioned], manager), "versioned")
    again = _data_version(_run([versioned], manager), "versioned")
    assert first == again
    value["rows"] = [4, 5, 6]
    assert _data_version(_run([versioned], manager), "versioned") != first


def test_ui_link_per_partition(make_manager: Manager) -> None:
    @dg.asset(partitions_def=DAILY)
    def linked(context: dg.AssetExecutionContext) -> dict[str, int]:
        return {key: i for i, key in enumerate(context.partition_keys)}

    manager = make_manager(ui_url="http://127.0.0.1:8080/")
    result = _run(
        [linked],
        manager,
        tags={
            "dagster/asset_partition_range_start": "2026-01-01",
            "dagster/asset_partition_range_end": "2026-01-02",
        },
    )
    events = result.asset_materializations_for_node("linked")
    assert len(events) == 2
    for event in events:
        artifact_id = event.metadata["cargohold/artifact_id"].value
        url = event.metadata["cargohold/url"]
        assert url == dg.MetadataValue.url(f"http://127.0.0.1:8080/artifacts/{artifact_id}")
    plain = _run([linked], make_manager(), partition_key="2026-01-03")
    assert "cargohold/url" not in plain.asset_materializations_for_node("linked")[0].metadata

"""The IO manager's ``retention_keep_last`` config: stored as the dataset's retention policy,
so ``cargohold gc`` keeps only the newest version of each partition."""

from datetime import timedelta
from pathlib import Path

import dagster as dg
import pandas as pd

from cargohold import Cargohold
from cargohold.core.catalog.retention import RetentionPolicy
from cargohold.dagster_integration import CargoholdIOManager

DAYS = dg.DailyPartitionsDefinition(start_date="2026-11-01", end_date="2026-11-03")


@dg.asset(partitions_def=DAYS)
def daily(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return pd.DataFrame({"day": [context.partition_key] * 20_000, "run": [context.run_id] * 20_000})


def test_keep_last_config_expires_older_versions_on_gc(tmp_path: Path) -> None:
    store_url, catalog_url = f"file://{tmp_path}/store", f"sqlite:///{tmp_path}/catalog.db"
    manager = CargoholdIOManager(
        store_url=store_url, catalog_url=catalog_url, retention_keep_last=1
    )
    instance = dg.DagsterInstance.ephemeral()
    for _ in range(2):
        for day in ("2026-11-01", "2026-11-02"):
            assert dg.materialize(
                [daily], partition_key=day, resources={"io_manager": manager}, instance=instance
            ).success
    hold = Cargohold(store_url=store_url, catalog_url=catalog_url)
    catalog = hold.catalog
    assert catalog.get_retention(dataset="daily") == RetentionPolicy(keep_last=1)
    assert len(catalog.list_artifacts(dataset="daily").items) == 4
    expired = catalog.apply_retention(dry_run=False)
    assert len(expired.artifact_ids) == 2
    report = catalog.collect_garbage(store=hold.store, grace=timedelta(0), dry_run=False)
    assert report.count == 2
    left = catalog.list_artifacts(dataset="daily").items
    assert sorted(a.version for a in left) == [2, 2]
    for artifact in left:
        assert len(hold.get(artifact.data["value"])) == 20_000
    catalog.close()

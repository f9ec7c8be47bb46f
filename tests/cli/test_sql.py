"""``cargohold sql``: DuckDB over the catalog's datasets (each a view of its latest partitions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cargohold.core.hold import Cargohold
from tests.cli.conftest import Demo, run_subprocess


@pytest.fixture
def sales(demo: Demo) -> Cargohold:
    """daily_sales: three days, the middle one rewritten (version 2 is the one to read)."""
    hold = demo.hold
    catalog = hold.catalog
    catalog.create_dataset(dataset="daily_sales", partition_keys=["date"])
    for day, amounts in (
        ("2026-10-31", [1.0, 2.0]),
        ("2026-11-01", [10.0, 20.0, 30.0]),
        ("2026-11-02", [100.0]),
    ):
        frame = pd.DataFrame({"store": [f"s{i}" for i in range(len(amounts))], "amount": amounts})
        catalog.create_artifact(
            dataset="daily_sales", partitions={"date": day}, data={"value": hold.put(frame)}
        )
    catalog.create_artifact(
        dataset="daily_sales",
        partitions={"date": "2026-11-01"},
        data={"value": hold.put(pd.DataFrame({"store": ["s9"], "amount": [5.0]}))},
    )
    catalog.close()
    return hold


def test_sql_json_reads_the_latest_partitions(run: Any, sales: Cargohold) -> None:
    result = run(
        "sql",
        "SELECT date, sum(amount) AS total, count(*) AS n FROM daily_sales "
        "WHERE date >= '2026-11-01' GROUP BY date ORDER BY date",
        "--json",
    )
    assert result.code == 0, result.stderr
    assert result.json() == {
        "columns": ["date", "total", "n"],
        "rows": [
            {"date": "2026-11-01", "total": 5.0, "n": 1},
            {"date": "2026-11-02", "total": 100.0, "n": 1},
        ],
    }


def test_sql_table_for_people_and_row_cap(run: Any, sales: Cargohold) -> None:
    result = run("sql", "SELECT store, amount FROM daily_sales ORDER BY amount", "--max-rows", "2")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["store", "amount"]
    assert lines[2].split() == ["s0", "1.0"]
    assert lines[3].split() == ["s1", "2.0"]
    assert len(lines) == 4
    assert "2 more rows" in result.stderr


def test_sql_joins_two_datasets_and_ctes(run: Any, sales: Cargohold) -> None:
    result = run(
        "sql",
        "WITH d AS (SELECT DISTINCT date FROM daily_sales) "
        "SELECT count(*) AS n FROM d JOIN daily_sales USING (date)",
        "--json",
    )
    assert result.code == 0, result.stderr
    assert result.json()["rows"] == [{"n": 4}]


def test_sql_errors_are_clear(run: Any, sales: Cargohold) -> None:
    unknown = run("sql", "SELECT * FROM no_such_dataset")
    assert unknown.code == 1
    assert "no_such_dataset" in unknown.stderr
    assert "cargohold datasets ls" in unknown.stderr
    bad = run("sql", "SELEC 1")
    assert bad.code == 1
    assert "cannot parse the SQL query" in bad.stderr
    not_table = run("sql", "SELECT * FROM daily_report")
    assert not_table.code == 1
    assert "only tables can be scanned" in not_table.stderr


def test_sql_cannot_reach_files(run: Any, sales: Cargohold, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    result = run("sql", f"SELECT * FROM read_csv('{secret}')")
    assert result.code == 1
    assert "file system operations are disabled" in result.stderr
    written = run("sql", f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'")
    assert written.code == 1
    assert not (tmp_path / "out.csv").exists()


def test_sql_console_script(demo: Demo, sales: Cargohold, tmp_path: Path) -> None:
    result = run_subprocess(
        "sql", "SELECT count(*) AS n FROM daily_sales", "--json", env=demo.env, cwd=tmp_path
    )
    assert result.code == 0, result.stderr
    assert '"n": 4' in result.stdout

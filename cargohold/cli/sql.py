"""``cargohold sql "SELECT ... FROM daily_sales WHERE date >= '2026-11-01'"``: SQL over the catalog.

Each table the query names that is a dataset of the configured project and domain becomes a DuckDB
view over the latest version of each of its partitions (an ``ArtifactQuery.scan`` with every
column; partition keys are string columns). DuckDB pushes the query's column selection and
filters into the scan, so only the needed columns of the row groups whose statistics can match
are read, every byte verified. The query sees nothing else: DuckDB's access to files and the
network is switched off (and locked) before it runs.

Output: an aligned table for people (at most ``--max-rows`` rows, the rest counted on stderr), or
with ``--json`` one JSON document ``{"columns": [...], "rows": [{...}, ...]}`` with every row.
Needs the ``sql`` extra: ``pip install 'cargohold[sql]'``.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from cargohold.core.errors import ConfigurationError, InvalidArgumentError, NotFoundError

if TYPE_CHECKING:
    from cargohold.cli.app import App

__all__ = ["register", "run_sql"]


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``sql`` command to the ``cargohold`` parser."""
    sql = commands.add_parser(
        "sql",
        help="query datasets with SQL (DuckDB; each dataset a view of its latest partitions)",
        parents=[common],
    )
    sql.add_argument("query", help='the SQL query, e.g. "SELECT count(*) FROM daily_sales"')
    sql.add_argument(
        "--max-rows", type=int, default=100, help="rows printed as a table (default 100)"
    )
    sql.set_defaults(handler=run_sql)


def run_sql(app: App) -> int:
    """Run the query and print its result.

    Raises:
        ConfigurationError: duckdb is not installed.
        InvalidArgumentError: the query is not valid SQL, names an unknown table or column, or
            touches files (file access is switched off).
        NotFoundError: a named dataset's partitions cannot be found.
    """
    try:
        import duckdb
    except ImportError as exc:
        raise ConfigurationError(
            "`cargohold sql` needs DuckDB: pip install 'cargohold[sql]'"
        ) from exc
    query = str(app.option("query"))
    names = sorted(set(_WORD.findall(query)))
    con = duckdb.connect()
    try:
        for name in names:
            _register_dataset(app, con, name)
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        try:
            result = con.execute(query)
            columns = [column[0] for column in result.description or []]
            rows = result.fetchall()
        except duckdb.Error as exc:
            raise InvalidArgumentError(_explain(exc, names)) from exc
    finally:
        con.close()
    _print(app, columns, rows)
    return 0


# Every word of the query that could name a table; those that are datasets become views.
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-.]*")


def _register_dataset(app: App, con: Any, name: str) -> None:
    """A view named ``name`` over the dataset of that name, when there is one."""
    from cargohold.core.catalog.scan import ScannedTable, plan_scan

    catalog = app.catalog
    try:
        found = catalog.get_dataset(dataset=name)
    except (NotFoundError, InvalidArgumentError):
        return  # not a dataset: a CTE, a table function, a typo DuckDB will name
    parts = plan_scan(catalog, dataset=found.id)
    table = ScannedTable(parts=parts, store=app.hold.store, partition_keys=found.partition_keys)
    con.register(name, table.dataset())


def _explain(exc: Exception, names: list[str]) -> str:
    message = " ".join(str(exc).split())
    if "Parser Error" in message:
        return f"cannot parse the SQL query: {message}"
    if "does not exist" in message and "Table" in message:
        return (
            f"{message}. Tables are datasets of the configured project and domain "
            f"(see `cargohold datasets ls`)"
        )
    return f"the query failed: {message}"


def _print(app: App, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    out = app.out
    if out.as_json:
        out.json({"columns": columns, "rows": [dict(zip(columns, r, strict=True)) for r in rows]})
        return
    limit = max(0, int(str(app.option("max_rows", 100))))
    out.table(columns, [list(row) for row in rows[:limit]])
    if len(rows) > limit:
        out.note(f"({len(rows) - limit} more rows; raise --max-rows or use --json)")

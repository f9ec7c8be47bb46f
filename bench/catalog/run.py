"""Benchmark of the cargohold catalog on PostgreSQL, against Flyte datacatalog-style queries.

Seeds ``1,000,000 x scale`` artifacts over ``1,000 x scale`` datasets (1,000 artifacts each) and
365 daily partitions with COPY, then measures medians of:

* ``get_latest`` for a dataset and partition               (target <= 2 ms)
* a filtered page of 100 (date range, newest first)         (target <= 10 ms)
* ``create_artifact`` from one process                      (target >= 1,000 / s)
* reservation acquire / extend                              (target <= 3 ms)

prints the EXPLAIN of the main statement of each (showing the index used), and runs the same
lookups the way Flyte's datacatalog does them on the same data (offset pagination, one join per
partition filter, ordering by created_at, preloading data, partitions and tags) and prints the
ratios. Flyte additionally reads every listed artifact's data from blob storage; that cost is
not included, which favours Flyte.

Usage::

    .venv/bin/python bench/catalog/run.py                 # full size (a few minutes)
    .venv/bin/python bench/catalog/run.py --scale 0.01    # smoke run
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psycopg
from sqlalchemy import event

from cargohold.core.catalog import Catalog, DatasetID, Range, upgrade_schema
from cargohold.core.catalog.pagination import encode_token, fingerprint
from cargohold.core.catalog.validation import partition_key_string
from cargohold.core.types.literals import BlobRef, Literal, LiteralType

PER_DATASET = 1000
DAYS = 365
FIRST_DAY = date(2025, 11, 23)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size")
    parser.add_argument(
        "--server",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL (without database); a bench database is created and dropped",
    )
    parser.add_argument("--repeat", type=int, default=300, help="samples per lookup")
    parser.add_argument("--creates", type=int, default=3000, help="artifacts created to time")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    return parser.parse_args()


# -- seeding ------------------------------------------------------------------------------------


def _copy(cur: psycopg.Cursor[Any], table: str, columns: str, lines: list[str]) -> None:
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for index, line in enumerate(lines):
            buffer.write(line)
            if index % 50_000 == 49_999:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def seed(dsn: str, *, datasets: int) -> list[tuple[str, str]]:
    """COPY the synthetic catalog; returns (dataset uuid, dataset name) pairs."""
    rng = random.Random(7)
    names = [
        (str(uuid.UUID(int=rng.getrandbits(128))), f"dataset_{d:04d}") for d in range(datasets)
    ]
    days = [(FIRST_DAY + timedelta(days=j)).isoformat() for j in range(DAYS)]
    ds_lines = [
        f'{u}\tbench\tproduction\t{n}\t1\t["date"]\t{{}}\t{T0.isoformat()}\n' for u, n in names
    ]
    art, data, parts, refs, tags = [], [], [], [], []
    counters: dict[tuple[int, int], int] = {}
    k = 0
    for i in range(PER_DATASET):
        for d, (ds_uuid, _) in enumerate(names):
            j = (i * 7 + d) % DAYS
            version = counters.get((d, j), 0) + 1
            counters[(d, j)] = version
            art_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            created = (T0 + timedelta(milliseconds=10 * k)).isoformat()
            key = partition_key_string({"date": days[j]})
            run = f"run_{i}"
            art.append(
                f'{art_id}\t{ds_uuid}\t{key}\t{{"date": "{days[j]}"}}\t{version}\t{{}}\t'
                f"airflow\tcargohold\tjob_{d % 50}\t{run}\ttask\t-1\t1\t{created}\t{created}\n"
            )
            if k % 10 == 0:
                h = f"{k:064x}"
                literal = Literal(
                    type=LiteralType(kind="dataframe", name="pandas.DataFrame"),
                    blob=BlobRef(
                        uri=f"s3://bench/cas/{h[:2]}/{h}",
                        size=1000 + k,
                        hash=h,
                        format="parquet",
                        python_type="pandas.DataFrame",
                    ),
                )
                refs.append(f"artifact\t{art_id}\t{h}\t{literal.blob.uri}\t{1000 + k}\t{created}\n")  # type: ignore[union-attr]
            else:
                literal = Literal(type=LiteralType(kind="int"), value=k)
            data.append(f"{art_id}\to0\t{literal.to_json()}\n")
            parts.append(f"{art_id}\tdate\t{ds_uuid}\t{days[j]}\t{created}\n")
            if i == PER_DATASET - 1:
                tags.append(f"{ds_uuid}\tlatest\t{art_id}\t{created}\n")
            k += 1
    counter_lines = [
        f"{names[d][0]}\t{partition_key_string({'date': days[j]})}\t{v}\n"
        for (d, j), v in counters.items()
    ]
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        _copy(
            cur,
            "catalog_datasets",
            "id, project, domain, name, version, partition_keys, metadata_json, created_at",
            ds_lines,
        )
        _copy(
            cur,
            "catalog_version_counters",
            "dataset_id, partition_key, last_version",
            counter_lines,
        )
        _copy(
            cur,
            "catalog_artifacts",
            "id, dataset_id, partition_key, partitions_json, version, "
            "metadata_json, source_orchestrator, source_namespace, source_job, source_run_id, "
            "source_task, source_map_index, source_try_number, created_at, updated_at",
            art,
        )
        _copy(cur, "catalog_artifact_data", "artifact_id, name, literal_json", data)
        _copy(
            cur,
            "catalog_artifact_partitions",
            "artifact_id, key, dataset_id, value, created_at",
            parts,
        )
        _copy(
            cur,
            "cargohold_blob_refs",
            "owner_kind, owner_id, blob_hash, uri, size, created_at",
            refs,
        )
        _copy(cur, "catalog_tags", "dataset_id, name, artifact_id, created_at", tags)
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return names


# -- measuring ----------------------------------------------------------------------------------


def median_ms(fn: Callable[[int], Any], repeat: int) -> float:
    for i in range(min(20, repeat)):  # warm up
        fn(i)
    samples = []
    for i in range(repeat):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


class Capture:
    """Collects the SQL statements the catalog sends, to EXPLAIN the first one."""

    def __init__(self, catalog: Catalog) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.on = False
        engine = catalog.database.engine

        @event.listens_for(engine, "before_cursor_execute")
        def _capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
            if self.on:
                self.statements.append((statement, params))

    def run(self, fn: Callable[[], Any]) -> list[tuple[str, Any]]:
        self.statements, self.on = [], True
        try:
            fn()
        finally:
            self.on = False
        return self.statements


def explain(dsn: str, statement: str, params: Any, *, analyze: bool = True) -> list[str]:
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        prefix = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " if analyze else "EXPLAIN "
        cur.execute(prefix + statement, params)
        lines = [row[0] for row in cur.fetchall()]
        conn.rollback()
    return lines


def print_plan(title: str, lines: list[str]) -> None:
    print(f"\n-- EXPLAIN {title}")
    for line in lines[:14]:
        print("   " + line)


FLYTE_LATEST = (
    "SELECT a.* FROM catalog_artifacts a JOIN catalog_datasets d ON d.id = a.dataset_id "
    "JOIN catalog_artifact_partitions p1 ON p1.artifact_id = a.id "
    "AND p1.key = %s AND p1.value = %s "
    "WHERE d.project = %s AND d.domain = %s AND d.name = %s AND d.version = %s "
    "ORDER BY a.created_at DESC LIMIT 1 OFFSET 0"
)


class Flyte:
    """Flyte datacatalog's query shapes, run through the same engine, pool and transaction
    helper as the catalog (so client overhead is equal; Flyte's rows are not even decoded)."""

    def __init__(self, catalog: Catalog) -> None:
        self.database = catalog.database

    def _run(self, sql: str, params: tuple[Any, ...]) -> Any:
        def go(conn: Any) -> Any:
            rows = conn.exec_driver_sql(sql, params).all()
            ids = [row[0] for row in rows]
            # gorm Preload: data, partitions and tags of the listed artifacts, one query each
            for table in ("catalog_artifact_data", "catalog_artifact_partitions", "catalog_tags"):
                conn.exec_driver_sql(
                    f"SELECT * FROM {table} WHERE artifact_id = ANY(%s)", (ids,)
                ).all()
            return rows

        return self.database.read(go)

    def latest(self, name: str, day: str) -> Any:
        """Filter by the dataset's columns, one join per partition filter, newest created_at."""
        return self._run(FLYTE_LATEST, ("date", day, "bench", "production", name, "1"))

    def page(self, name: str, since: str, offset: int) -> Any:
        """A page of 100 by created_at with OFFSET, the partition filter as a join."""
        return self._run(FLYTE_PAGE, ("date", since, "bench", "production", name, "1", offset))

    def global_page(self, offset: int) -> Any:
        """A page of 100 over every artifact, newest first, by OFFSET."""
        return self._run(FLYTE_GLOBAL_PAGE, (offset,))


FLYTE_PAGE = (
    "SELECT a.* FROM catalog_artifacts a JOIN catalog_datasets d ON d.id = a.dataset_id "
    "JOIN catalog_artifact_partitions p1 ON p1.artifact_id = a.id "
    "AND p1.key = %s AND p1.value >= %s "
    "WHERE d.project = %s AND d.domain = %s AND d.name = %s AND d.version = %s "
    "ORDER BY a.created_at DESC LIMIT 100 OFFSET %s"
)
FLYTE_GLOBAL_PAGE = (
    "SELECT a.* FROM catalog_artifacts a ORDER BY a.created_at DESC LIMIT 100 OFFSET %s"
)


def replay(catalog: Catalog, statements: list[tuple[str, Any]]) -> None:
    """Run captured statements in one read transaction (the catalog's SQL, without decoding)."""

    def go(conn: Any) -> None:
        for statement, params in statements:
            conn.exec_driver_sql(statement, params).all()

    catalog.database.read(go)


class Row:
    """One line of the result table."""

    def __init__(
        self,
        name: str,
        api: float,
        ours_sql: float | None = None,
        flyte_sql: float | None = None,
        target: str = "",
        note: str = "",
    ) -> None:
        self.name, self.api, self.ours_sql, self.flyte_sql = name, api, ours_sql, flyte_sql
        self.target, self.note = target, note

    def line(self) -> str:
        def cell(value: float | None) -> str:
            return "" if value is None else f"{value:.3f}"

        ratio = ""
        if self.ours_sql and self.flyte_sql:
            ratio = f"{self.flyte_sql / self.ours_sql:.1f}x"
        return (
            f"{self.name:42} {self.api:9.3f} {cell(self.ours_sql):>9} "
            f"{cell(self.flyte_sql):>9} {ratio:>7}  {self.target} {self.note}"
        )


def main() -> None:
    args = parse()
    datasets = max(1, round(1000 * args.scale))
    total = datasets * PER_DATASET
    bench_db = f"cargohold_bench_{uuid.uuid4().hex[:8]}"
    admin = f"{args.server}/postgres"
    url = f"{args.server}/{bench_db}"
    dsn = url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{bench_db}"')
    rows: list[Row] = []
    try:
        upgrade_schema(url)
        start = time.perf_counter()
        names = seed(dsn, datasets=datasets)
        seeded_in = time.perf_counter() - start
        print(
            f"seeded {total:,} artifacts over {datasets:,} datasets x {DAYS} days "
            f"with COPY in {seeded_in:.1f} s (incl. VACUUM ANALYZE)"
        )
        catalog = Catalog(url=url, project="bench", domain="production")
        capture = Capture(catalog)
        flyte = Flyte(catalog)
        rng = random.Random(11)
        n = args.repeat
        picks = [
            (rng.choice(names)[1], (FIRST_DAY + timedelta(days=rng.randrange(DAYS))).isoformat())
            for _ in range(n + 20)
        ]
        ids = {
            name: DatasetID(project="bench", domain="production", name=name) for _, name in names
        }
        for dataset_id in ids.values():  # a long-lived worker has these cached
            catalog.get_dataset(dataset=dataset_id)

        def timed(
            name: str,
            api: Callable[[int], Any],
            flyte_call: Callable[[int], Any] | None,
            target: str,
            plan_title: str,
            samples: int = n,
        ) -> None:
            api_ms = median_ms(api, samples)
            captured = [capture.run(lambda i=i: api(i)) for i in range(samples + 20)]
            ours_sql = median_ms(lambda i: replay(catalog, captured[i]), samples)
            flyte_ms = None if flyte_call is None else median_ms(flyte_call, samples)
            rows.append(Row(name, api_ms, ours_sql, flyte_ms, target))
            print_plan(plan_title, explain(dsn, *captured[0][0]))

        # get_latest for a dataset and one day
        timed(
            "get_latest(dataset, date)",
            lambda i: catalog.get_latest(
                dataset=ids[picks[i][0]], partitions={"date": picks[i][1]}
            ),
            lambda i: flyte.latest(*picks[i]),
            "<= 2 ms",
            "get_latest: the lookup",
        )
        print_plan(
            "Flyte-style latest",
            explain(
                dsn, FLYTE_LATEST, ("date", picks[0][1], "bench", "production", picks[0][0], "1")
            ),
        )

        # a filtered page of 100: the last 120 days, newest first
        since = (FIRST_DAY + timedelta(days=DAYS - 120)).isoformat()

        def page(i: int, token: str | None = None) -> Any:
            return catalog.list_artifacts(
                dataset=ids[picks[i][0]],
                partitions={"date": Range(ge=since)},
                limit=100,
                page_token=token,
            )

        timed(
            "filtered page of 100 (date >= X)",
            page,
            lambda i: flyte.page(picks[i][0], since, 0),
            "<= 10 ms",
            "filtered page of 100: the page query",
        )
        tokens = [page(i).next_token for i in range(n + 20)]
        tokens = [page(i, tokens[i]).next_token for i in range(n + 20)]
        timed(
            "  same, 3rd page (keyset vs OFFSET 200)",
            lambda i: page(i, tokens[i]),
            lambda i: flyte.page(picks[i][0], since, 200),
            "",
            "3rd filtered page (keyset)",
        )
        print_plan(
            "Flyte-style filtered page, OFFSET 200",
            explain(dsn, FLYTE_PAGE, ("date", since, "bench", "production", picks[0][0], "1", 200)),
        )

        # deep pages over the whole catalog, newest first
        for depth in sorted({min(total // 2, 10_000), min(total // 2, 100_000)}):
            with psycopg.connect(dsn) as conn:
                created, last_id = conn.execute(
                    "SELECT created_at, id FROM catalog_artifacts ORDER BY created_at DESC, "
                    "id DESC OFFSET %s LIMIT 1",
                    (depth - 1,),
                ).fetchone()  # type: ignore[misc]
            query = fingerprint(
                ["artifacts", None, [], None, [], None, None, None, None, None, "created_at", True]
            )
            token = encode_token(query=query, last=[created.isoformat(), last_id])
            timed(
                f"page of 100 at depth {depth:,}, all datasets",
                lambda i, token=token: catalog.list_artifacts(limit=100, page_token=token),
                lambda i, depth=depth: flyte.global_page(depth),
                "",
                f"global page at depth {depth:,} (keyset)",
                samples=max(20, n // 5),
            )
            print_plan(
                f"Flyte-style global page OFFSET {depth:,}",
                explain(dsn, FLYTE_GLOBAL_PAGE, (depth,)),
            )

        # create_artifact from one process
        value = Literal(type=LiteralType(kind="int"), value=1)
        target = ids[names[0][1]]

        def creates(cat: Catalog) -> float:
            for _ in range(50):
                cat.create_artifact(
                    dataset=target, data={"o0": value}, partitions={"date": FIRST_DAY.isoformat()}
                )
            begin = time.perf_counter()
            for i in range(args.creates):
                cat.create_artifact(
                    dataset=target,
                    data={"o0": value},
                    partitions={"date": (FIRST_DAY + timedelta(days=i % DAYS)).isoformat()},
                )
            return args.creates / (time.perf_counter() - begin)

        rate = creates(catalog)
        rows.append(
            Row("create_artifact", 1000 / rate, target=">= 1,000/s", note=f"= {rate:,.0f}/s")
        )
        statements = capture.run(
            lambda: catalog.create_artifact(
                dataset=target, data={"o0": value}, partitions={"date": FIRST_DAY.isoformat()}
            )
        )
        print_plan(
            "create_artifact: one statement (CTEs)", explain(dsn, *statements[0], analyze=False)
        )
        relaxed = Catalog(
            url=url,
            project="bench",
            domain="production",
            engine_options={"connect_args": {"options": "-c synchronous_commit=off"}},
        )
        relaxed_rate = creates(relaxed)
        relaxed.close()
        rows.append(
            Row(
                "  same, synchronous_commit=off (opt-in)",
                1000 / relaxed_rate,
                note=f"= {relaxed_rate:,.0f}/s",
            )
        )

        # reservations
        def acquire(i: int) -> Any:
            return catalog.get_or_extend_reservation(
                dataset=target,
                tag_name=f"key-{time.perf_counter_ns()}",
                owner_id="bench",
                heartbeat_interval=30,
            )

        def extend(i: int) -> Any:
            return catalog.get_or_extend_reservation(
                dataset=target, tag_name="held", owner_id="bench", heartbeat_interval=30
            )

        rows.append(Row("reservation acquire", median_ms(acquire, n), target="<= 3 ms"))
        rows.append(Row("reservation extend", median_ms(extend, n), target="<= 3 ms"))
        print_plan(
            "reservation: one upsert",
            explain(dsn, *capture.run(lambda: extend(0))[0], analyze=False),
        )
        catalog.close()

        load = " ".join(f"{x:.2f}" for x in __import__("os").getloadavg())
        print(
            f"\n{total:,} artifacts, {datasets:,} datasets, {DAYS} days; medians of {n} calls;"
            f" load average {load}"
        )
        print(f"{'lookup':42} {'API ms':>9} {'SQL ms':>9} {'Flyte ms':>9} {'ratio':>7}  target")
        for row in rows:
            print(row.line())
        print(
            "API ms: the public Catalog call, decoding rows into Artifact objects. SQL ms: the "
            "same statements replayed through the same engine and transaction helper, rows "
            "fetched, not decoded. Flyte ms: Flyte datacatalog's query shapes (OFFSET "
            "pagination, one join per partition filter, ORDER BY created_at, gorm preloads of "
            "data, partitions and tags) through the same helper on the same data and indexes, "
            "without Flyte's per-artifact blob read. ratio = Flyte ms / SQL ms."
        )
        print(json.dumps({"artifacts": total, "seed_seconds": round(seeded_in, 1)}))
    finally:
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')


if __name__ == "__main__":
    main()

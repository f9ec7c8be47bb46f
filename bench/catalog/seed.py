"""Seed a PostgreSQL catalog with a synthetic but production-shaped history, by COPY.

The schema is the catalog's own (``upgrade_schema`` runs the Alembic migrations). For the bulk
load the seeder does what ``pg_restore`` does: it records every constraint and index definition
of the catalog tables (``pg_get_constraintdef`` / ``pg_indexes``), drops them, COPYs each table
in its own connection (``TRUNCATE`` + ``COPY ... (FREEZE)`` in one transaction, so the rows are
written frozen and all-visible and need no VACUUM), then re-creates the recorded definitions
verbatim and ANALYZEs. The end state is checked against the recorded definitions.

The history (``artifacts`` in total, over ``artifacts / 500`` datasets):

* dataset sizes are log-normal (a few datasets of tens of thousands of artifacts, most of a few
  hundred, many of a few dozen), capped at 0.5 % of the total;
* partitioning: datasets over 5,000 artifacts are hourly (``hour``), the rest daily (``date``,
  55 %), daily by region (``date`` + ``region``, 25 %) or unpartitioned (20 %, XCom- and
  cache-like, every artifact a new version of one partition);
* every dataset materialises its newest partition as time passes (one year, interleaved across
  datasets in time so the heap is not clustered by dataset), re-materialises 20 % of the time
  (a retry, version 2, 3, ...) and backfills an older partition 5 % of the time;
* lineage as the schema has it: each artifact's source (Airflow or Dagster, job, run id, task,
  map index, try number) and ``catalog_reads`` rows of the datasets downstream of it (0 to 2
  consumers per dataset, each reading most partitions in the producer's run);
* 85 % of artifacts have one output, 15 % two; 30 % of outputs are blobs (a blob reference each);
  10 % of artifacts carry two metadata keys; a ``latest`` tag per dataset and release tags on
  1 % of artifacts; the version counters agree with the artifacts.
"""

from __future__ import annotations

import json
import math
import random
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from cargohold.core.catalog.validation import partition_key_string

T0 = datetime(2025, 12, 1, tzinfo=UTC)
WINDOW = timedelta(days=365)
REGIONS = ("eu-west", "us-east", "us-west", "ap-south", "sa-east", "af-south", "me-central")
SLICES = 365  # the interleaving granularity (a day)

# table -> COPY columns, in the order the generator writes them
TABLES: dict[str, str] = {
    "catalog_datasets": "id, project, domain, name, version, partition_keys, metadata_json, "
    "created_at",
    "catalog_dataset_metadata": "dataset_id, key, value",
    "catalog_version_counters": "dataset_id, partition_key, last_version",
    "catalog_artifacts": "id, dataset_id, partition_key, partitions_json, version, "
    "metadata_json, source_orchestrator, source_namespace, source_job, source_run_id, "
    "source_task, source_map_index, source_try_number, created_at, updated_at",
    "catalog_artifact_data": "artifact_id, name, literal_json",
    "catalog_artifact_partitions": "artifact_id, key, dataset_id, value, created_at",
    "catalog_artifact_metadata": "artifact_id, key, value",
    "catalog_tags": "dataset_id, name, artifact_id, created_at",
    "catalog_reads": "id, artifact_id, orchestrator, namespace, job, run_id, task, map_index, "
    "try_number, read_at",
    "cargohold_blob_refs": "owner_kind, owner_id, blob_hash, uri, size, created_at",
}


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


@dataclass
class DatasetPlan:
    """One dataset of the synthetic history and its producer's running state."""

    index: int
    uuid: str
    project: str
    domain: str
    name: str
    keys: tuple[str, ...]
    size: int
    orchestrator: str
    job: str
    task: str
    consumers: list[int]
    start: float  # seconds after T0
    step: float  # seconds between its materialisations
    emitted: int = 0
    versions: dict[Any, int] = field(default_factory=dict)
    last: Any = None
    last_key: str = ""
    last_id: str = ""

    def next_time(self) -> float:
        return self.start + self.step * self.emitted


def plan(total: int, *, seed: int = 7) -> list[DatasetPlan]:
    """The datasets: sizes summing to ``total``, kinds, producers and consumers."""
    rng = random.Random(seed)
    count = max(4, total // 500)
    raw = [rng.lognormvariate(0.0, 1.4) for _ in range(count)]
    cap = max(50.0, total * 0.005)
    scale = total / sum(raw)
    for _ in range(5):  # clip at the cap, rescale the rest
        sizes = [min(cap, r * scale) for r in raw]
        scale *= total / sum(sizes)
    ints = [max(1, int(s)) for s in sizes]
    ints[ints.index(max(ints))] += total - sum(ints)
    plans = []
    for d, size in enumerate(ints):
        if size > 5000:
            keys: tuple[str, ...] = ("hour",)
        else:
            pick = rng.random()
            keys = ("date",) if pick < 0.55 else ("date", "region") if pick < 0.8 else ()
        orchestrator = "airflow" if rng.random() < 0.6 else "dagster"
        job = f"{'dag' if orchestrator == 'airflow' else 'job'}_{d // 4:05d}"
        start = rng.random() * 0.1 * WINDOW.total_seconds()
        end = WINDOW.total_seconds() * (1.0 if rng.random() < 0.9 else 0.3 + 0.7 * rng.random())
        plans.append(
            DatasetPlan(
                index=d,
                uuid=_uuid(rng),
                project=f"team_{d % 16:02d}",
                domain="production" if rng.random() < 0.8 else "staging",
                name=f"dataset_{d:06d}",
                keys=keys,
                size=size,
                orchestrator=orchestrator,
                job=job,
                task=f"produce_{d:06d}",
                consumers=[],
                start=start,
                step=max(1.0, (end - start) / size),
            )
        )
    for p in plans:  # 0-2 consumers, mostly in the same DAG / job (the next datasets)
        n = rng.choice((0, 1, 1, 2))
        p.consumers = [(p.index + 1 + rng.randrange(8)) % count for _ in range(n)]
    return plans


class Writer:
    """Buffers COPY text per table and flushes it to that table's COPY stream."""

    def __init__(self, copies: dict[str, Any]) -> None:
        self.copies = copies
        self.buffers: dict[str, list[str]] = {t: [] for t in copies}
        self.counts: dict[str, int] = dict.fromkeys(copies, 0)

    def add(self, table: str, line: str) -> None:
        buffer = self.buffers[table]
        buffer.append(line)
        if len(buffer) >= 20_000:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.buffers):
            buffer = self.buffers[name]
            if buffer:
                self.copies[name].write("".join(buffer))
                self.counts[name] += len(buffer)
                buffer.clear()


def _partition(p: DatasetPlan, at: datetime, rng: random.Random) -> tuple[int, str, str, str]:
    """The partition the producer writes at ``at``: the newest one, a retry of the last one
    (20 %), or a backfill of an older one (5 %). Returns the slot, the canonical key (as
    ``partition_key_string`` makes it), the partitions document and the COPY lines of its
    partition rows (with ``{id}`` for the artifact id)."""
    roll = rng.random()
    if not p.keys:
        return 0, "[]", "{}", ""
    if p.last is not None and roll < 0.2:
        slot = p.last
    elif p.keys == ("hour",):
        back = rng.randrange(1, 24 * 60) if roll > 0.95 else 1
        slot = int((at - T0).total_seconds() // 3600) - back
    else:
        back = rng.randrange(1, 60) if roll > 0.95 else 1
        day = (at - T0).days - back
        slot = day * 8 + (rng.randrange(len(REGIONS)) if len(p.keys) == 2 else 0)
    key, doc, lines = _slot_texts(p, slot)
    if p.emitted == 0:  # the hand-made texts are the catalog's own
        assert key == partition_key_string(json.loads(doc)), (key, doc)
    return slot, key, doc, lines


def _slot_texts(p: DatasetPlan, slot: int) -> tuple[str, str, str]:
    if p.keys == ("hour",):
        value = (T0 + timedelta(hours=slot)).strftime("%Y-%m-%dT%H:00")
        return f'[["hour","{value}"]]', f'{{"hour": "{value}"}}', f"hour\t{p.uuid}\t{value}"
    day = _DAYS[slot // 8]
    if len(p.keys) == 2:
        region = REGIONS[slot % 8 % len(REGIONS)]
        return (
            f'[["date","{day}"],["region","{region}"]]',
            f'{{"date": "{day}", "region": "{region}"}}',
            f"date\t{p.uuid}\t{day}|region\t{p.uuid}\t{region}",
        )
    return f'[["date","{day}"]]', f'{{"date": "{day}"}}', f"date\t{p.uuid}\t{day}"


_DAYS = {d: (date(2025, 12, 1) + timedelta(days=d)).isoformat() for d in range(-400, 800)}


def _emit(p: DatasetPlan, plans: list[DatasetPlan], w: Writer, rng: random.Random, k: int) -> None:
    """Write one artifact of ``p`` with its data, partitions, metadata, tags, blob refs, reads."""
    at = T0 + timedelta(seconds=p.next_time())
    created = at.isoformat()
    slot, key, values_json, part_lines = _partition(p, at, rng)
    version = p.versions.get(slot, 0) + 1
    p.versions[slot] = version
    retry = slot == p.last and p.keys != ()
    p.last = slot
    art_id = _uuid(rng)
    day = at.date().isoformat()
    if p.orchestrator == "airflow":
        run_id = f"manual__{created}" if retry else f"scheduled__{day}T00:00:00+00:00"
        map_index = rng.randrange(4) if p.index % 10 == 0 else -1
    else:
        run_id = f"{rng.getrandbits(64):016x}-{p.index:06d}"
        map_index = -1
    try_number = 2 if rng.random() < 0.05 else 1
    has_meta = rng.random() < 0.1
    meta = {"row_count": str(1000 + k % 100_000), "schema": f"s{p.index % 97}"} if has_meta else {}
    w.add(
        "catalog_artifacts",
        f"{art_id}\t{p.uuid}\t{key}\t{values_json}\t{version}\t"
        f"{json.dumps(meta, sort_keys=True)}\t{p.orchestrator}\tcargohold\t{p.job}\t{run_id}\t"
        f"{p.task}\t{map_index}\t{try_number}\t{created}\t{created}\n",
    )
    for name, value in meta.items():
        w.add("catalog_artifact_metadata", f"{art_id}\t{name}\t{value}\n")
    if part_lines:
        for line in part_lines.split("|"):
            w.add("catalog_artifact_partitions", f"{art_id}\t{line}\t{created}\n")
    for output in ("o0", "o1") if rng.random() < 0.15 else ("o0",):
        if rng.random() < 0.3:
            h = f"{rng.getrandbits(256):064x}"
            size = 10_000 + rng.getrandbits(24)
            uri = f"s3://warehouse/cas/{h[:2]}/{h}"
            literal = (
                '{"cargohold":1,"type":{"kind":"dataframe","name":"pandas.DataFrame"},'
                f'"blob":{{"uri":"{uri}","size":{size},"hash":"{h}","format":"parquet",'
                '"python_type":"pandas.DataFrame"}}'
            )
            w.add("cargohold_blob_refs", f"artifact\t{art_id}\t{h}\t{uri}\t{size}\t{created}\n")
        else:
            literal = f'{{"cargohold":1,"type":{{"kind":"int"}},"value":{k}}}'
        w.add("catalog_artifact_data", f"{art_id}\t{output}\t{literal}\n")
    if rng.random() < 0.01:
        w.add("catalog_tags", f"{p.uuid}\trelease-{p.emitted:06d}\t{art_id}\t{created}\n")
    for consumer in p.consumers:
        if rng.random() < 0.85:
            c = plans[consumer]
            read_at = (at + timedelta(seconds=60 + rng.randrange(3600))).isoformat()
            w.counts.setdefault("_reads", 0)
            w.counts["_reads"] += 1
            w.add(
                "catalog_reads",
                f"{w.counts['_reads']}\t{art_id}\t{c.orchestrator}\tcargohold\t{c.job}\t"
                f"{run_id}\t{c.task}\t-1\t1\t{read_at}\n",
            )
    p.last_key, p.last_id = key, art_id
    p.emitted += 1


def _generate(plans: list[DatasetPlan], w: Writer, *, seed: int, progress: bool) -> int:
    rng = random.Random(seed + 1)
    for p in plans:
        keys = json.dumps(list(p.keys))
        w.add(
            "catalog_datasets",
            f"{p.uuid}\t{p.project}\t{p.domain}\t{p.name}\t1\t{keys}\t{{}}\t{T0.isoformat()}\n",
        )
        w.add("catalog_dataset_metadata", f"{p.uuid}\towner\tteam_{p.index % 16:02d}\n")
    slice_seconds = WINDOW.total_seconds() / SLICES
    k = 0
    began = time.perf_counter()
    for s in range(1, SLICES + 2):
        end = s * slice_seconds
        for p in plans:
            while p.emitted < p.size and p.next_time() < end:
                _emit(p, plans, w, rng, k)
                k += 1
        if progress and s % 73 == 0:
            rate = k / (time.perf_counter() - began)
            print(f"  generated {k:,} artifacts ({rate:,.0f}/s)", flush=True)
    for p in plans:
        while p.emitted < p.size:  # a dataset whose last steps round past the window
            _emit(p, plans, w, rng, k)
            k += 1
        if p.emitted:
            last_at = (T0 + timedelta(seconds=p.next_time())).isoformat()
            w.add("catalog_tags", f"{p.uuid}\tlatest\t{p.last_id}\t{last_at}\n")
        for slot, version in p.versions.items():
            key = _slot_texts(p, slot)[0] if p.keys else "[]"
            w.add("catalog_version_counters", f"{p.uuid}\t{key}\t{version}\n")
        p.versions.clear()
    w.flush()
    return k


def _definitions(conn: psycopg.Connection[Any]) -> tuple[list[tuple[str, str, str, str]], list]:
    """The constraints (table, name, type, definition) and the indexes not backing a
    constraint (table, name, definition) of every catalog table (the seeded ones and those
    whose foreign keys point at them)."""
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"
        )
    ]
    constraints = conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(%s) AND c.contype IN "
        "('p', 'u', 'f') ORDER BY 1, 2",
        (tables,),
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
        "'public' AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conname = i.indexname) ORDER BY 1, 2",
        (tables,),
    ).fetchall()
    return constraints, indexes


def seed(dsn: str, *, artifacts: int, seed: int = 7, progress: bool = True) -> dict[str, Any]:
    """Fill the (migrated, empty) catalog at ``dsn``; returns row counts and timings."""
    plans = plan(artifacts, seed=seed)
    timings: dict[str, float] = {}
    with psycopg.connect(dsn, connect_timeout=10, autocommit=True) as admin:
        constraints, indexes = _definitions(admin)
        began = time.perf_counter()
        for table, name, kind, _ in constraints:
            if kind == "f":
                admin.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for _, name, _ in indexes:
            admin.execute(f'DROP INDEX "{name}"')
        for table, name, kind, _ in constraints:
            if kind != "f":
                admin.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        with ExitStack() as stack:
            copies = {}
            for table, columns in TABLES.items():
                conn = stack.enter_context(psycopg.connect(dsn, connect_timeout=10))
                conn.execute(f"TRUNCATE {table}")
                cur = stack.enter_context(conn.cursor())
                copies[table] = stack.enter_context(
                    cur.copy(f"COPY {table} ({columns}) FROM STDIN (FREEZE)")
                )
            writer = Writer(copies)
            count = _generate(plans, writer, seed=seed, progress=progress)
            writer.flush()
            counts = {t: writer.counts[t] for t in TABLES}
        # the COPY transactions commit as the ExitStack closes the connections' contexts
        timings["copy_s"] = time.perf_counter() - began
        print(f"  copied {count:,} artifacts in {timings['copy_s']:.0f} s: {counts}", flush=True)
        began = time.perf_counter()
        admin.execute("SET maintenance_work_mem = '1GB'")
        for table, name, kind, definition in constraints:
            if kind != "f":
                admin.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _, _, definition in indexes:
            admin.execute(definition)
        for table, name, kind, definition in constraints:
            if kind == "f":
                admin.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        admin.execute(
            "SELECT setval(pg_get_serial_sequence('catalog_reads', 'id'), "
            "(SELECT coalesce(max(id), 1) FROM catalog_reads))"
        )
        timings["constraints_s"] = time.perf_counter() - began
        print(f"  re-created constraints and indexes in {timings['constraints_s']:.0f} s")
        began = time.perf_counter()
        admin.execute("ANALYZE")
        timings["analyze_s"] = time.perf_counter() - began
        after = _definitions(admin)
        if after != (constraints, indexes):
            raise RuntimeError("the re-created schema differs from the migrated one")
    return {"artifacts": count, "datasets": len(plans), "rows": counts, **timings}


if __name__ == "__main__":  # a quick look at the planned distribution
    import sys

    ps = plan(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
    sizes = sorted((p.size for p in ps), reverse=True)
    kinds: dict[tuple[str, ...], int] = {}
    for p in ps:
        kinds[p.keys] = kinds.get(p.keys, 0) + p.size
    print(len(ps), "datasets; largest", sizes[:5], "median", sizes[len(sizes) // 2])
    print({"+".join(k) or "unpartitioned": v for k, v in kinds.items()}, math.fsum(sizes))

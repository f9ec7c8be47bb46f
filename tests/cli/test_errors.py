"""The CLI's edges: no catalog created by a read, short ids, JSON errors, usage, closed pipes,
and one-line errors where there used to be tracebacks."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from cargohold.cli.main import main
from cargohold.core.catalog import Catalog
from cargohold.core.errors import UnsupportedTypeError
from cargohold.core.hold import Cargohold
from tests.cli.conftest import CONSOLE_SCRIPT, REPO, Demo, Result

READS = [
    ["datasets", "ls"],
    ["artifacts", "ls"],
    ["artifacts", "show", "0123abcd"],
    ["artifacts", "get", "0123abcd"],
    ["query", "latest", "daily_sales"],
    ["lineage", "0123abcd"],
    ["cache", "ls"],
    ["gc"],
]


def _main(*argv: str, env: dict[str, str] | None = None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        code = main(list(argv), stdout=out, stderr=err)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with no catalog and no CARGOHOLD_* settings."""
    for key in list(os.environ):
        if key.startswith("CARGOHOLD_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("argv", READS, ids=lambda argv: " ".join(argv))
def test_reads_never_create_the_default_catalog(nowhere: Path, argv: list[str]) -> None:
    done = _main(*argv)
    assert done.code == 1, done
    assert done.stderr.count("\n") == 1
    assert (
        f"no cargohold catalog at sqlite:///{nowhere / '.cargohold' / 'catalog.db'}" in done.stderr
    )
    assert "`cargohold init`" in done.stderr
    assert not (nowhere / ".cargohold").exists()


def test_reads_never_create_directories(nowhere: Path) -> None:
    url = f"sqlite:///{nowhere / 'no' / 'such' / 'dir' / 'c.db'}"
    done = _main("datasets", "ls", "--catalog-url", url)
    assert done.code == 1
    assert url in done.stderr
    assert not (nowhere / "no").exists()


def test_reads_never_create_tables_in_postgres(nowhere: Path, fresh_postgres_url: str) -> None:
    for argv in (["datasets", "ls"], ["artifacts", "ls"], ["db", "upgrade", "--json"]):
        done = _main(*argv, "--catalog-url", fresh_postgres_url)
        if argv[0] == "db":
            assert done.code == 0, done.stderr  # db upgrade is the command that creates
            break
        assert done.code == 1
        assert "`cargohold init`" in done.stderr
        engine = create_engine(fresh_postgres_url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            assert inspect(engine).get_table_names() == []
        finally:
            engine.dispose()
    assert _main("datasets", "ls", "--catalog-url", fresh_postgres_url).code == 0


def test_empty_listings_name_the_catalog(nowhere: Path) -> None:
    assert _main("init").code == 0
    shown = f"sqlite:///{nowhere / '.cargohold' / 'catalog.db'}"
    datasets = _main("datasets", "ls")
    assert datasets.code == 0
    assert datasets.stdout.strip() == (
        f"(no datasets of default/development in the catalog {shown})"
    )
    assert shown in _main("artifacts", "ls").stdout
    assert shown in _main("cache", "ls").stdout
    assert _main("datasets", "ls", "--json").stdout.strip() == "[]"


def test_short_id_prefixes_everywhere(run: Any, demo: Demo, tmp_path: Path) -> None:
    short = demo.clean[0][:8]
    shown = run("artifacts", "show", short, "--json")
    assert shown.code == 0, shown.stderr
    assert shown.json()["id"] == demo.clean[0]
    assert run("artifacts", "get", demo.clean[0][:6]).stdout.strip() == "1000"
    assert run("lineage", demo.report[:8], "--json").json()["root"] == demo.report
    target = tmp_path / "raw.bin"
    assert run("artifacts", "download", demo.raw[0][:8], "-o", str(target)).code == 0
    assert target.read_bytes() == demo.payload + b"2026-11-01"
    assert run("artifacts", "link", demo.raw[0][:8]).code == 0
    # the ids that `cargohold lineage` prints are accepted back
    tree = run("lineage", demo.report).stdout
    printed = re.findall(r"\(([0-9a-f]{8})\)", tree)
    assert len(printed) >= 3
    for short_id in printed:
        assert run("artifacts", "show", short_id).code == 0, short_id
    too_short = run("artifacts", "show", demo.clean[0][:3])
    assert too_short.code == 1
    assert "at least 4 characters" in too_short.stderr
    unknown = run("artifacts", "show", "ffffffff-no")
    assert unknown.code == 1
    assert "no artifact id starts with 'ffffffff-no'" in unknown.stderr


def test_ambiguous_prefix_lists_the_matches(run: Any, demo: Demo) -> None:
    catalog = Catalog.from_settings(demo.hold.settings)
    ids = ["abcd1111-0000-4000-8000-000000000001", "abcd2222-0000-4000-8000-000000000002"]
    try:
        for artifact_id in ids:
            catalog.create_artifact(
                dataset="daily_report", data={"n": demo.hold.put(1)}, artifact_id=artifact_id
            )
    finally:
        catalog.close()
    done = run("artifacts", "show", "abcd")
    assert done.code == 1
    assert "ambiguous" in done.stderr
    assert ids[0] in done.stderr
    assert ids[1] in done.stderr
    assert ids[1] in run("artifacts", "show", "abcd2").stdout
    removed = run("cache", "rm", "abcd")
    assert removed.code == 1
    assert "ambiguous" in removed.stderr


def test_json_errors_are_json(run: Any) -> None:
    missing = run("artifacts", "show", "0123abcd", "--json")
    assert missing.code == 1
    assert missing.stdout == ""
    error = json.loads(missing.stderr)["error"]
    assert error["type"] == "NotFoundError"
    assert error["exit_code"] == 1
    assert "0123abcd" in error["message"]
    usage = run("--json", "artifacts", "show")
    assert usage.code == 2
    parsed = json.loads(usage.stderr)["error"]
    assert parsed["type"] == "UsageError"
    assert parsed["usage"].startswith("usage: cargohold artifacts show")


def test_usage_errors_show_the_subcommand_usage(run: Any, demo: Demo) -> None:
    extra = run("artifacts", "download", demo.raw[0], "file.bin")
    assert extra.code == 2
    assert extra.stderr.startswith("usage: cargohold artifacts download")
    assert "cargohold artifacts download: error: unrecognized arguments: file.bin" in extra.stderr
    missing = run("query", "latest")
    assert missing.code == 2
    assert missing.stderr.startswith("usage: cargohold query latest")
    unknown = run("artifacts", "frobnicate")
    assert unknown.code == 2
    assert unknown.stderr.startswith("usage: cargohold artifacts")


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--catalog-url", "sqlite://relative.db", "three slashes: sqlite:///relative.db"),
        ("--catalog-url", "postgresql+psycopg://...", "does not name a valid host"),
        ("--store-url", "s4://x", "unknown scheme 's4'; known schemes: file, s3, gs"),
        ("--store-url", "file//data/x", "its '://' is mistyped"),
    ],
)
def test_bad_urls_are_one_line_errors(
    nowhere: Path, option: str, value: str, expected: str
) -> None:
    done = _main("datasets", "ls", option, value)
    assert done.code == 1
    assert done.stderr.startswith("cargohold: error: ")
    assert done.stderr.count("\n") == 1
    assert expected in done.stderr
    assert not (nowhere / "file").exists()
    assert not (nowhere / ".cargohold").exists()


def test_table_format_error_names_its_variable(nowhere: Path) -> None:
    done = _main("datasets", "ls", env={"CARGOHOLD_TABLE_FORMAT": "csv"})
    assert done.code == 1
    assert "CARGOHOLD_TABLE_FORMAT" in done.stderr


def test_unsupported_type_advice_is_a_call_that_works() -> None:
    class Opaque:
        pass

    hold = Cargohold(store_url="memory://advice", catalog_url="sqlite://")
    with pytest.raises(UnsupportedTypeError) as raised:
        hold.put(Opaque())
    assert "cargohold.TypeEngine.default().register(MyTransformer())" in str(raised.value)
    import cargohold

    assert callable(cargohold.TypeEngine.default().register)


def test_closed_pipe_is_quiet(demo: Demo, tmp_path: Path) -> None:
    env = {**os.environ, **demo.env, "PYTHONPATH": str(REPO)}
    command = (
        [str(CONSOLE_SCRIPT)]
        if CONSOLE_SCRIPT.exists()
        else [sys.executable, "-m", "cargohold.cli"]
    )
    for argv in (
        ["artifacts", "ls"],
        ["lineage", demo.report, "--mermaid"],
        ["--json", "artifacts", "ls"],
    ):
        with subprocess.Popen(
            [*command, *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        ) as proc:
            assert proc.stdout is not None
            assert proc.stderr is not None
            proc.stdout.close()  # the reader is gone before the first write: EPIPE
            err = proc.stderr.read().decode()
            code = proc.wait(timeout=60)
        assert err == "", err
        assert code == 141

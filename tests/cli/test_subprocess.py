"""The CLI as a subprocess: the installed console script and ``python -m cargohold.cli``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cargohold.core.proxy import DataProxy, download, upload
from tests.cli.conftest import CONSOLE_SCRIPT, REPO, Demo, run_subprocess
from tests.support.services import free_port


@pytest.fixture
def script_or_module() -> bool:
    """Use ``python -m cargohold.cli`` when the console script is not installed."""
    return not CONSOLE_SCRIPT.exists()


def test_console_script_lists_and_draws(demo: Demo, tmp_path: Path, script_or_module: bool) -> None:
    listed = run_subprocess("datasets", "ls", "--json", env=demo.env, cwd=tmp_path,
                            module=script_or_module)  # fmt: skip
    assert listed.code == 0, listed.stderr
    assert [d["name"] for d in listed.json()] == ["clean_orders", "daily_report", "raw_orders"]
    drawn = run_subprocess("lineage", demo.report, "--mermaid", env=demo.env, cwd=tmp_path,
                           module=script_or_module)  # fmt: skip
    assert drawn.stdout.startswith("flowchart LR")
    latest = run_subprocess("query", "latest", "clean_orders", "-p", "date=2026-11-02",
                            env=demo.env, cwd=tmp_path, module=script_or_module)  # fmt: skip
    assert demo.clean[1] in latest.stdout


def test_module_entry_and_exit_codes(demo: Demo, tmp_path: Path) -> None:
    helped = run_subprocess("--help", env=demo.env, cwd=tmp_path, module=True)
    assert helped.code == 0
    assert "lineage" in helped.stdout
    missing = run_subprocess("artifacts", "show", "no-such-id", env=demo.env, cwd=tmp_path,
                             module=True)  # fmt: skip
    assert missing.code == 1
    assert missing.stderr.startswith("cargohold: error: ")
    assert len(missing.stderr.strip().splitlines()) == 1
    usage = run_subprocess("lineage", env=demo.env, cwd=tmp_path, module=True)
    assert usage.code == 2


def test_serve_subprocess(demo: Demo, tmp_path: Path, script_or_module: bool) -> None:
    port = free_port()
    command = [sys.executable, "-m", "cargohold.cli"] if script_or_module else [str(CONSOLE_SCRIPT)]
    env = {**os.environ, **demo.env, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--quiet"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in banner, proc.stderr.read() if proc.stderr else ""
        proxy = DataProxy(hold=demo.hold, base_url=f"http://127.0.0.1:{port}")
        data = b"uploaded by a service"
        import hashlib

        location = proxy.create_upload_location(
            project="p", domain="d", filename="in.txt", content_md5=hashlib.md5(data).digest()
        )
        assert upload(url=location.signed_url, headers=location.headers, data=data)["status"] == 201
        link = proxy.create_download_link(uri=location.native_url, expires_in=30)
        download(url=link.signed_url, local_path=str(tmp_path / "back.txt"))
        assert (tmp_path / "back.txt").read_bytes() == data
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0

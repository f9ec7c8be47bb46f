"""Errors of the layers under the store reach the caller as StorageError: pyarrow's OSError on a
full disk, a store under a read-only filesystem, an ftp:// store nobody answers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

from cargohold import Cargohold
from cargohold.core.errors import StorageError
from cargohold.core.storage.store import Store
from tests.support.services import free_port

REPO = Path(__file__).resolve().parents[3]


def test_pyarrow_oserror_on_a_full_disk_is_a_storage_error(tmp_path: Path) -> None:
    """The file size limit (RLIMIT_FSIZE) makes every write past 1 MiB fail with EFBIG, as a
    full disk fails with ENOSPC: pyarrow raises OSError inside the store's blob sink."""
    script = textwrap.dedent(
        f"""
        import resource, signal
        import pyarrow as pa
        from cargohold import Cargohold
        from cargohold.core.errors import StorageError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        hold = Cargohold(store_url="file://{tmp_path}/store",
                         catalog_url="sqlite:///{tmp_path}/catalog.db")
        hold.catalog.list_datasets()  # the catalog file is small; created before the limit
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        table = pa.table({{"x": pa.array(range(2_000_000))}})
        try:
            hold.put(table)
        except StorageError as exc:
            assert isinstance(exc.__cause__, OSError), repr(exc.__cause__)
            print("StorageError:", exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("StorageError: writing a blob for file://"), done.stdout
    assert list((tmp_path / "store" / ".tmp").iterdir()) == []  # nothing half-written stays


def test_a_store_on_a_read_only_filesystem_is_a_storage_error(tmp_path: Path) -> None:
    hold = Cargohold(
        store_url="file:///sys/kernel/cargohold-store",
        catalog_url=f"sqlite:///{tmp_path}/catalog.db",
    )
    with pytest.raises(StorageError, match="/sys/kernel/cargohold-store"):
        hold.put(pa.table({"x": pa.array(range(100_000))}))


def test_an_unreachable_ftp_store_is_a_storage_error() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(StorageError, match=f"ftp://127.0.0.1:{port}") as caught:
        Store(f"ftp://127.0.0.1:{port}/store")
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)

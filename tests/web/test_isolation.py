"""cargohold.web imports neither Airflow nor Dagster (the Airflow plugin mounts it, not the
other way round), and builds its app with both blocked."""

from __future__ import annotations

from tests.core.test_isolation import run


def test_web_imports_neither_airflow_nor_dagster() -> None:
    result = run(
        """
        import pkgutil, importlib, cargohold.web
        for info in pkgutil.walk_packages(cargohold.web.__path__, "cargohold.web."):
            importlib.import_module(info.name)
        from cargohold.core.hold import Cargohold
        from cargohold.web import create_app
        create_app(hold=Cargohold(store_url="memory://w", catalog_url="sqlite://"))
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"

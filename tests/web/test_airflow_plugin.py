"""The provider's plugin in a real ``airflow api-server`` (temp AIRFLOW_HOME, SQLite metadata DB,
Airflow's simple auth manager): mounted at /cargohold, behind Airflow's login, listed with its
views, and its pages working in Chromium inside Airflow's UI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cargohold.core.hold import Cargohold
from tests.support.services import free_port
from tests.web.browser import PAGE_TIMEOUT, browser, console_errors, screenshot
from tests.web.conftest import SECRET, Demo, populate

__all__ = ["browser"]

REPO = Path(__file__).resolve().parents[2]
SHOTS = Path("/tmp/cargohold-web-screenshots")
_DROP = ("CARGOHOLD_", "OPENLINEAGE", "AIRFLOW__", "AIRFLOW_HOME")
START_TIMEOUT = 180


@dataclass
class Airflow:
    url: str
    token: str
    demo: Demo

    def get(self, path: str, *, auth: bool = True) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        return httpx.get(self.url + path, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Airflow]:
    """``airflow api-server`` with the cargohold provider, on a populated catalog."""
    home = tmp_path_factory.mktemp("airflow-web")
    hold = Cargohold(
        store_url=(home / "store").as_uri(),
        catalog_url=f"sqlite:///{home / 'catalog.db'}",
        proxy_secret=SECRET,
    )
    demo = populate(hold)
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"admin": "admin-pw"}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        # Airflow loads providers' get_provider_info()["plugins"] only when providers load eagerly
        AIRFLOW__CORE__LAZY_DISCOVER_PROVIDERS="False",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        CARGOHOLD_STORE_URL=hold.settings.store_url,
        CARGOHOLD_CATALOG_URL=hold.settings.catalog_url,
        CARGOHOLD_PROXY_SECRET=SECRET,
        PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    )
    airflow_bin = str(Path(sys.executable).with_name("airflow"))
    migrate = subprocess.run(
        [airflow_bin, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    port = free_port()
    log = (home / "api-server.log").open("wb")
    proc = subprocess.Popen(
        [airflow_bin, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert proc.poll() is None, (home / "api-server.log").read_text()[-3000:]
            try:
                if httpx.get(url + "/api/v2/monitor/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "api-server did not start within 180 s"
            time.sleep(1)
        answer = httpx.post(
            url + "/auth/token", json={"username": "admin", "password": "admin-pw"}, timeout=30
        )
        assert answer.status_code in (200, 201), answer.text
        yield Airflow(url=url, token=answer.json()["access_token"], demo=demo)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
        hold.catalog.close()


def test_plugin_is_registered_with_its_views(airflow: Airflow) -> None:
    plugins = airflow.get("/api/v2/plugins").json()["plugins"]
    ours = next(p for p in plugins if p["name"] == "cargohold")
    assert [a["url_prefix"] for a in ours["fastapi_apps"]] == ["/cargohold"]
    views = {v["destination"]: v for v in ours["external_views"]}
    assert views["nav"]["href"] == "/cargohold/"
    assert views["task_instance"]["href"] == "/cargohold/runs/{DAG_ID}/{RUN_ID}?task={TASK_ID}"


def test_airflow_decides_access(airflow: Airflow) -> None:
    assert airflow.get("/cargohold/api/datasets", auth=False).status_code == 401
    forged = httpx.get(
        airflow.url + "/cargohold/", headers={"Authorization": "Bearer x.y.z"}, timeout=30
    )
    assert forged.status_code == 401
    names = [d["name"] for d in airflow.get("/cargohold/api/datasets").json()["datasets"]]
    assert "raw_orders" in names
    data = airflow.get("/cargohold/api/runs/etl/r-2026-11-01?task=clean").json()
    assert [a["id"] for a in data["read"]] == [airflow.demo.raw[0]]
    assert [a["id"] for a in data["written"]] == [airflow.demo.clean[0]]


def test_signed_links_work_through_airflow_without_login(airflow: Airflow) -> None:
    link = airflow.get(f"/cargohold/api/artifacts/{airflow.demo.raw[0]}/link?output=frame").json()
    assert link["signed_url"].startswith(airflow.url + "/cargohold/v1/data/")
    body = httpx.get(link["signed_url"], timeout=30)
    assert body.status_code == 200
    assert body.content.startswith((b"PAR1", b"ARROW1"))  # the table, as stored
    tampered = httpx.get(link["signed_url"].replace("sig=", "sig=0"), timeout=30)
    assert tampered.status_code == 403


def _wait(driver: Any, predicate: Any) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, PAGE_TIMEOUT).until(predicate)


def test_pages_inside_airflows_ui(browser: Any, airflow: Airflow) -> None:
    from selenium.webdriver.common.by import By

    browser.get(airflow.url + "/cargohold/static/favicon.svg")
    browser.add_cookie({"name": "_token", "value": airflow.token, "path": "/"})
    console_errors(browser)
    demo = airflow.demo
    browser.get(f"{airflow.url}/cargohold/runs/etl/r-2026-11-01?task=clean")
    read = browser.find_elements(By.CSS_SELECTOR, "#read tbody tr a.artifact-link")
    assert [a.get_attribute("href") for a in read] == [
        f"{airflow.url}/cargohold/artifacts/{demo.raw[0]}"
    ]
    screenshot(browser, SHOTS, "airflow-task-instance-data")
    assert console_errors(browser) == []
    browser.get(f"{airflow.url}/cargohold/lineage/artifacts/{demo.clean[0]}")
    _wait(browser, lambda d: d.find_element(By.ID, "graph").get_attribute("data-status") == "ready")
    assert int(browser.find_element(By.ID, "graph").get_attribute("data-nodes")) >= 5
    assert console_errors(browser) == []
    # Airflow's own UI: the nav entry renders the catalog in an iframe
    browser.get(f"{airflow.url}/plugin/cargohold")
    frame = _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "iframe"))[0]
    assert frame.get_attribute("src").endswith("/cargohold/")
    browser.switch_to.frame(frame)
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "a.dataset-link"))
    names = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "a.dataset-link")}
    assert {"raw_orders", "clean_orders", "daily_report"} <= names
    browser.switch_to.default_content()
    screenshot(browser, SHOTS, "airflow-nav")

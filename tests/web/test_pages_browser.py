"""Every page in real headless Chromium: loads without console errors, the lineage graph draws
nodes and a click on one navigates, the preview shows rows; screenshots are saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cargohold.web import WebServer
from tests.web.browser import PAGE_TIMEOUT, browser, console_errors, screenshot
from tests.web.conftest import Demo

__all__ = ["browser"]

SHOTS = Path("/tmp/cargohold-web-screenshots")


def _by(kind: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def _wait(driver: Any, predicate: Any) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, PAGE_TIMEOUT).until(predicate)


def _open(driver: Any, url: str) -> None:
    console_errors(driver)  # drain
    driver.get(url)
    _wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def _no_errors(driver: Any) -> None:
    assert console_errors(driver) == []


def test_datasets_page_search_and_open(browser: Any, server: WebServer, demo: Demo) -> None:
    _open(browser, server.url + "/")
    names = [a.text for a in browser.find_elements(_by("CSS_SELECTOR"), "a.dataset-link")]
    assert {"raw_orders", "clean_orders", "daily_report"} <= set(names)
    screenshot(browser, SHOTS, "datasets")
    _no_errors(browser)
    box = browser.find_element(_by("ID"), "search")
    box.send_keys("clean")
    box.submit()
    _wait(browser, lambda d: "q=clean" in d.current_url)
    names = [a.text for a in browser.find_elements(_by("CSS_SELECTOR"), "a.dataset-link")]
    assert names == ["clean_orders"]
    browser.find_element(_by("LINK_TEXT"), "clean_orders").click()
    _wait(browser, lambda d: "/datasets/default/development/clean_orders/1" in d.current_url)
    _no_errors(browser)


def test_dataset_page_calendar_and_table(browser: Any, server: WebServer, demo: Demo) -> None:
    _open(browser, server.url + "/datasets/default/development/raw_orders/1")
    days = browser.find_elements(_by("CSS_SELECTOR"), "#calendar td.has a")
    assert sorted(a.get_attribute("title").split()[0] for a in days) == [
        "2026-11-01",
        "2026-11-02",
        "2026-11-04",
    ]
    assert len(browser.find_elements(_by("CSS_SELECTOR"), "#calendar td.missing")) == 27
    screenshot(browser, SHOTS, "dataset")
    _no_errors(browser)
    _open(browser, server.url + "/datasets/default/development/daily_report/1")
    assert browser.find_elements(_by("ID"), "calendar") == []
    rows = browser.find_elements(_by("CSS_SELECTOR"), "#artifacts tbody tr")
    assert len(rows) == 1
    assert "region=emea" in rows[0].text
    _no_errors(browser)


def test_artifact_page_preview_source_and_download(
    browser: Any, server: WebServer, demo: Demo
) -> None:
    _open(browser, f"{server.url}/artifacts/{demo.raw[0]}")
    section = browser.find_element(_by("ID"), "output-frame")
    header = [th.text for th in section.find_elements(_by("CSS_SELECTOR"), "table.preview th")]
    assert header == ["order_id", "amount", "city"]
    rows = section.find_elements(_by("CSS_SELECTOR"), "table.preview tbody tr")
    assert len(rows) == 20  # the preview limit, of 60 rows
    assert rows[1].text.split() == ["1", "1.5", "Lima"]
    assert section.find_element(_by("CSS_SELECTOR"), "dd.rows").text == "60"
    source = browser.find_element(_by("ID"), "source-link").get_attribute("href")
    assert source == "http://airflow.example/dags/etl/runs/r-2026-11-01/tasks/ingest"
    link = section.find_element(_by("CSS_SELECTOR"), "a.download").get_attribute("href")
    assert link.startswith(server.url + "/v1/data/")
    assert "sig=" in link
    screenshot(browser, SHOTS, "artifact")
    _no_errors(browser)


def test_lineage_graph_renders_and_click_navigates(
    browser: Any, server: WebServer, demo: Demo
) -> None:
    _open(browser, f"{server.url}/lineage/artifacts/{demo.clean[0]}")
    _wait(
        browser,
        lambda d: d.find_element(_by("ID"), "graph").get_attribute("data-status") != "loading",
    )
    graph = browser.find_element(_by("ID"), "graph")
    assert graph.get_attribute("data-status") == "ready"
    labels = browser.execute_script(
        "return window.cargoholdGraph.nodes().map(n => n.data('label').replace('\\n', ' '))"
    )
    assert "daily_report v1 region=emea" in labels
    assert "etl.clean" in labels
    assert any(label.startswith("raw_orders v1") for label in labels)
    assert browser.find_elements(_by("CSS_SELECTOR"), "#graph canvas")
    screenshot(browser, SHOTS, "lineage")
    _no_errors(browser)
    # a real click on the report node's position on the canvas
    browser.execute_script(
        "var cy = window.cargoholdGraph; cy.zoom(1); cy.center();"
        "window.__target = cy.nodes().filter(n => n.data('label').startsWith('daily_report'))[0];"
    )
    x, y = browser.execute_script("var p = window.__target.renderedPosition(); return [p.x, p.y];")
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = browser.find_element(_by("ID"), "graph")
    size = canvas.size
    ActionChains(browser).move_to_element_with_offset(
        canvas, int(x - size["width"] / 2), int(y - size["height"] / 2)
    ).click().perform()
    _wait(browser, lambda d: f"/artifacts/{demo.report}" in d.current_url)
    _no_errors(browser)


def test_dataset_lineage_and_cache_and_run_pages(
    browser: Any, server: WebServer, demo: Demo
) -> None:
    _open(browser, server.url + "/lineage/datasets/default/development/clean_orders/1")
    _wait(
        browser,
        lambda d: d.find_element(_by("ID"), "graph").get_attribute("data-status") == "ready",
    )
    labels = browser.execute_script(
        "return window.cargoholdGraph.nodes().map(n => n.data('label'))"
    )
    assert {"raw_orders", "clean_orders", "daily_report", "etl.clean"} <= set(labels)
    _no_errors(browser)
    _open(browser, server.url + "/cache")
    rows = browser.find_elements(_by("CSS_SELECTOR"), "#cache tbody tr")
    assert len(rows) == 1
    assert "etl.clean" in rows[0].text
    screenshot(browser, SHOTS, "cache")
    _no_errors(browser)
    _open(browser, server.url + "/runs/etl/r-2026-11-01?task=clean")
    wrote = browser.find_elements(_by("CSS_SELECTOR"), "#written tbody tr")
    read = browser.find_elements(_by("CSS_SELECTOR"), "#read tbody tr")
    assert len(wrote) == 1
    assert "clean_orders" in wrote[0].text
    assert len(read) == 1
    assert "raw_orders" in read[0].text
    screenshot(browser, SHOTS, "run")
    _no_errors(browser)


@pytest.mark.parametrize("path", ["/artifacts/no-such-id", "/datasets/p/d/nope/1"])
def test_missing_things_get_a_404_page(browser: Any, server: WebServer, path: str) -> None:
    _open(browser, server.url + path)
    assert "does not exist" in browser.find_element(_by("ID"), "error-message").text or (
        "no artifact" in browser.find_element(_by("ID"), "error-message").text
    )

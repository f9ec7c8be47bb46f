"""Headless Chromium for the web tests: Debian's chromium + chromium-driver via Selenium.

No browser is downloaded: the driver is /usr/bin/chromedriver (or ``CHROMEDRIVER``) and the
browser /usr/bin/chromium (or ``CHROMIUM``). Missing ones skip outside CI and fail in CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.services import unavailable

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)
PAGE_TIMEOUT = 30


def _binary(env: str, default: str) -> str | None:
    path = os.environ.get(env, default)
    return path if os.path.exists(path) else shutil.which(os.path.basename(path))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium WebDriver that records the console."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium is not installed (pip install 'selenium==4.38.0')")
    chromium = _binary("CHROMIUM", "/usr/bin/chromium")
    driver_path = _binary("CHROMEDRIVER", "/usr/bin/chromedriver")
    if chromium is None or driver_path is None:
        unavailable("chromium / chromedriver are missing (scripts/browser.sh installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[str]:
    """Console messages of level SEVERE since the last call (the log is drained)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def screenshot(driver: Any, directory: Path, name: str) -> Path:
    """Save a PNG of the page into ``directory`` (and ``CARGOHOLD_SCREENSHOT_DIR`` if set)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    driver.save_screenshot(str(path))
    extra = os.environ.get("CARGOHOLD_SCREENSHOT_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)
    return path

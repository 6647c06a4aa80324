"""Fixtures for the browser tests: the demo shop, a fresh headless Chromium, screenshots."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_harness import Screenshots, chromium, missing_browser, serve

from personalize.cli import webshop


@pytest.fixture(scope="session")
def browser_available() -> None:
    reason = missing_browser()
    if reason is None:
        return
    if os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}:
        pytest.fail(f"headless Chromium is required in CI: {reason}", pytrace=False)
    pytest.skip(f"no headless Chromium: {reason}")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The demo shop on 127.0.0.1: its base URL and its SQLite file."""
    store = tmp_path_factory.mktemp("shop") / "visitors.sqlite"
    app = webshop().create_app(store)
    with serve(app) as url:
        yield url, store


@pytest.fixture
def browser(browser_available: None, tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium with a fresh profile: a new visitor."""
    with chromium(tmp_path / "profile") as driver:
        yield driver


@pytest.fixture
def screenshots(tmp_path: Path) -> Screenshots:
    return Screenshots(tmp_path / "screenshots")

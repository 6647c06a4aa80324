"""Fixtures for the facade tests: the bundled example store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from personalize import Catalog, Event, History, Personalizer, Request
from personalize.cli import example_store
from personalize.context import demo_geoip_path


@pytest.fixture(scope="session")
def store() -> Path:
    return example_store()


@pytest.fixture(scope="session")
def store_catalog(store: Path) -> Catalog:
    return Catalog.from_file(store / "catalog.json")


@pytest.fixture(scope="session")
def store_events(store: Path) -> list[Event]:
    with (store / "events.jsonl").open() as fh:
        return [Event.model_validate_json(line) for line in fh]


@pytest.fixture(scope="session")
def visitors(store: Path) -> list[tuple[str, Request, History]]:
    data: list[dict[str, Any]] = json.loads((store / "visitors.json").read_text())
    return [
        (v["name"], Request.model_validate(v["request"]), History.model_validate(v["history"]))
        for v in data
    ]


@pytest.fixture(scope="session")
def store_personalizer(
    store: Path, store_catalog: Catalog, store_events: list[Event]
) -> Personalizer:
    return Personalizer.from_file(
        store / "personalization.yaml",
        catalog=store_catalog,
        interactions=store_events,
        geoip=demo_geoip_path(),
        autoload_plugins=False,
    )

"""Shared builders for the journey tests: the example store, loaded once per session."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from personalize import Catalog, Event
from personalize.metrics import read_events

STORE = Path(__file__).resolve().parents[2] / "examples" / "store"
CONFIG = STORE / "personalization.yaml"


@cache
def store_catalog() -> Catalog:
    return Catalog.from_file(STORE / "catalog.json")


@cache
def store_events() -> tuple[Event, ...]:
    return tuple(read_events(STORE / "events.jsonl"))

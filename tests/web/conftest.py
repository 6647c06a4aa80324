"""Fixtures for the web tests: the example store's Personalizer and the cookie settings."""

from __future__ import annotations

import pytest

from personalize import Catalog, Event, Personalizer
from personalize.cli import example_store
from personalize.context import demo_geoip_path
from personalize.web import IdentitySettings

SECRET = "test-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def web_personalizer() -> Personalizer:
    store = example_store()
    with (store / "events.jsonl").open() as fh:
        events = [Event.model_validate_json(line) for line in fh]
    return Personalizer.from_file(
        store / "personalization.yaml",
        catalog=Catalog.from_file(store / "catalog.json"),
        interactions=events,
        geoip=demo_geoip_path(),
        autoload_plugins=False,
    )


@pytest.fixture
def cookie_settings() -> IdentitySettings:
    # Plain HTTP on 127.0.0.1 in the tests, so the cookie cannot be Secure.
    return IdentitySettings(secret=SECRET, secure=False)

"""The example plugin package installs, is discovered by entry point, and works in rules."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from personalize.plugins import AUTOLOAD_ENV, Registry, load_entry_point_plugins
from personalize.rules import RuleSet


@pytest.fixture(scope="module")
def installed(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Install examples/plugins/weather into a scratch folder put on sys.path."""
    pytest.importorskip("hatchling", reason="building the example needs hatchling")
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
            "--no-build-isolation", "--no-index", "--target", str(target),
            str(repo_root / "examples" / "plugins" / "weather"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if m.startswith("personalize_weather")]:
            del sys.modules[name]


def test_entry_point_discovery_finds_the_installed_plugin(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    found = load_entry_point_plugins()
    assert [p.name for p in found] == ["weather"]


def test_the_off_switch_disables_discovery(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    assert load_entry_point_plugins() == []


def test_the_plugin_s_facts_and_operator_drive_rules(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    registry = Registry.with_builtins().install_all(load_entry_point_plugins())
    ruleset = RuleSet.compile(
        {
            "rules": [
                {"id": "umbrellas", "when": {"weather.is_raining": True}},
                {"id": "drizzle", "when": {"weather.condition": {"$rainy": True}}},
                {"id": "freezing", "when": {"weather.temp_c": {"$lt": 0}}},
            ]
        },
        registry=registry,
    )
    london = {"geo": {"city": "London", "country": "GB"}}
    london.update(registry.collect_facts(london))
    assert ruleset.evaluate(london).fired == ("umbrellas", "drizzle")
    toronto = {"geo": {"city": "Nowhere", "country": "CA"}}
    toronto.update(registry.collect_facts(toronto))
    assert ruleset.evaluate(toronto).fired == ("freezing",)

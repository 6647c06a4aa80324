"""The example plugin package installs, is discovered by entry point, and works in rules."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from personalize import Personalizer, Request
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


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_the_off_switch_disables_discovery(
    installed: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(AUTOLOAD_ENV, value)
    assert load_entry_point_plugins() == []


@pytest.mark.parametrize("value", ["", "0", "false", "No", "off"])
def test_a_switch_set_to_false_leaves_discovery_on(
    installed: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # ``PERSONALIZE_DISABLE_PLUGIN_AUTOLOAD=false`` used to switch discovery off.
    monkeypatch.setenv(AUTOLOAD_ENV, value)
    assert [p.name for p in load_entry_point_plugins()] == ["weather"]


def test_a_configured_instance_replaces_the_discovered_plugin_of_its_name(
    installed: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Passing ``plugins=[WeatherPlugin(source)]`` with the package installed raised
    # "a plugin of that name is installed already" unless discovery was switched off.
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    from personalize_weather import WeatherPlugin, WeatherSource

    observations = tmp_path / "observations.json"
    observations.write_text('{"countries": {"GB": {"temp_c": -3, "condition": "snow"}}}')
    rules = [{"id": "freezing", "when": {"weather.temp_c": {"$lt": 0}}}]
    own = WeatherPlugin(WeatherSource(observations))
    p = Personalizer({"rules": rules}, plugins=[own], trusted_cdn=["cloudflare"])
    result = p.personalize(Request(headers={"cf-ipcountry": "GB"}))
    assert result.context.geo.country == "GB"
    assert "freezing" in result.rules  # our observations, not the package's own file


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

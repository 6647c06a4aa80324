"""A personalize plugin: current weather by the visitor's city or country, from a JSON file."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from personalize.plugins import Registry

__all__ = ["RAINY", "WeatherPlugin", "WeatherSource"]

#: Conditions that count as rain for ``is_raining`` and ``$rainy``.
RAINY = frozenset({"rain", "drizzle", "showers", "thunderstorm"})
_DEFAULT_FILE = Path(__file__).with_name("observations.json")


class WeatherSource:
    """Observations by city and by country code, read once from a JSON file."""

    def __init__(self, path: str | Path | None = None) -> None:
        path = Path(path or os.environ.get("PERSONALIZE_WEATHER_FILE") or _DEFAULT_FILE)
        data = json.loads(path.read_text(encoding="utf-8"))
        self.cities: dict[str, Any] = dict(data.get("cities", {}))
        self.countries: dict[str, Any] = dict(data.get("countries", {}))

    def __call__(self, facts: Mapping[str, Any]) -> dict[str, Any] | None:
        """The ``weather`` facts for a request, or ``None`` when the place is unknown."""
        geo = facts.get("geo") or {}
        found = self.cities.get(geo.get("city") or "") or self.countries.get(
            geo.get("country") or ""
        )
        if found is None:
            return None
        condition = str(found.get("condition", "unknown"))
        return {
            "temp_c": float(found["temp_c"]),
            "condition": condition,
            "is_raining": condition in RAINY,
        }


def _rainy(actual: Any, expected: bool) -> bool:
    return (isinstance(actual, str) and actual in RAINY) is expected


def _expect_bool(arg: Any) -> bool:
    if not isinstance(arg, bool):
        raise ValueError("$rainy takes true or false")
    return arg


class WeatherPlugin:
    """Registers the ``weather`` facts and the ``$rainy`` operator."""

    name = "weather"

    def __init__(self, source: WeatherSource | None = None) -> None:
        self._source = source

    def setup(self, registry: Registry) -> None:
        """Register the plugin's fact provider and operator."""
        source = self._source or WeatherSource()
        registry.register_fact(
            "weather",
            source,
            schema={
                "weather.temp_c": "number",
                "weather.condition": "string",
                "weather.is_raining": "boolean",
            },
        )
        registry.register_operator(
            "$rainy",
            _rainy,
            arg_kind="boolean",
            fact_kinds={"string", "any"},
            prepare=_expect_bool,
            doc="the weather condition counts as rain",
        )

"""The built-ins are seeded through the registry's public API; no registry is global."""

from __future__ import annotations

import pytest

from personalize import Personalizer
from personalize.catalog import Catalog
from personalize.config import DEFAULT_WEIGHTS
from personalize.errors import PluginError
from personalize.plugins import Registry
from personalize.ranking import BUILTIN_SCORERS, BUILTIN_SOURCES
from personalize.ranking._sources import SOURCE_LEVELS
from personalize.rules import builtin_registry, compile_condition


def test_ranking_sources_and_scorers_are_registered_as_builtins() -> None:
    registry = Registry.with_builtins()
    assert dict(registry.candidate_sources) == dict(BUILTIN_SOURCES)
    assert dict(registry.scorers) == dict(BUILTIN_SCORERS)
    assert registry.plugin_scorers() == {}
    assert registry.plugin_candidate_sources() == {}
    assert registry.owner("scorer", "popularity") == "builtin"


def test_the_feature_names_are_one_list() -> None:
    registry = Registry.with_builtins()
    registered = {*registry.scorers, *registry.candidate_sources}
    assert registered == set(DEFAULT_WEIGHTS) == set(SOURCE_LEVELS)


def test_a_plugin_cannot_take_a_builtin_feature_name() -> None:
    registry = Registry.with_builtins()

    class Shadow:
        name = "shadow"

        def setup(self, registry: Registry) -> None:
            registry.register_scorer("popularity", lambda product_id, request: 0.0)

    with pytest.raises(PluginError, match="already registered by builtin"):
        registry.install(Shadow())


def test_plugin_scorers_are_told_apart_from_builtins() -> None:
    registry = Registry.with_builtins()

    class Margin:
        name = "margin"

        def setup(self, registry: Registry) -> None:
            registry.register_scorer("margin", lambda product_id, request: 0.5)

    registry.install(Margin())
    assert set(registry.plugin_scorers()) == {"margin"}
    assert registry.owner("scorer", "margin") == "margin"


def test_registries_without_a_registry_argument_are_fresh_copies() -> None:
    first, second = builtin_registry(), builtin_registry()
    assert first is not second
    first.register_operator("$odd", lambda actual, arg: actual % 2 == 1)
    assert "$odd" not in second.operators
    assert "$odd" not in builtin_registry().operators
    with pytest.raises(Exception, match="unknown operator"):
        compile_condition({"n": {"$odd": True}})


def test_each_personalizer_owns_its_registry() -> None:
    catalog = Catalog([])
    one = Personalizer({}, catalog=catalog, autoload_plugins=False)
    two = Personalizer({}, catalog=catalog, autoload_plugins=False)
    assert one.registry is not two.registry
    assert set(one.registry.scorers) == set(two.registry.scorers) == set(BUILTIN_SCORERS)

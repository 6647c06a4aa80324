"""Compiling a configuration into the immutable state a ``Personalizer`` serves from.

Everything a request needs is built here, once: the rule set, landing choices, offers and
ranker of the configuration and of every experiment-variant combination, and the
experiment plan that picks among them. Problems are collected across all of it, so one
load reports every one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from types import MappingProxyType
from typing import Any

from personalize.catalog import Catalog
from personalize.config import PersonalizerConfig
from personalize.context import FACT_SCHEMA
from personalize.context._model import OPEN_PATHS
from personalize.errors import ConfigError, Problem
from personalize.experiments import ConfigKey, ExperimentPlan, compile_experiments
from personalize.landing import CompiledLanding, compile_landing
from personalize.offers import CompiledOffers, compile_offers
from personalize.plugins import Registry
from personalize.ranking import InteractionIndex, Ranker
from personalize.rules import ConditionCompiler, RuleSet
from personalize.schedule import zone_or_none

__all__ = ["Compiled", "ConfigCompiler", "State"]


@dataclass(frozen=True, slots=True)
class Compiled:
    """One configuration, compiled: everything a request needs, immutable."""

    config: PersonalizerConfig
    rules: RuleSet
    landing: CompiledLanding
    offers: CompiledOffers
    ranker: Ranker


@dataclass(frozen=True, slots=True)
class State:
    """What a personalizer serves from: the base configuration, every variant combination,
    and the experiment plan that chooses among them."""

    base: Compiled
    plan: ExperimentPlan
    variants: Mapping[ConfigKey, Compiled] = field(default_factory=lambda: MappingProxyType({}))


class ConfigCompiler:
    """Compiles configurations against one registry, catalog and interaction index.

    Args:
        registry: Operators, facts, actions, scorers and candidate sources.
        catalog: The products.
        index: The interaction index.
    """

    def __init__(self, registry: Registry, catalog: Catalog, index: InteractionIndex) -> None:
        self._registry = registry
        self._catalog = catalog
        self._index = index
        self._schema = {**FACT_SCHEMA, **registry.fact_schema}

    def _conditions(self, segments: Collection[str]) -> ConditionCompiler:
        return ConditionCompiler(
            schema=self._schema,
            open_paths=OPEN_PATHS,
            registry=self._registry,
            segments=tuple(segments),
        )

    def state(self, config: PersonalizerConfig) -> State:
        """Compile ``config`` and every experiment-variant combination of it.

        Raises:
            ConfigError: Every problem of every part, each with its path.
        """
        problems: list[Problem] = []
        base = self.one(config, problems)
        compiler = self._conditions(config.segments)
        plan: ExperimentPlan | None = None
        try:
            plan = compile_experiments(config, compiler.compile)
        except ConfigError as exc:
            problems.extend(exc.problems)
        problems.extend(compiler.problems)
        if problems or plan is None:
            raise ConfigError(problems)
        variants = {key: self.one(variant, problems) for key, variant in plan.variant_configs()}
        if problems:
            raise ConfigError(problems)
        return State(base, plan, MappingProxyType(variants))

    def one(self, config: PersonalizerConfig, problems: list[Problem]) -> Compiled:
        """Compile one configuration (no experiments); problems are appended."""
        try:
            rules = RuleSet.compile(config, registry=self._registry, schema=self._schema)
        except ConfigError as exc:
            problems.extend(exc.problems)
            rules = RuleSet.compile(
                PersonalizerConfig(), registry=self._registry, schema=self._schema
            )
        compiler = self._conditions(config.segments)
        landing = compile_landing(config.landing, compiler.compile)
        offers = compile_offers(
            config.offers,
            compiler.compile,
            max_offers=config.settings.max_offers,
            store=zone_or_none(config.settings.timezone) or UTC,  # a bad name: a rules problem
            problems=problems,
        )
        problems.extend(compiler.problems)
        ranker = Ranker(
            self._catalog,
            self._index,
            config.ranking,
            scorers=self._registry.scorers,
            sources=self._registry.candidate_sources,
        )
        return Compiled(config, rules, landing, offers, ranker)

    def raw_condition_problems(self, raw: Mapping[str, Any]) -> list[Problem]:
        """The problems of every condition of a document whose structure is invalid, so
        that one load reports both kinds."""
        segments = raw.get("segments")
        segments = segments if isinstance(segments, Mapping) else {}
        compiler = self._conditions(segments)
        for name, condition in segments.items():
            if isinstance(condition, Mapping):
                compiler.compile(condition, f"segments.{name}")
        for section in ("rules", "landing", "offers", "experiments"):
            items = raw.get(section)
            for i, item in enumerate(items if isinstance(items, list) else ()):
                if not isinstance(item, Mapping):
                    continue
                if isinstance(item.get("when"), Mapping):
                    compiler.compile(item["when"], f"{section}[{i}].when")
                actions = item.get("then") if section == "rules" else None
                for j, action in enumerate(actions if isinstance(actions, list) else ()):
                    if not isinstance(action, Mapping) or len(action) != 1:
                        continue
                    ((kind, body),) = action.items()
                    if isinstance(body, Mapping) and isinstance(body.get("where"), Mapping):
                        path = f"rules[{i}].then[{j}].{kind}.where"
                        compiler.compile_selector(body["where"], path)
        return compiler.problems

"""Compiling a configuration into the immutable state a ``Personalizer`` serves from.

Everything a request needs is built here, once: the rule set, landing choices, offers and
ranker of the configuration and of every experiment-variant combination, and the
experiment plan that picks among them. Problems are collected across all of it, so one
load reports every one.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from types import MappingProxyType
from typing import Any

from personalize.catalog import Catalog
from personalize.config import DEFAULT_WEIGHTS, PersonalizerConfig
from personalize.context import FACT_SCHEMA
from personalize.context._model import OPEN_PATHS
from personalize.errors import ConfigError, Problem
from personalize.experiments import ConfigKey, ExperimentPlan, compile_experiments
from personalize.experiments._overrides import (
    apply_overrides,
    override_locations,
    unknown_weights,
)
from personalize.experiments._plan import segment_tests
from personalize.landing import CompiledLanding, compile_landing
from personalize.offers import CompiledOffers, compile_offers
from personalize.plugins import Registry
from personalize.ranking import InteractionIndex, Ranker
from personalize.rules import ConditionCompiler, RuleSet
from personalize.rules._ruleset import _compile_actions as compile_actions
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
        index: The interaction index; ``None`` for a compiler that only checks raw
            documents (:meth:`raw_problems`), before the index is built.
    """

    def __init__(
        self, registry: Registry, catalog: Catalog, index: InteractionIndex | None
    ) -> None:
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
            plan = compile_experiments(
                config, compiler.compile, known_weights=self._plugin_weights()
            )
        except ConfigError as exc:
            problems.extend(exc.problems)
        problems.extend(compiler.problems)
        # The variants are compiled whatever the base's problems, so that one load reports
        # theirs too; a variant repeats the base's problems, which are reported once.
        seen = {(p.path, p.message) for p in problems}
        configs = plan.variant_configs() if plan is not None else self._valid_variants(config)
        variants: dict[ConfigKey, Compiled] = {}
        for key, variant in configs:
            found: list[Problem] = []
            variants[key] = self.one(variant, found)
            problems.extend(self._variant_problems(config, key, found, seen))
        if problems or plan is None:
            raise ConfigError(problems)
        return State(base, plan, MappingProxyType(variants))

    def _valid_variants(self, config: PersonalizerConfig) -> list[tuple[ConfigKey, Any]]:
        """Each single variant whose overrides apply, when the plan could not be built
        (their problems, and those of the combinations, are reported already)."""
        found: list[tuple[ConfigKey, Any]] = []
        for exp in config.experiments:
            for variant in exp.variants:
                if not variant.overrides:
                    continue
                try:
                    applied = apply_overrides(
                        config, variant.overrides, known_weights=self._plugin_weights()
                    )
                except ConfigError:
                    continue
                found.append((((exp.key, variant.key),), applied))
        return found

    def _variant_problems(
        self,
        config: PersonalizerConfig,
        key: ConfigKey,
        found: list[Problem],
        seen: set[tuple[str, str]],
    ) -> list[Problem]:
        """The problems of a variant's configuration the base does not have, named after
        the override that put them there, or else after the variant(s)."""
        if not found:
            return []
        places: list[tuple[str, str]] = []  # (path in the configuration, the override's)
        labels: list[str] = []
        for i, exp in enumerate(config.experiments):
            for j, variant in enumerate(exp.variants):
                if (exp.key, variant.key) not in key:
                    continue
                where = f"experiments[{i}].variants[{j}].overrides"
                labels.append(where)
                located = override_locations(
                    config, variant.overrides, known_weights=self._plugin_weights()
                )
                places += [(path, f"{where}.{dotted}") for path, dotted in located]
        places.sort(key=lambda place: -len(place[0]))  # the deepest override first
        named: list[Problem] = []
        for problem in found:
            if (problem.path, problem.message) in seen:
                continue
            path, message = problem.path, problem.message
            for inside, override in places:
                if path == inside or path.startswith((inside + ".", inside + "[")):
                    path = override + path[len(inside) :]
                    break
            else:
                message += f" (with {' + '.join(labels)})"
            if (path, message) not in seen:
                seen.add((path, message))
                named.append(Problem(path, message, problem.suggestion))
        return named

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
        problems.extend(
            unknown_weights(config.ranking.weights, self._plugin_weights(), "ranking.weights")
        )
        if self._index is None:
            raise TypeError("this compiler checks documents only; it has no interaction index")
        ranker = Ranker(
            self._catalog,
            self._index,
            config.ranking,
            scorers=self._registry.plugin_scorers(),
            sources=self._registry.plugin_candidate_sources(),
        )
        return Compiled(config, rules, landing, offers, ranker)

    def raw_problems(self, raw: Mapping[str, Any]) -> list[Problem]:
        """The problems of a document whose structure may be invalid, found the way
        :meth:`state` finds them in a valid one: every condition and selector, every
        action (unknown ones, bodies, weights), the ranking weights and the weights that
        variant overrides name. With the structural problems, one load reports them all."""
        segments = raw.get("segments")
        segments = segments if isinstance(segments, Mapping) else {}
        compiler = self._conditions(segments)
        for name, condition in segments.items():
            if isinstance(condition, Mapping):  # pydantic reports any other type
                compiler.compile(condition, f"segments.{name}")
        weights = {*DEFAULT_WEIGHTS, *self._plugin_weights()}
        targeting: list[Problem] = []
        for section in ("rules", "landing", "offers", "experiments"):
            for i, item in _items(raw, section):
                if isinstance(item.get("when"), Mapping):
                    compiler.compile(item["when"], f"{section}[{i}].when")
                    if section == "experiments":
                        targeting += segment_tests(item["when"], f"{section}[{i}].when")
                then = item.get("then") if section == "rules" else None
                if isinstance(then, list):
                    rule_id = item.get("id")
                    rule_id = rule_id if isinstance(rule_id, str) else ""
                    compile_actions(then, rule_id, f"rules[{i}]", compiler, self._registry, weights)
        problems = compiler.problems + targeting
        ranking = raw.get("ranking")
        if isinstance(ranking, Mapping):
            problems += unknown_weights(
                ranking.get("weights"), self._plugin_weights(), "ranking.weights"
            )
        for i, exp in _items(raw, "experiments"):
            for j, variant in enumerate(_list(exp.get("variants"))):
                overrides = variant.get("overrides") if isinstance(variant, Mapping) else None
                if isinstance(overrides, Mapping):
                    here = f"experiments[{i}].variants[{j}].overrides"
                    problems += _override_weights(overrides, self._plugin_weights(), here)
                    problems += self._override_conditions(overrides, segments, here)
        return problems

    def _override_conditions(
        self, overrides: Mapping[str, Any], segments: Mapping[str, Any], path: str
    ) -> list[Problem]:
        """The problems of the conditions a variant's overrides write (a whole ``landing``,
        ``offers``, ``rules`` or ``segments`` section, one ``segments.<id>``, or a
        ``...when``), found without the base document being valid."""
        compiler = self._conditions(segments)
        for dotted, value in overrides.items():
            if not isinstance(dotted, str):
                continue
            here = f"{path}.{dotted}"
            if dotted == "segments" and isinstance(value, Mapping):
                for name, condition in value.items():
                    if isinstance(condition, Mapping):
                        compiler.compile(condition, f"{here}.{name}")
            elif isinstance(value, Mapping) and (
                dotted.endswith(".when") or dotted.startswith("segments.")
            ):
                compiler.compile(value, here)
            elif dotted in ("rules", "landing", "offers") and isinstance(value, list):
                for k, item in enumerate(value):
                    if isinstance(item, Mapping) and isinstance(item.get("when"), Mapping):
                        compiler.compile(item["when"], f"{here}[{k}].when")
        return compiler.problems

    def _plugin_weights(self) -> frozenset[str]:
        """Weight names plugins add: their scorers' features and their candidate sources."""
        registry = self._registry
        return frozenset({*registry.plugin_scorers(), *registry.plugin_candidate_sources()})

    #: The name the facade passes to ``load_config`` (it once covered conditions only).
    raw_condition_problems = raw_problems


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _items(raw: Mapping[str, Any], section: str) -> list[tuple[int, Mapping[str, Any]]]:
    return [
        (i, item) for i, item in enumerate(_list(raw.get(section))) if isinstance(item, Mapping)
    ]


def _override_weights(
    overrides: Mapping[str, Any], known: Collection[str], path: str
) -> list[Problem]:
    names = {*DEFAULT_WEIGHTS, *known}
    problems: list[Problem] = []
    for dotted, value in overrides.items():
        if dotted == "ranking.weights":
            problems += unknown_weights(value, known, f"{path}.{dotted}")
        elif isinstance(dotted, str) and dotted.startswith("ranking.weights."):
            name = dotted.removeprefix("ranking.weights.")
            if name not in names:
                close = difflib.get_close_matches(name, sorted(names), n=1)
                problems.append(
                    Problem(f"{path}.{dotted}", f"unknown ranking feature {name!r}",
                            close[0] if close else None)
                )  # fmt: skip
    return problems

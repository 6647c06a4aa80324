"""Experiments compiled once at load, and the per-request assignment.

:func:`compile_experiments` turns the ``experiments`` section into an
:class:`ExperimentPlan`: targeting conditions compiled by the caller's condition compiler,
bucket ranges precomputed, every variant's overrides applied and validated, and one
configuration per combination of variants that override something. Per request,
:meth:`ExperimentPlan.assign` costs one hash and a few comparisons per experiment and
returns an :class:`Assignment` whose ``config_key`` picks the precompiled configuration.

Per experiment, in this order (first match decides):

1. a forced variant from the request (``?pz_force=exp:variant`` or ``X-Pz-Force``), only
   when ``settings.allow_forced_variants`` is on (it is off by default: it is for QA);
2. ``enabled: false`` enrolls nobody;
3. no value for the hash attribute (``user_id``, falling back to ``session_id``) enrolls
   nobody;
4. outside the namespace slice, or where the targeting condition is false: not enrolled;
5. the bucket of the hash value picks the variant whose range holds it; in no range
   (beyond ``traffic``): not enrolled.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from personalize._models import Request
from personalize.config import PersonalizerConfig
from personalize.context import parse_url
from personalize.errors import ConfigError, Problem
from personalize.experiments._hashing import (
    bucket_from,
    bucket_ranges,
    bucket_shares,
    fnv1a32,
    in_range,
)
from personalize.experiments._overrides import apply_overrides

__all__ = [
    "MAX_COMBINATIONS",
    "Assignment",
    "ConditionCompiler",
    "ConfigKey",
    "ExperimentPlan",
    "Exposure",
    "compile_experiments",
    "force_header_name",
    "parse_forced",
    "segment_tests",
]

#: The most override combinations a configuration may produce (each is compiled at load).
MAX_COMBINATIONS = 256

#: Compiles a condition found at a path (``experiments[0].when``) into a predicate
#: ``pred(facts, evaluation=None)``; raises :class:`ConfigError` for an invalid condition.
#: :meth:`ExperimentPlan.assign` hands its ``evaluation`` (the rule compiler's
#: :class:`~personalize.rules.Evaluation`: the time, and where plugin errors go) through.
ConditionCompiler = Callable[[Mapping[str, Any], str], Callable[..., bool]]

#: The assigned variants that override something, in configuration order:
#: ``(("weights-v2", "heavy-copurchase"),)``; ``()`` is the base configuration.
ConfigKey = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Exposure:
    """A visitor saw an experiment's variant: one per decision and enrolled experiment.

    Attributes:
        experiment: The experiment key.
        variant: The variant key.
        hash_attribute: ``user_id`` or ``session_id``: what was hashed (``None`` when forced
            without either).
        hash_value: The value hashed.
        forced: The variant was forced through the request (QA traffic; leave it out of
            analyses).
        in_holdout: The variant is a holdout: the visitor saw no personalization.
    """

    experiment: str
    variant: str
    hash_attribute: str | None
    hash_value: str | None
    forced: bool
    in_holdout: bool


@dataclass(frozen=True, slots=True)
class Assignment:
    """The variants one request is enrolled in.

    Attributes:
        variants: Experiment key to variant key, for enrolled experiments only.
        holdout: Some assigned variant is a holdout: serve no personalization.
        config_key: Which precompiled configuration applies (see :data:`ConfigKey`).
        exposures: One :class:`Exposure` per enrolled experiment, in configuration order.
        notes: Why an experiment enrolled nobody, or why a forced variant (or a forced
            experiment that does not exist) was ignored.
    """

    variants: Mapping[str, str]
    holdout: bool = False
    config_key: ConfigKey = ()
    exposures: tuple[Exposure, ...] = ()
    notes: tuple[str, ...] = ()


_EMPTY = Assignment(variants=MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class _Compiled:
    key: str
    seed_state: int
    by_user: bool
    enabled: bool
    predicate: Callable[..., bool] | None
    namespace: tuple[str, float, float] | None
    shares: tuple[float, ...]
    ranges: tuple[tuple[float, float], ...]
    variants: tuple[str, ...]
    holdout: tuple[bool, ...]
    overrides: tuple[bool, ...]
    index: Mapping[str, int]


def force_header_name(param: str) -> str:
    """The header that forces variants: ``X-`` and the parameter, ``_`` turned to ``-``.

    ``pz_force`` gives ``X-Pz-Force``; header names are matched case-insensitively.
    """
    return "X-" + "-".join(word.capitalize() for word in param.replace("_", "-").split("-"))


def parse_forced(value: str) -> dict[str, str]:
    """Read ``exp:variant,exp2:variant2`` into a mapping; malformed pieces are skipped.

    The experiment key is everything before the last ``:`` of a piece.
    """
    forced: dict[str, str] = {}
    for piece in value.split(","):
        exp, sep, variant = piece.strip().rpartition(":")
        if sep and exp and variant:
            forced[exp] = variant
    return forced


@dataclass(frozen=True, slots=True)
class ExperimentPlan:
    """The experiments of a configuration, compiled; assign requests with :meth:`assign`.

    Attributes:
        base: The configuration the variants override.
        configs: Every reachable :data:`ConfigKey` to its configuration, validated.
        force_param: Query parameter that forces variants (``None``: forcing is off).
        force_header: Lower-cased header name that forces variants.
    """

    base: PersonalizerConfig
    configs: Mapping[ConfigKey, PersonalizerConfig]
    force_param: str | None
    force_header: str
    _experiments: tuple[_Compiled, ...] = field(repr=False)

    @property
    def keys(self) -> tuple[str, ...]:
        """The experiment keys, in configuration order."""
        return tuple(exp.key for exp in self._experiments)

    def shares(self, experiment: str) -> dict[str, float]:
        """Each variant's expected share of an experiment's enrolled visitors (sums to 1).

        The share of the 10,000 hash buckets each variant's range holds
        (:func:`~personalize.experiments.bucket_shares`): at low traffic that differs a
        little from ``weight / sum(weights)``, which an SRM check of a large experiment
        would flag. With no bucket enrolled (``traffic: 0``), the weights' shares.
        """
        for exp in self._experiments:
            if exp.key == experiment:
                shares = bucket_shares(exp.ranges) or exp.shares
                return dict(zip(exp.variants, shares, strict=True))
        raise KeyError(experiment)

    def variant_configs(self) -> Iterator[tuple[ConfigKey, PersonalizerConfig]]:
        """Every configuration other than the base, with its :data:`ConfigKey`.

        One per overriding variant and one per combination of overriding variants of
        different experiments: what the facade compiles at load, keyed as
        :attr:`Assignment.config_key` will ask for it.
        """
        for key, config in self.configs.items():
            if key:
                yield key, config

    def forced_from(
        self, request: Request, query: Sequence[tuple[str, str]] | None = None
    ) -> dict[str, str]:
        """The variants a request forces through the query string or the header.

        The header is read first; the query string wins for an experiment named in both.

        Args:
            request: The request (its headers, and its URL when ``query`` is not given).
            query: The URL's query pairs as the resolver parsed them
                (:attr:`personalize.context.Context.query`).
        """
        if self.force_param is None:
            return {}
        forced: dict[str, str] = {}
        for name, value in request.headers.items():
            if name.lower() == self.force_header:
                forced.update(parse_forced(value))
        if query is None:
            url = request.url
            # Parse only a URL that may name the parameter: literally, or percent-encoded
            # (the resolver's parse decodes "pz%5Fforce" too).
            named = url and (self.force_param in url or "%" in url)
            query = parse_url(url).pairs if named else ()
        for name, value in query:
            if name == self.force_param:
                forced.update(parse_forced(value))
        return forced

    def assign(
        self,
        request: Request,
        facts: Mapping[str, Any] | None = None,
        *,
        evaluation: Any = None,
        query: Sequence[tuple[str, str]] | None = None,
    ) -> Assignment:
        """Enroll one request in the experiments.

        Args:
            request: The request (``user_id``, ``session_id``, ``url`` and ``headers`` are
                read).
            facts: The context facts, for targeting conditions; without them, experiments
                with a condition enroll nobody.
            evaluation: Handed to the targeting predicates: with the rule compiler's, an
                :class:`~personalize.rules.Evaluation` carrying the request time and the
                reporter of plugin errors (a failing plugin operator is then reported, not
                swallowed).
            query: The URL's query pairs the resolver parsed
                (:attr:`personalize.context.Context.query`); without them the URL is
                parsed here.

        Returns:
            The :class:`Assignment`. Never raises on request data.
        """
        if not self._experiments:
            return _EMPTY
        forced = self.forced_from(request, query) if self.force_param is not None else {}
        variants: dict[str, str] = {}
        key: list[tuple[str, str]] = []
        exposures: list[Exposure] = []
        notes: list[str] = []
        holdout = False
        user_id, session_id = request.user_id, request.session_id
        for exp in self._experiments:
            if exp.by_user and user_id:
                attribute, value = "user_id", user_id
            elif session_id:
                attribute, value = "session_id", session_id
            else:
                attribute, value = None, None
            want = forced.get(exp.key)
            index = -1
            if want is not None:
                index = exp.index.get(want, -1)
                if index < 0:
                    notes.append(f"experiment {exp.key}: forced variant {want!r} is unknown")
            if index >= 0:
                is_forced = True
            else:
                is_forced = False
                if not exp.enabled:
                    continue
                if value is None:
                    notes.append(f"experiment {exp.key}: no user_id or session_id to hash")
                    continue
                if exp.namespace is not None and not in_range(value, *exp.namespace):
                    continue
                if exp.predicate is not None and (
                    facts is None or not exp.predicate(facts, evaluation)
                ):
                    continue
                n = bucket_from(exp.seed_state, value)
                for i, (start, end) in enumerate(exp.ranges):
                    if start <= n < end:
                        index = i
                        break
                else:
                    continue
            name = exp.variants[index]
            variants[exp.key] = name
            in_holdout = exp.holdout[index]
            holdout = holdout or in_holdout
            if exp.overrides[index]:
                key.append((exp.key, name))
            exposures.append(Exposure(exp.key, name, attribute, value, is_forced, in_holdout))
        if forced:  # QA traffic only: the set of keys is built when something is forced
            known = set(self.keys)
            unknown = [name for name in forced if name not in known]
            notes.extend(f"forced experiment {name!r} is unknown" for name in unknown[:5])
            if len(unknown) > 5:  # a header may name thousands: the trace stays short
                notes.append(f"{len(unknown) - 5} more forced experiments are unknown")
        if not variants and not notes:
            return _EMPTY
        return Assignment(
            variants=MappingProxyType(variants),
            holdout=holdout,
            config_key=tuple(key),
            exposures=tuple(exposures),
            notes=tuple(notes),
        )

    def config_for(self, assignment: Assignment) -> PersonalizerConfig:
        """The configuration an assignment selects (the base when nothing overrides)."""
        return self.configs[assignment.config_key]


def compile_experiments(
    config: PersonalizerConfig,
    compile_condition: ConditionCompiler | None = None,
    *,
    known_weights: Collection[str] = (),
) -> ExperimentPlan:
    """Compile the ``experiments`` section of a configuration, once, at load.

    Args:
        config: The validated configuration.
        compile_condition: Compiles a targeting condition at its path into a predicate
            over facts; required when some experiment has a ``when``.

    Returns:
        The :class:`ExperimentPlan`, with every variant's configuration validated.

    Raises:
        ConfigError: Every problem of every experiment: invalid conditions, weights that
            sum to 0, invalid override paths or values, too many combinations.
    """
    problems: list[Problem] = []
    compiled: list[_Compiled] = []
    single: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    configs: dict[ConfigKey, PersonalizerConfig] = {(): config}
    for i, exp in enumerate(config.experiments):
        where = f"experiments[{i}]"
        predicate = None
        problems.extend(segment_tests(exp.when, f"{where}.when"))
        if exp.when:
            if compile_condition is None:
                problems.append(Problem(f"{where}.when", "no condition compiler was given"))
            else:
                try:
                    predicate = compile_condition(exp.when, f"{where}.when")
                except ConfigError as exc:
                    problems.extend(exc.problems)
        total = sum(v.weight for v in exp.variants)
        if total <= 0 or not math.isfinite(total):
            what = "sum to 0" if total <= 0 else "are too large to add up"
            problems.append(Problem(f"{where}.variants", f"the variant weights {what}"))
            total = 1.0
        shares = [v.weight / total for v in exp.variants]
        for j, variant in enumerate(exp.variants):
            if not variant.overrides:
                continue
            path = f"{where}.variants[{j}].overrides"
            try:
                configs[((exp.key, variant.key),)] = apply_overrides(
                    config, variant.overrides, path=path, known_weights=known_weights
                )
            except ConfigError as exc:
                problems.extend(exc.problems)
            single[(exp.key, variant.key)] = list(variant.overrides.items())
        ns = exp.namespace
        compiled.append(
            _Compiled(
                key=exp.key,
                seed_state=fnv1a32(exp.seed if exp.seed is not None else exp.key),
                by_user=exp.hash_attribute == "user_id",
                enabled=exp.enabled,
                predicate=predicate,
                namespace=(ns.id, ns.start, ns.end) if ns is not None else None,
                shares=tuple(shares),
                ranges=bucket_ranges(shares, exp.traffic),
                variants=tuple(v.key for v in exp.variants),
                holdout=tuple(v.holdout for v in exp.variants),
                overrides=tuple(bool(v.overrides) for v in exp.variants),
                index=MappingProxyType({v.key: j for j, v in enumerate(exp.variants)}),
            )
        )
    if problems:
        raise ConfigError(problems)
    problems.extend(_combine(config, compiled, single, configs, known_weights))
    if problems:
        raise ConfigError(problems)
    settings = config.settings
    return ExperimentPlan(
        base=config,
        configs=MappingProxyType(configs),
        force_param=settings.force_variant_param if settings.allow_forced_variants else None,
        force_header=force_header_name(settings.force_variant_param).lower(),
        _experiments=tuple(compiled),
    )


_SEGMENTS = (
    "experiments are assigned before segments are computed, so targeting cannot test "
    "segments; write the segment's condition here"
)


def segment_tests(condition: Any, where: str) -> list[Problem]:
    """Where an experiment's targeting ``condition`` tests segments (``$inSegment``,
    ``segments``): experiments are assigned before the segments are computed, so such a
    test would silently enroll nobody. The walk follows ``$and``/``$or``/``$nor``/``$not``
    iteratively, in document order."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str]] = [(condition, where)]
    while stack:
        node, here = stack.pop()
        if not isinstance(node, Mapping):
            continue
        later: list[tuple[Any, str]] = []
        for key, value in node.items():
            path = f"{here}.{key}"
            if key == "$inSegment" or key == "segments" or str(key).startswith("segments."):
                problems.append(Problem(path, _SEGMENTS))
            elif key in ("$and", "$or", "$nor") and isinstance(value, list):
                later += [(item, f"{path}[{i}]") for i, item in enumerate(value)]
            elif key == "$not":
                later.append((value, path))
        stack.extend(reversed(later))
    return problems


def _combine(
    config: PersonalizerConfig,
    compiled: list[_Compiled],
    single: Mapping[tuple[str, str], list[tuple[str, Any]]],
    configs: dict[ConfigKey, PersonalizerConfig],
    known_weights: Collection[str],
) -> list[Problem]:
    """Build the configuration of every combination of two or more overriding variants."""
    choices: list[list[tuple[str, str] | None]] = []
    for exp in compiled:
        overriding = [
            (exp.key, name) for name, o in zip(exp.variants, exp.overrides, strict=True) if o
        ]
        if overriding:
            choices.append([None, *overriding])
    count = 1
    for options in choices:
        count *= len(options)
    if count > MAX_COMBINATIONS:
        return [
            Problem(
                "experiments",
                f"{count} combinations of overriding variants; at most {MAX_COMBINATIONS}"
                " can be compiled (merge experiments or move overrides into fewer variants)",
            )
        ]
    problems: list[Problem] = []
    for combo in itertools.product(*choices):
        key: ConfigKey = tuple(c for c in combo if c is not None)
        if len(key) < 2:
            continue
        pairs = [pair for variant in key for pair in single[variant]]
        label = " + ".join(f"{e}:{v}" for e, v in key)
        try:
            configs[key] = apply_overrides(
                config, pairs, path=f"experiments({label}).overrides", known_weights=known_weights
            )
        except ConfigError as exc:
            problems.extend(exc.problems)
    return problems

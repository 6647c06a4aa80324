"""The compiled segments and merchandising rules of one configuration.

``RuleSet.compile(config)`` checks and compiles everything once, raising one
:class:`~personalize.errors.ConfigError` with every problem. ``evaluate(facts)`` then runs
per request: segments first (in dependency order, so a segment may be defined on others),
then rules by priority, and returns the matched segments, the fired rules, their actions
and a trace of every condition.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import Any

from pydantic import ValidationError

from personalize._plugin_parts import BUILTIN, ErrorSink
from personalize._registry import Registry
from personalize.config import DEFAULT_WEIGHTS, PersonalizerConfig, format_path
from personalize.context import FACT_SCHEMA
from personalize.context._model import OPEN_PATHS
from personalize.errors import ConfigError, Problem
from personalize.rules._action_compiler import ActionCompiler
from personalize.rules._actions import Action
from personalize.rules._builtins import builtin_registry
from personalize.rules._compiler import CompiledCondition, ConditionCompiler
from personalize.rules._dates import now_of
from personalize.rules._guards import Gather, GuardIndex
from personalize.rules._nodes import CondNode, Evaluation
from personalize.rules._trace import Trace, TraceEntry
from personalize.schedule import Window, compile_window, store_zone, visitor_zone

__all__ = ["RuleOutcome", "RuleSet"]


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """What the rules decided for one request.

    Attributes:
        segments: The segments the request falls in.
        fired: Ids of the rules that fired, in priority order.
        actions: Their actions, in the same order.
        trace: Every condition's result (and why a false one failed).
        facts: The facts the rules read, with ``segments`` (the matched ids, sorted):
            what the later stages (landing, offers) evaluate their conditions on.
    """

    segments: frozenset[str]
    fired: tuple[str, ...]
    actions: tuple[Action, ...]
    trace: Trace
    facts: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    condition: CompiledCondition
    placements: frozenset[str] | None
    window: Window | None
    stop: bool
    enabled: bool
    actions: tuple[Action, ...]
    timed_actions: bool
    channels: frozenset[str] | None = None


class RuleSet:
    """Compiled segments and rules; build with :meth:`compile`."""

    def __init__(
        self,
        segments: tuple[tuple[str, CompiledCondition], ...],
        rules: tuple[_Rule, ...],
    ) -> None:
        self._segments = segments
        self._rules = rules
        # Only the rules whose guards hold run (see personalize.rules._guards); the
        # switches, placements and channels are masks over the rules too.
        self._guards = GuardIndex([rule.condition for rule in rules])
        self._open_masks: dict[tuple[str | None, str], int] = {}
        # Rules with a window, a residual condition or a stop are looked at one by one;
        # the others fire as soon as their guards hold.
        residuals = self._guards.residuals
        self._special = sum(
            1 << i
            for i, rule in enumerate(rules)
            if rule.window is not None or residuals[i] is not None or rule.stop
        )
        self._positions = Gather([(i,) for i in range(len(rules))])
        self._ids = Gather([(rule.id,) for rule in rules])
        self._actions = Gather([rule.actions for rule in rules])

    def _open(self, placement: str | None, channel: str) -> int:
        """The rules switched on, for ``placement`` and for ``channel``, as a bit mask."""
        key = (placement, channel)
        mask = self._open_masks.get(key)
        if mask is None:
            mask = sum(
                1 << i
                for i, rule in enumerate(self._rules)
                if _gate(rule, placement, channel) is None
            )
            if len(self._open_masks) < _MAX_GATE_KEYS:
                self._open_masks[key] = mask
        return mask

    @property
    def segment_ids(self) -> tuple[str, ...]:
        """Segment ids in evaluation (dependency) order."""
        return tuple(name for name, _ in self._segments)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Rule ids in evaluation order (priority, then file order)."""
        return tuple(rule.id for rule in self._rules)

    @classmethod
    def compile(
        cls,
        config: PersonalizerConfig | Mapping[str, Any],
        *,
        registry: Registry | None = None,
        schema: Mapping[str, str] | None = None,
    ) -> RuleSet:
        """Check and compile the segments and rules of ``config``.

        Args:
            config: A validated configuration (or a mapping, validated here).
            registry: Operators and actions (default: the built-ins).
            schema: Fact paths and kinds (default: the context's plus the registry's facts).

        Raises:
            ConfigError: Every problem found, each with its path.
        """
        if not isinstance(config, PersonalizerConfig):
            config = _validate(config)
        registry = registry if registry is not None else builtin_registry()
        if schema is None:
            schema = {**FACT_SCHEMA, **registry.fact_schema}
        compiler = ConditionCompiler(
            schema=schema,
            open_paths=OPEN_PATHS,
            registry=registry,
            segments=config.segments.keys(),
        )
        problems = compiler.problems
        store = store_zone(config.settings.timezone, problems)
        segments = _compile_segments(config, compiler)
        weights = {*DEFAULT_WEIGHTS, *registry.scorers, *registry.candidate_sources}
        rules: list[_Rule] = []
        seen: set[str] = set()
        for i, rule in enumerate(config.rules):
            where = f"rules[{i}]"
            if rule.id in seen:
                problems.append(Problem(f"{where}.id", f"duplicate rule id {rule.id!r}"))
            seen.add(rule.id)
            condition = compiler.compile_full(rule.when, f"{where}.when")
            actions, timed = _compile_actions(
                rule.then, rule.id, where, compiler, registry, weights
            )
            window = compile_window(
                rule.active, store=store, path=f"{where}.active", problems=problems
            )
            placements = frozenset(rule.placements) if rule.placements is not None else None
            rules.append(
                _Rule(rule.id, condition, placements, window, rule.stop, rule.enabled,
                      actions, timed,
                      frozenset(rule.channels) if rule.channels is not None else None)
            )  # fmt: skip
        if problems:
            raise ConfigError(problems)
        order = sorted(range(len(rules)), key=lambda i: (-config.rules[i].priority, i))
        return cls(segments, tuple(rules[i] for i in order))

    def evaluate(
        self,
        facts: Mapping[str, Any],
        *,
        placement: str | None = None,
        now: datetime | None = None,
        on_error: ErrorSink | None = None,
        channel: str = "web",
    ) -> RuleOutcome:
        """Evaluate segments, then rules, against one request's facts.

        ``facts`` is left as it is; the outcome's :attr:`~RuleOutcome.facts` are a copy
        with the matched segment ids (sorted) under ``segments``.

        Args:
            facts: The request's facts (``Context.facts()`` plus plugin facts).
            placement: Where the result shows; rules limited to other placements are
                skipped, and without a placement only rules for every placement apply.
            now: The request time, for active windows and relative dates (default: the
                ``now`` fact, else ``time.local``, else the current time).
            on_error: Also receives every plugin error (they are in the trace anyway).
            channel: Where the decision goes out (``web``, ``email``); rules limited to
                other channels are skipped.
        """
        matched: list[str] = []
        facts = {**facts, "segments": matched}  # segments may be defined on segments
        if now is None:
            now = now_of(facts) or datetime.now(UTC)
        trace = Trace(facts, now)
        note = trace.note
        errors: list[tuple[int, Exception, str]] = []  # (rule position, exception, label)
        at = [-1]  # the position of the rule being evaluated; -1 for the segments

        def report(exc: Exception, label: str) -> None:
            if at[0] < 0:
                trace.error(exc, label)
            else:
                errors.append((at[0], exc, label))
            if on_error is not None:
                on_error(exc, label)

        ev = Evaluation(now, report)
        for name, seg in self._segments:
            ok = seg.predicate(facts, ev)
            if ok:
                matched.append(name)
            note("segment", name, ok, seg.node)
        facts["segments"] = sorted(matched)
        visitor = visitor_zone(facts)
        rules = self._rules
        residuals = self._guards.residuals
        held = self._guards.candidates(facts, self._open(placement, channel))
        end = len(rules)
        special = held & self._special
        if special:
            for i in self._positions(special):
                rule = rules[i]
                if rule.window is not None and not rule.window.is_open(now, visitor):
                    held ^= 1 << i
                    continue
                residual = residuals[i]
                if residual is not None:
                    at[0] = i
                    if not residual(facts, ev):
                        held ^= 1 << i
                        continue
                if rule.stop:
                    end = i + 1
                    held &= (1 << end) - 1
                    break
        trace.defer(partial(self._steps, held, end, placement, channel, now, visitor, errors))
        return RuleOutcome(
            frozenset(matched),
            tuple(self._ids(held)),
            tuple(self._actions(held)),
            trace,
            facts,
        )

    def _steps(
        self,
        held: int,
        end: int,
        placement: str | None,
        channel: str,
        now: datetime,
        visitor: tzinfo | None,
        errors: list[tuple[int, Exception, str]],
    ) -> list[TraceEntry | tuple[str, str, bool, CondNode | None, str | None]]:
        """The trace of the rules of one evaluation, rebuilt when the trace is read: each
        rule up to the one that stopped it, skipped (and why), true or false, with the
        errors of plugins where they happened."""
        raised: dict[int, list[TraceEntry]] = {}
        for i, exc, label in errors:
            raised.setdefault(i, []).append(TraceEntry("error", label, False, error=exc))
        steps: list[TraceEntry | tuple[str, str, bool, CondNode | None, str | None]] = []
        for i, rule in enumerate(self._rules[:end]):
            steps.extend(raised.get(i, ()))
            skipped = _gate(rule, placement, channel)
            window = rule.window
            if skipped is None and window is not None and not window.is_open(now, visitor):
                skipped = "inactive"
            if skipped is not None:
                steps.append(("rule", rule.id, False, None, skipped))
            else:
                steps.append(("rule", rule.id, bool(held >> i & 1), rule.condition.node, None))
        return steps


#: The most (placement, channel) pairs whose masks a rule set remembers.
_MAX_GATE_KEYS = 256


def _gate(rule: _Rule, placement: str | None, channel: str) -> str | None:
    """Why ``rule`` is skipped whatever the facts (switched off, placement, channel)."""
    if not rule.enabled:
        return "disabled"
    if rule.placements is not None and placement not in rule.placements:
        return "placement"
    if rule.channels is not None and channel not in rule.channels:
        return "channel"
    return None


def _validate(data: Mapping[str, Any]) -> PersonalizerConfig:
    from personalize.config import load_config

    return load_config(data)


def _compile_segments(
    config: PersonalizerConfig, compiler: ConditionCompiler
) -> tuple[tuple[str, CompiledCondition], ...]:
    compiled = {
        name: compiler.compile_full(cond, f"segments.{name}")
        for name, cond in config.segments.items()
    }
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(name: str, chain: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*chain[chain.index(name) :], name]
            compiler.problems.append(
                Problem(f"segments.{name}", "segment cycle: " + " -> ".join(cycle))
            )
            return
        state[name] = 1
        for dep in sorted(compiled[name].segments):
            if dep in compiled:
                visit(dep, [*chain, name])
        state[name] = 2
        order.append(name)

    for name in compiled:
        visit(name, [])
    return tuple((name, compiled[name]) for name in order)


def _compile_actions(
    then: list[dict[str, Any]],
    rule_id: str,
    where: str,
    compiler: ConditionCompiler,
    registry: Registry,
    weights: set[str],
) -> tuple[tuple[Action, ...], bool]:
    actions: list[Action] = []
    timed = False
    for j, entry in enumerate(then):
        here = f"{where}.then[{j}]"
        if not isinstance(entry, Mapping) or len(entry) != 1:
            compiler.problems.append(
                Problem(here, "an action is a one-key mapping such as {boost: {...}}")
            )
            continue
        ((name, body),) = entry.items()
        spec = registry.actions.get(name)
        if spec is None:
            close = difflib.get_close_matches(str(name), list(registry.actions), n=1)
            compiler.problems.append(
                Problem(f"{here}.{name}", "unknown action", close[0] if close else None)
            )
            continue
        try:
            model = spec.spec_model.model_validate(body)
        except ValidationError as exc:
            for err in exc.errors():
                loc = format_path((f"{here}.{name}", *err["loc"]))
                message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
                compiler.problems.append(Problem(loc, message.removeprefix("Value error, ")))
            where_ = body.get("where") if isinstance(body, Mapping) else None
            if isinstance(where_, Mapping):  # still check its selector, to report it too
                compiler.compile_full(where_, f"{here}.{name}.where", selector=True)
            continue
        except Exception as exc:  # a plugin's validator raising other than ValueError
            if spec.plugin == BUILTIN:
                raise
            failed = f"action {name} ({spec.plugin}) failed: {type(exc).__name__}: {exc}"
            compiler.problems.append(Problem(f"{here}.{name}", failed))
            continue
        action_compiler = ActionCompiler(compiler, f"{here}.{name}", weights)
        if spec.plugin == BUILTIN:
            built = spec.build(model, rule_id, action_compiler)
        else:  # a plugin's build may raise or return anything: a problem like the others
            try:
                built = spec.build(model, rule_id, action_compiler)
            except Exception as exc:
                failed = f"action {name} ({spec.plugin}) failed: {type(exc).__name__}: {exc}"
                compiler.problems.append(Problem(f"{here}.{name}", failed))
                continue
            if not isinstance(built, Action):
                wrong = f"action {name} ({spec.plugin}) built {type(built).__name__}, not an action"
                compiler.problems.append(Problem(f"{here}.{name}", wrong))
                continue
        actions.append(built)
        timed = timed or action_compiler.needs_now
    return tuple(actions), timed

"""Rule actions over product selectors: boosts and buries in one pass, filters, excludes.

:class:`Boosts` keeps what every request of a ranker shares: each ``where:`` selector
compiled once (:class:`~personalize.ranking._selectors.Selector`), one
:class:`~personalize.ranking._selectors.GuardIndex` numbering the exact guards and
remembering which of them each product matches, and a plan per combination of fired boosts.
A request then costs a tuple lookup per candidate and a multiplication per matched boost.
All of it is filled idempotently, so concurrent requests may share it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from typing import Any

from personalize.catalog import Catalog
from personalize.ranking._selectors import BoostTable, GuardIndex, Selector, guard_key
from personalize.rules import Boost, Predicate

__all__ = ["Boosts"]

#: Compiled selectors kept (rule sets compile a few hundred; more means per-request
#: ``where`` closures, which are then compiled again).
_SELECTOR_LIMIT = 4096
#: Combinations of fired boosts whose merged selectors are kept.
_PLAN_LIMIT = 1024


class _BoostPlan:
    """The boosts of one combination of fired rules, their selectors merged into a table."""

    __slots__ = ("_template", "boosts", "factors", "heads", "rule_ids", "table")

    def __init__(self, boosts: tuple[Boost, ...], table: BoostTable) -> None:
        self.boosts = boosts  # holds them: their ids key the plan
        self.table = table
        self.factors = tuple(b.by for b in boosts)
        self.rule_ids = tuple(b.rule_id for b in boosts)
        heads = [f"{b.kind} {b.rule_id} x{b.by:g}: " for b in boosts]
        self.heads = tuple(heads)
        # All the trace lines as one format, filled at once (unless an id holds a newline).
        self._template = (
            None
            if any("\n" in head for head in heads)
            else "\n".join(head.replace("%", "%%") + "%d products" for head in heads)
        )

    def lines(self, counts: Mapping[int, int]) -> list[str]:
        """The trace lines: how many products each boost moved."""
        numbers = tuple(counts.get(i, 0) for i in range(len(self.heads)))
        if self._template is None:
            return [f"{head}{n} products" for head, n in zip(self.heads, numbers, strict=True)]
        return (self._template % numbers).split("\n")


def _no_rules(pid: str) -> tuple[tuple[str, ...], float]:
    return (), 1.0


class Boosts:
    """Selectors, guards and boost plans shared by the requests of one ranker.

    Args:
        catalog: The products the selectors read.
    """

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._selectors: dict[Predicate, Selector] = {}
        self._plans: dict[tuple[int, ...], _BoostPlan] = {}
        self._guards = GuardIndex()

    def selector(self, where: Predicate, condition: Mapping[str, Any] | None) -> Selector:
        """The compiled selector of ``where`` (built once per predicate)."""
        selector = self._selectors.get(where)
        if selector is None:
            if len(self._selectors) >= _SELECTOR_LIMIT:
                self._selectors.clear()
            selector = self._selectors[where] = Selector(where, condition, self._catalog)
        return selector

    def apply(
        self,
        candidates: Sequence[str],
        scores: dict[str, float],
        boosts: tuple[Boost, ...],
        trace: list[str],
    ) -> Callable[[str], tuple[tuple[str, ...], float]]:
        """Apply every ``Boost``/``Bury`` in one pass; return what moved a product.

        Each product's score is multiplied by the factors of the boosts whose selectors it
        matches, in action order. The returned function gives a product's rule ids and the
        product of its factors; it is only called for the products shown.
        """
        if not boosts:
            return _no_rules
        plan = self._plan(boosts)
        factors = plan.factors
        matched = dict(plan.table.match_all(candidates, self._catalog.ids))
        for pid, hits in matched.items():
            score = scores[pid]
            for i in hits:
                score *= factors[i]
            scores[pid] = score
        trace += plan.lines(Counter(chain.from_iterable(matched.values())))
        rule_ids = plan.rule_ids

        def moved(pid: str) -> tuple[tuple[str, ...], float]:
            hits = matched.get(pid)
            if not hits:
                return (), 1.0
            factor = 1.0
            for i in hits:
                factor *= factors[i]
            return tuple(rule_ids[i] for i in hits), factor

        return moved

    def _plan(self, boosts: tuple[Boost, ...]) -> _BoostPlan:
        """The merged selectors of these boosts, built once per combination of boosts.

        The plan is keyed by the identities of the boosts and holds them, so a key can
        never name other objects while it is stored. Exact guards are numbered in one
        :class:`GuardIndex` shared by all plans, which remembers what each product matches;
        a guard never seen before makes a bigger index (and drops the plans of the old one).
        """
        key = tuple(map(id, boosts))
        plan = self._plans.get(key)
        if plan is None:
            selectors = [self.selector(b.where, b.where_spec) for b in boosts]
            guards = self._guards
            keys = [guard_key(s) for s in selectors]
            new = [k for k in keys if k is not None and k not in guards.numbers]
            if new:
                guards = self._guards = guards.with_guards(new)
                self._plans = {}
            plan = _BoostPlan(boosts, BoostTable(selectors, guards))
            if len(self._plans) >= _PLAN_LIMIT:
                self._plans.clear()
            self._plans[key] = plan
        return plan

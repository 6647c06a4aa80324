"""The ranking's steps after the score: plugin actions, diversity, pins.

Each is a function of the request (and the catalog), called by
:meth:`personalize.ranking.Ranker.rank` in the order its module docstring gives.
"""

from __future__ import annotations

from collections.abc import Sequence

from personalize._plugin_parts import ErrorSink, guarded
from personalize.config import DiversityConfig
from personalize.ranking._types import RankingInput, Recommendation
from personalize.rules import Action, Pin, PluginAction

__all__ = ["diversify", "pinned_products", "run_plugin_action"]

#: What a failing plugin action gives: the ranking stays as it was.
_FAILED: list[Recommendation] = []


def run_plugin_action(
    action: PluginAction,
    ranked: list[Recommendation],
    report: ErrorSink,
    trace: list[str],
) -> list[Recommendation]:
    """A plugin action's reordering of ``ranked``, kept to products already there, once
    each; a failing or absent action, or one answering with no list, leaves the list as
    it was."""
    if action.apply is None:
        trace.append(f"plugin action {action.name} ({action.rule_id}): nothing to apply")
        return ranked
    allowed = {rec.product_id for rec in ranked}
    label = f"action {action.name} (rule {action.rule_id})"
    out = guarded(action.apply, label, _FAILED)(report, list(ranked), action.spec)
    if out is _FAILED:
        return ranked
    if not isinstance(out, list):  # None (sorted in place?), a tuple, a generator ...
        report(TypeError(f"returned {type(out).__name__}, not a list"), label)
        return ranked
    cleaned: list[Recommendation] = []
    seen: set[str] = set()
    for rec in out:
        ok = isinstance(rec, Recommendation) and rec.product_id in allowed
        if ok and rec.product_id not in seen:
            seen.add(rec.product_id)
            cleaned.append(rec)
    trace.append(f"plugin action {action.name} ({action.rule_id}): {len(cleaned)} products")
    return cleaned


def diversify(
    leaves: Sequence[int],
    brands: Sequence[int],
    diversity: DiversityConfig,
    limit: int,
    trace: list[str],
) -> list[int]:
    """The first ``limit`` places of an order keeping at most N per leaf category and per
    brand, given each place's category and brand code (``-1``: none)."""
    max_cat, max_brand = diversity.max_per_category, diversity.max_per_brand
    if max_cat is None and max_brand is None:
        return list(range(min(limit, len(leaves))))
    per_cat: dict[int, int] = {}
    per_brand: dict[int, int] = {}
    chosen: list[int] = []
    skipped = 0
    for place, (cat, brand) in enumerate(zip(leaves, brands, strict=True)):
        if len(chosen) >= limit:
            break
        if max_cat is not None and cat >= 0 and per_cat.get(cat, 0) >= max_cat:
            skipped += 1
            continue
        if max_brand is not None and brand >= 0 and per_brand.get(brand, 0) >= max_brand:
            skipped += 1
            continue
        if cat >= 0:
            per_cat[cat] = per_cat.get(cat, 0) + 1
        if brand >= 0:
            per_brand[brand] = per_brand.get(brand, 0) + 1
        chosen.append(place)
    if skipped:
        trace.append(f"diversity: skipped {skipped} over a category or brand cap")
    return chosen


def pinned_products(
    actions: Sequence[Action], request: RankingInput, trace: list[str]
) -> list[tuple[str, int, str]]:
    """The ``Pin``s' products with their 1-based positions and rule ids, by position (in
    action order on one position); unknown, out-of-stock, repeated and anchor products are
    skipped (and traced)."""
    pins: list[tuple[str, int, str]] = []
    seen: set[str] = set()
    for action in actions:
        if not isinstance(action, Pin):
            continue
        offset = 0
        for pid in action.products:
            product = request.catalog.get(pid)
            if pid in seen:
                trace.append(f"pin {action.rule_id}: skipped {pid} (already pinned)")
                continue
            if product is None or not product.in_stock:
                trace.append(f"pin {action.rule_id}: skipped {pid} (unknown or out of stock)")
                continue
            if pid in request.anchors:
                trace.append(f"pin {action.rule_id}: skipped {pid} (viewed or in the cart)")
                continue
            seen.add(pid)
            pins.append((pid, max(action.position, 1) + offset, action.rule_id))
            offset += 1
        trace.append(f"pin {action.rule_id}: {offset} products at {action.position}")
    pins.sort(key=lambda pin: pin[1])
    return pins

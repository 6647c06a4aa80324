"""The ranking's steps around the score: hard exclusions, plugin actions, diversity, pins.

Each is a function of the request (and the catalog), called by
:meth:`personalize.ranking.Ranker.rank` in the order its module docstring gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from personalize._plugin_parts import ErrorSink, guarded
from personalize.catalog import Catalog
from personalize.config import DiversityConfig
from personalize.ranking._types import RankingInput, Recommendation
from personalize.rules import Action, Pin, PluginAction

__all__ = ["diversify", "exclude", "pinned_products", "purchased", "run_plugin_action"]

#: What a failing plugin action gives: the ranking stays as it was.
_FAILED: list[Recommendation] = []


def exclude(proposed: Mapping[str, Any], request: RankingInput, trace: list[str]) -> list[str]:
    """The proposed products that may be shown: known, in stock, not an anchor, and not
    a purchase to leave out. Each excluded product is counted under its first reason."""
    ids = proposed.keys()
    unknown = {pid for pid in ids if pid not in request.catalog}  # the candidates only
    out_of_stock = set(ids).intersection(request.catalog.out_of_stock)
    anchored = (ids & set(request.anchors)) - unknown - out_of_stock
    bought, window, cutoff = purchased(request)
    bought = (ids & bought) - unknown - out_of_stock - anchored
    dropped = unknown | out_of_stock | anchored | bought
    kept = [pid for pid in proposed if pid not in dropped] if dropped else list(proposed)
    for count, what in (
        (len(unknown), "unknown products (not in the catalog)"),
        (len(out_of_stock), "out of stock"),
        (len(anchored), "the product viewed or in the cart"),
        (len(bought), "already purchased" + (f" (last {window:g} days)" if cutoff else "")),
    ):
        if count:
            trace.append(f"excluded {count} {what}")
    return kept


def purchased(request: RankingInput) -> tuple[set[str], float | None, datetime | None]:
    """The purchases to leave out, the repurchase window and its start."""
    window = request.config.repurchase_window_days
    cutoff = (
        request.now - timedelta(days=window)
        if window is not None and request.now is not None
        else None
    )
    if not request.config.exclude_purchased:
        return set(), window, cutoff
    history = request.context.history
    last = history.last_purchased
    bought = set(history.purchase_counts)
    bought.update(history.purchases)
    if cutoff is not None:
        bought = {pid for pid in bought if (at := last.get(pid)) is None or at >= cutoff}
    return bought, window, cutoff


def run_plugin_action(
    action: PluginAction,
    ranked: list[Recommendation],
    report: ErrorSink,
    trace: list[str],
) -> list[Recommendation]:
    """A plugin action's reordering of ``ranked``, kept to products already there, once
    each; a failing or absent action leaves the list as it was."""
    if action.apply is None:
        trace.append(f"plugin action {action.name} ({action.rule_id}): nothing to apply")
        return ranked
    allowed = {rec.product_id for rec in ranked}
    label = f"action {action.name} (rule {action.rule_id})"
    out = guarded(action.apply, label, _FAILED)(report, list(ranked), action.spec)
    if out is _FAILED:
        return ranked
    cleaned: list[Recommendation] = []
    seen: set[str] = set()
    for rec in out if isinstance(out, list) else []:
        ok = isinstance(rec, Recommendation) and rec.product_id in allowed
        if ok and rec.product_id not in seen:
            seen.add(rec.product_id)
            cleaned.append(rec)
    trace.append(f"plugin action {action.name} ({action.rule_id}): {len(cleaned)} products")
    return cleaned


def diversify(
    catalog: Catalog, diversity: DiversityConfig, order: list[str], limit: int, trace: list[str]
) -> list[str]:
    """The first ``limit`` of ``order`` keeping at most N per leaf category and per brand."""
    max_cat, max_brand = diversity.max_per_category, diversity.max_per_brand
    if max_cat is None and max_brand is None:
        return order[:limit]
    per_cat: dict[str, int] = {}
    per_brand: dict[str, int] = {}
    chosen: list[str] = []
    skipped = 0
    for pid in order:
        if len(chosen) >= limit:
            break
        product = catalog.get(pid)
        cat = product.leaf_category if product is not None else None
        brand = product.brand if product is not None else None
        if max_cat is not None and cat is not None and per_cat.get(cat, 0) >= max_cat:
            skipped += 1
            continue
        if max_brand is not None and brand is not None and per_brand.get(brand, 0) >= max_brand:
            skipped += 1
            continue
        if cat is not None:
            per_cat[cat] = per_cat.get(cat, 0) + 1
        if brand is not None:
            per_brand[brand] = per_brand.get(brand, 0) + 1
        chosen.append(pid)
    if skipped:
        trace.append(f"diversity: skipped {skipped} over a category or brand cap")
    return chosen


def pinned_products(
    actions: Sequence[Action], request: RankingInput, trace: list[str]
) -> list[tuple[str, int, str]]:
    """The ``Pin``s' products with their 1-based positions and rule ids, by position;
    unknown, out-of-stock, repeated and anchor products are skipped (and traced)."""
    pins: list[tuple[str, int, str]] = []
    seen: set[str] = set()
    for action in actions:
        if not isinstance(action, Pin):
            continue
        offset = 0
        for pid in action.products:
            product = request.catalog.get(pid)
            if pid in seen or product is None or not product.in_stock:
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

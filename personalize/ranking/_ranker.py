"""The ranker: candidates, features, weighted score, rule actions, diversity, top-k.

One request runs, in this order:

1. weights: configured, then the call's ``weights``, then ``SetWeights`` actions;
2. candidate sources (built-in, then plugins) propose products with feature values;
3. hard exclusions: unknown and out-of-stock products, the anchors themselves, and purchases
   when ``exclude_purchased`` (within ``repurchase_window_days``);
4. ``Filter`` and ``Exclude`` actions;
5. scorers fill the lookup features; ``score = sum(weight[f] * feature[f])``;
6. ``Boost``/``Bury`` multiply the score of matching products;
7. sort by score descending, then product id ascending (the tie-break);
8. ``PluginAction``s reorder or drop;
9. diversity: at most N per leaf category and per brand;
10. ``Pin``s put their products at fixed positions; the list is cut to ``limit``.

The work is proportional to the number of candidates (a few hundred), never to the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from personalize.catalog import Catalog
from personalize.config import RankingConfig
from personalize.context import Context
from personalize.ranking._index import InteractionIndex
from personalize.ranking._selectors import Selector, SelectorTable
from personalize.ranking._sources import (
    BUILTIN_SCORERS,
    BUILTIN_SOURCES,
    SOURCE_LEVELS,
    NewArrivals,
    arrival_score,
    epoch_us,
)
from personalize.ranking._types import (
    CandidateSource,
    Ranking,
    RankingInput,
    Recommendation,
    Scorer,
)
from personalize.rules import (
    Action,
    Boost,
    Exclude,
    Filter,
    Pin,
    PluginAction,
    Predicate,
    SetWeights,
)

__all__ = ["CASCADE", "Ranker"]

#: The cold-start cascade, most personal first.
CASCADE = ("personal", "session", "geo", "global")

#: Weight of a plugin feature that no configuration names.
PLUGIN_DEFAULT_WEIGHT = 1.0
#: Compiled selectors a ranker keeps (rule sets compile a few hundred; more means
#: per-request ``where`` closures, which are then recompiled).
_SELECTOR_LIMIT = 4096
#: Products whose creation time a ranker keeps, as integer microseconds.
_CREATED_LIMIT = 500_000


class Ranker:
    """Ranks products for one request from a catalog, an interaction index and weights.

    Args:
        catalog: The products that may be recommended.
        index: The interaction index built from all customers' events.
        config: Weights, exclusions, diversity and candidate budgets.
        scorers: Extra scorers by feature name (plugins); they run after the built-ins.
        sources: Extra candidate sources by feature name (plugins).

    A ranker is immutable and thread-safe; build a new one to change its configuration.
    """

    def __init__(
        self,
        catalog: Catalog,
        index: InteractionIndex,
        config: RankingConfig | None = None,
        *,
        scorers: Mapping[str, Scorer] | None = None,
        sources: Mapping[str, CandidateSource] | None = None,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.config = config if config is not None else RankingConfig()
        self._weights = self.config.effective_weights()
        builtin: dict[str, CandidateSource] = dict(BUILTIN_SOURCES)
        builtin["new_arrival"] = NewArrivals(catalog)
        self._sources: list[tuple[str, CandidateSource, bool]] = [
            (name, source, False) for name, source in builtin.items()
        ]
        self._sources += [(name, src, True) for name, src in sorted((sources or {}).items())]
        dated = any(product.created_at is not None for product in catalog)
        self._scorers: list[tuple[str, Scorer, bool]] = [
            (name, scorer, False)
            for name, scorer in BUILTIN_SCORERS.items()
            if dated or name != "new_arrival"  # nothing to score in an undated catalog
        ]
        self._scorers += [(name, sc, True) for name, sc in sorted((scorers or {}).items())]
        self._plugin_features = {
            name for name, _, plugin in self._sources + self._scorers if plugin
        }
        self._selectors: dict[Predicate, Selector] = {}
        self._created: dict[str, int | None] = {}

    # -- the request path ---------------------------------------------------------------

    def rank(
        self,
        context: Context,
        *,
        placement: str = "home",
        limit: int = 10,
        product_id: str | None = None,
        actions: Sequence[Action] = (),
        weights: Mapping[str, float] | None = None,
    ) -> Ranking:
        """Rank products for ``context``; never raises on request or history data.

        Args:
            context: The resolved request context.
            placement: Where the products show; ``pdp`` and ``cart`` add complements of
                ``product_id`` and of the cart.
            limit: How many products to return.
            product_id: The product being viewed (``pdp``); it is never recommended.
            actions: Compiled rule actions of the rules that fired, in rule order.
            weights: Weight overrides for this call (an experiment variant ...).

        Returns:
            The ranked products with their reasons, and the trace of the decision.
        """
        trace: list[str] = []
        limit = max(int(limit), 0)
        feature_weights = self._request_weights(weights, actions, trace)
        request = self._request(context, placement, limit, product_id)

        features: dict[str, dict[str, float]] = {}
        proposed: dict[str, list[str]] = {}
        levels: set[str] = set()
        for name, source, plugin in self._sources:
            if feature_weights.get(name, 0.0) == 0.0:
                continue
            found = self._run_source(name, source, plugin, request, trace)
            if not found:
                continue
            for pid, value in found.items():
                row = features.get(pid)
                if row is None:
                    row = features[pid] = {}
                    proposed[pid] = []
                row[name] = float(value)
                proposed[pid].append(name)
            level = SOURCE_LEVELS.get(name, "personal")
            if name == "popularity" and context.geo.country in self.index.countries:
                level = "geo"
            levels.add(level)
            trace.append(f"source {name}: {len(found)} candidates")
        cascade = next((level for level in CASCADE if level in levels), "global")
        trace.append(f"cold start: {cascade}")

        candidates = self._exclude(features, request, trace)
        candidates = self._apply_selections(candidates, actions, trace)

        scores = self._score(candidates, features, feature_weights, request, trace)
        moved = self._boost(candidates, scores, actions, trace)

        order = sorted(candidates, key=lambda pid: (-scores[pid], pid))

        def recommend(pid: str, source: str | None = None) -> Recommendation:
            row = features.get(pid, {})
            reasons = {f: feature_weights.get(f, 0.0) * x for f, x in sorted(row.items())}
            reasons = {f: c for f, c in reasons.items() if c != 0.0}
            if source is None:
                own = proposed.get(pid) or sorted(reasons)
                source = max(own, key=lambda f: (reasons.get(f, 0.0), f)) if own else ""
            rules = tuple(moved.get(pid, ()))
            return Recommendation(pid, scores.get(pid, 0.0), reasons, rules, source)

        plugin_actions = [a for a in actions if isinstance(a, PluginAction)]
        if plugin_actions:
            ranked = [recommend(pid) for pid in order]
            for action in plugin_actions:
                ranked = self._run_plugin_action(action, ranked, trace)
            order = [rec.product_id for rec in ranked]
            built = {rec.product_id: rec for rec in ranked}
        else:
            built = {}

        pins = self._pins(actions, request, trace)
        pinned = {pid for pid, _, _ in pins}
        keep = max(limit - len(pinned), 0)
        chosen = self._diversify([pid for pid in order if pid not in pinned], keep, trace)
        result = [built.get(pid) or recommend(pid) for pid in chosen]
        for pid, position, rule_id in pins:
            rec = built.get(pid) or recommend(pid, None if pid in features else "pin")
            rules = (*rec.rules, rule_id)
            rec = Recommendation(rec.product_id, rec.score, rec.reasons, rules, rec.source)
            result.insert(min(position - 1, len(result)), rec)
        return Ranking(products=result[:limit], trace=tuple(trace), cascade=cascade)

    # -- steps --------------------------------------------------------------------------

    def _score(
        self,
        candidates: list[str],
        features: dict[str, dict[str, float]],
        feature_weights: Mapping[str, float],
        request: RankingInput,
        trace: list[str],
    ) -> dict[str, float]:
        """Fill the lookup features of every candidate; return ``sum(weight * feature)``."""
        scores: dict[str, float] = {}
        failed: set[str] = set()
        lookups: list[tuple[str, Callable[[str], float | None]]] = []
        for name, scorer, plugin in self._scorers:
            if feature_weights.get(name, 0.0) == 0.0:
                continue
            lookups.append((name, self._lookup(name, scorer, plugin, request, trace)))
        weight = feature_weights.get
        for pid in candidates:
            row = features[pid]
            for name, lookup in lookups:
                if name in row or name in failed:
                    continue
                looked_up = lookup(pid)
                if looked_up is None:
                    failed.add(name)
                elif looked_up:
                    row[name] = looked_up
            score = 0.0
            for f, x in row.items():
                score += weight(f, 0.0) * x
            scores[pid] = score
        return scores

    def _lookup(
        self,
        name: str,
        scorer: Scorer,
        plugin: bool,
        request: RankingInput,
        trace: list[str],
    ) -> Callable[[str], float | None]:
        """The scorer bound to this request; the built-ins as direct index lookups."""
        if plugin:
            return lambda pid: self._run_plugin_scorer(name, scorer, pid, request, trace)
        if scorer is BUILTIN_SCORERS.get("popularity"):
            return self.index.popularity
        if scorer is BUILTIN_SCORERS.get("trending"):
            return self.index.trending
        if scorer is BUILTIN_SCORERS.get("new_arrival"):
            return self._arrival_lookup(request.now)
        return lambda pid: scorer(pid, request)

    def _arrival_lookup(self, now: datetime | None) -> Callable[[str], float]:
        """``new_arrival_score`` from creation times kept as integer microseconds."""
        if now is None:
            return lambda pid: 0.0
        now_us = epoch_us(now)
        created = self._created
        products = self.catalog.ids

        def lookup(pid: str) -> float:
            at = created.get(pid, -1)
            if at == -1:
                product = products.get(pid)
                stamp = product.created_at if product is not None else None
                at = epoch_us(stamp) if stamp is not None else None
                if len(created) >= _CREATED_LIMIT:
                    created.clear()
                created[pid] = at
            return 0.0 if at is None else arrival_score(now_us, at)

        return lookup

    def _boost(
        self,
        candidates: list[str],
        scores: dict[str, float],
        actions: Sequence[Action],
        trace: list[str],
    ) -> dict[str, list[str]]:
        """Apply every ``Boost``/``Bury`` in one pass; return the rules that moved each product.

        Each product's score is multiplied by the factors of the boosts whose selectors it
        matches, in action order.
        """
        moved: dict[str, list[str]] = {}
        boosts = [action for action in actions if isinstance(action, Boost)]
        if not boosts:
            return moved
        table = SelectorTable([self._selector(b.where, b.where_spec) for b in boosts])
        factors = [b.by for b in boosts]
        rule_ids = [b.rule_id for b in boosts]
        counts = [0] * len(boosts)
        product = self.catalog.ids.get
        matching = table.matching
        for pid in candidates:
            found = product(pid)
            if found is None:
                continue
            hits = matching(pid, found)
            if not hits:
                continue
            score = scores[pid]
            rules = moved[pid] = []
            for i in hits:
                score *= factors[i]
                counts[i] += 1
                rules.append(rule_ids[i])
            scores[pid] = score
        for boost, count in zip(boosts, counts, strict=True):
            trace.append(f"{boost.kind} {boost.rule_id} x{boost.by:g}: {count} products")
        return moved

    def _selector(self, where: Predicate, condition: Mapping[str, Any] | None) -> Selector:
        """The compiled selector of ``where`` (built once per predicate)."""
        selector = self._selectors.get(where)
        if selector is None:
            if len(self._selectors) >= _SELECTOR_LIMIT:
                self._selectors.clear()
            selector = self._selectors[where] = Selector(where, condition, self.catalog)
        return selector

    def _request_weights(
        self,
        weights: Mapping[str, float] | None,
        actions: Sequence[Action],
        trace: list[str],
    ) -> dict[str, float]:
        merged = dict(self._weights)
        for name in self._plugin_features:
            merged.setdefault(name, PLUGIN_DEFAULT_WEIGHT)
        if weights:
            merged.update(weights)
            trace.append("weights overridden: " + _fmt(weights))
        for action in actions:
            if isinstance(action, SetWeights):
                merged.update(action.weights)
                trace.append(f"set_weights {action.rule_id}: " + _fmt(action.weights))
        return merged

    def _request(
        self, context: Context, placement: str, limit: int, product_id: str | None
    ) -> RankingInput:
        anchors: list[str] = []
        if product_id is not None:
            anchors.append(product_id)
        if placement == "cart" or (product_id is None and placement == "pdp"):
            anchors.extend(context.behaviour.cart.items)
        now = context.time.local if context.time.local is not None else self.index.built_at
        return RankingInput(
            context=context,
            catalog=self.catalog,
            index=self.index,
            config=self.config,
            placement=placement,
            product_id=product_id,
            limit=limit,
            now=now,
            per_source=self.config.candidates_per_source,
            anchors=tuple(dict.fromkeys(anchors)),
        )

    def _run_source(
        self,
        name: str,
        source: CandidateSource,
        plugin: bool,
        request: RankingInput,
        trace: list[str],
    ) -> Mapping[str, float]:
        if not plugin:
            return source(request)
        try:
            found = source(request)
            items = list(found.items())[: request.per_source]
            return {str(pid): float(value) for pid, value in items}
        except Exception as exc:  # a plugin must never break a request
            trace.append(f"plugin source {name} failed: {type(exc).__name__}: {exc}")
            return {}

    def _run_plugin_scorer(
        self, name: str, scorer: Scorer, pid: str, request: RankingInput, trace: list[str]
    ) -> float | None:
        """The feature value, or ``None`` when the scorer failed (it is then skipped)."""
        try:
            return float(scorer(pid, request))
        except Exception as exc:  # a plugin must never break a request
            trace.append(f"plugin scorer {name} failed on {pid}: {type(exc).__name__}: {exc}")
            return None

    def _exclude(
        self, features: Mapping[str, Any], request: RankingInput, trace: list[str]
    ) -> list[str]:
        catalog = self.catalog
        history = request.context.history
        purchased: Mapping[str, datetime | None] = {}
        if self.config.exclude_purchased:
            purchased = {pid: history.last_purchased.get(pid) for pid in history.purchase_counts}
            purchased.update({pid: history.last_purchased.get(pid) for pid in history.purchases})
        window = self.config.repurchase_window_days
        cutoff = (
            request.now - timedelta(days=window)
            if window is not None and request.now is not None
            else None
        )
        anchors = set(request.anchors)
        kept: list[str] = []
        unknown = out_of_stock = bought = anchored = 0
        for pid in features:
            product = catalog.get(pid)
            if product is None:
                unknown += 1
            elif not product.in_stock:
                out_of_stock += 1
            elif pid in anchors:
                anchored += 1
            elif pid in purchased and (
                cutoff is None or (at := purchased[pid]) is None or at >= cutoff
            ):
                bought += 1
            else:
                kept.append(pid)
        for count, what in (
            (unknown, "unknown products (not in the catalog)"),
            (out_of_stock, "out of stock"),
            (anchored, "the product viewed or in the cart"),
            (bought, "already purchased" + (f" (last {window:g} days)" if cutoff else "")),
        ):
            if count:
                trace.append(f"excluded {count} {what}")
        return kept

    def _apply_selections(
        self, candidates: list[str], actions: Sequence[Action], trace: list[str]
    ) -> list[str]:
        products = self.catalog.ids
        for action in actions:
            before = len(candidates)
            if isinstance(action, Filter):
                selector = self._selector(action.where, action.where_spec)
                candidates = [
                    pid
                    for pid in candidates
                    if (found := products.get(pid)) is not None and selector.matches(pid, found)
                ]
                trace.append(f"filter {action.rule_id}: kept {len(candidates)} of {before}")
            elif isinstance(action, Exclude):
                dropped = action.products
                if action.where is not None:
                    selector = self._selector(action.where, action.where_spec)
                    candidates = [
                        pid
                        for pid in candidates
                        if pid not in dropped
                        and not (
                            (found := products.get(pid)) is not None
                            and selector.matches(pid, found)
                        )
                    ]
                else:
                    candidates = [pid for pid in candidates if pid not in dropped]
                trace.append(f"exclude {action.rule_id}: dropped {before - len(candidates)}")
        return candidates

    def _run_plugin_action(
        self, action: PluginAction, ranked: list[Recommendation], trace: list[str]
    ) -> list[Recommendation]:
        if action.apply is None:
            trace.append(f"plugin action {action.name} ({action.rule_id}): nothing to apply")
            return ranked
        allowed = {rec.product_id for rec in ranked}
        try:
            out = action.apply(list(ranked), action.spec)
        except Exception as exc:  # a plugin must never break a request
            trace.append(f"plugin action {action.name} ({action.rule_id}) failed: {exc!r}")
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

    def _diversify(self, order: list[str], limit: int, trace: list[str]) -> list[str]:
        diversity = self.config.diversity
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
            product = self.catalog.get(pid)
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

    def _pins(
        self, actions: Sequence[Action], request: RankingInput, trace: list[str]
    ) -> list[tuple[str, int, str]]:
        pins: list[tuple[str, int, str]] = []
        seen: set[str] = set()
        for action in actions:
            if not isinstance(action, Pin):
                continue
            offset = 0
            for pid in action.products:
                product = self.catalog.get(pid)
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


def _fmt(weights: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in sorted(weights.items()))

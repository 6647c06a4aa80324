"""The ranker: candidates, features, weighted score, rule actions, diversity, top-k.

One request runs, in this order:

1. weights: configured, then the call's ``weights``, then ``SetWeights`` actions (a
   weight two rules set is the higher-priority rule's);
2. candidate sources (built-in, then plugins) propose products with feature values;
3. hard exclusions: unknown and out-of-stock products, the anchors themselves, and purchases
   when ``exclude_purchased`` (within ``repurchase_window_days``);
4. ``Filter`` and ``Exclude`` actions;
5. scorers fill the lookup features; ``score = sum(weight[f] * feature[f])``;
6. ``Boost``/``Bury`` multiply the score of matching products;
7. sort by score descending, then product id ascending (the tie-break);
8. ``PluginAction``s reorder or drop;
9. diversity: at most N per leaf category and per brand;
10. ``Pin``s put their products at fixed positions (a slot two pins ask for goes to the
    one given first, the other right after); the list is cut to ``limit``.

The work is proportional to the number of candidates (a few hundred), never to the catalog.

Plugin sources, scorers and actions are called through :func:`personalize.plugins.guarded`:
one that raises is skipped (a line in the ranking's trace says so) and its exception goes
to the ``on_error`` of :meth:`Ranker.rank`, the facade's error channel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from personalize._plugin_parts import ErrorSink, guarded
from personalize.catalog import Catalog
from personalize.config import RankingConfig
from personalize.context import Context
from personalize.ranking._boosts import Boosts
from personalize.ranking._candidates import Candidates, Lookup
from personalize.ranking._index import InteractionIndex
from personalize.ranking._positional import (
    POSITIONAL,
    NewArrivalsAt,
    On,
    PositionalSource,
    Proposal,
)
from personalize.ranking._reasons import Scored, recommendations
from personalize.ranking._scoring import arrivals, best_first, one_by_one, static
from personalize.ranking._sources import (
    BUILTIN_SCORERS,
    BUILTIN_SOURCES,
    SOURCE_LEVELS,
    NewArrivals,
)
from personalize.ranking._space import space_of
from personalize.ranking._steps import diversify, pinned_products, run_plugin_action
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
    SetWeights,
)

__all__ = ["CASCADE", "Ranker"]

#: The cold-start cascade, most personal first.
CASCADE = ("personal", "session", "geo", "global")

#: Weight of a plugin feature that no configuration names.
PLUGIN_DEFAULT_WEIGHT = 1.0
#: How many times ``limit`` best candidates are sorted before diversity (more if needed).
_PREFIX_FACTOR = 4
_Floats = NDArray[np.float64]
_Mask = NDArray[np.bool_]
#: The built-in scorers read as static columns, by the column's name.
_STATIC = {scorer: name for name, scorer in BUILTIN_SCORERS.items()}


def _read_source(source: CandidateSource, request: RankingInput) -> Mapping[str, float]:
    """A plugin source's proposals, checked: at most ``per_source``, ids and finite floats
    (a NaN or an infinity fails the source, as an exception does)."""
    items = list(source(request).items())[: request.per_source]
    return {str(pid): _finite(value, pid) for pid, value in items}


def _read_score(scorer: Scorer, pid: str, request: RankingInput) -> float | None:
    return _finite(scorer(pid, request), pid)


def _finite(value: Any, pid: object) -> float:
    """``value`` as a float; a plugin's NaN or infinity would make the scores NaN or
    infinite (and their order meaningless), so it is a failure of the plugin."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{number!r} for {str(pid)[:80]!r} is not a finite number")
    return number


def _reporter(trace: list[str], on_error: ErrorSink | None) -> ErrorSink:
    """Where a failing plugin goes: a line in the ranking's trace, then ``on_error``."""

    def report(exc: Exception, label: str) -> None:
        trace.append(f"plugin {label} failed: {type(exc).__name__}: {exc}")
        if on_error is not None:
            on_error(exc, label)

    return report


def _by_kind(
    actions: Sequence[Action],
) -> tuple[
    tuple[Boost, ...],
    list[Filter | Exclude],
    list[Pin],
    list[PluginAction],
    list[SetWeights],
]:
    """The actions split by what applies them (each list in action order)."""
    only_boosts = tuple(action for action in actions if type(action) is Boost)
    if len(only_boosts) == len(actions):  # the common case: boosts and buries alone
        return only_boosts, [], [], [], []
    boosts: list[Boost] = []
    selections: list[Filter | Exclude] = []
    pins: list[Pin] = []
    plugins: list[PluginAction] = []
    weighting: list[SetWeights] = []
    lists: dict[type, list[Any]] = {
        Boost: boosts,
        Filter: selections,
        Exclude: selections,
        Pin: pins,
        PluginAction: plugins,
        SetWeights: weighting,
    }
    for action in actions:
        found = lists.get(type(action))
        if found is None:  # a subclass: the first kind it is one of
            kind = next((k for k in lists if isinstance(action, k)), None)
            found = lists[kind] if kind is not None else []
        found.append(action)
    return tuple(boosts), selections, pins, plugins, weighting


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
        self._space = space_of(catalog, index)
        builtin: dict[str, CandidateSource] = dict(BUILTIN_SOURCES)
        builtin["new_arrival"] = newest = NewArrivals(catalog)
        fast: dict[CandidateSource, PositionalSource] = dict(POSITIONAL)
        fast[newest] = NewArrivalsAt(newest, self._space)
        self._sources: list[tuple[str, CandidateSource, PositionalSource | None, bool]] = [
            (name, source, fast.get(source), False) for name, source in builtin.items()
        ]
        self._sources += [(name, src, None, True) for name, src in sorted((sources or {}).items())]
        dated = any(product.created_at is not None for product in catalog)
        self._scorers: list[tuple[str, Scorer, bool]] = [
            (name, scorer, False)
            for name, scorer in BUILTIN_SCORERS.items()
            if dated or name != "new_arrival"  # nothing to score in an undated catalog
        ]
        self._scorers += [(name, sc, True) for name, sc in sorted((scorers or {}).items())]
        self._plugin_features = {name for name, *_, plugin in self._sources if plugin}
        self._plugin_features |= {name for name, _, plugin in self._scorers if plugin}
        self._boosts = Boosts(catalog)

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
        on_error: ErrorSink | None = None,
    ) -> Ranking:
        """Rank products for ``context``; never raises on request or history data.

        Args:
            context: The resolved request context.
            placement: Where the products show; ``pdp`` and ``cart`` add complements of
                ``product_id`` and of the cart.
            limit: How many products to return.
            product_id: The product being viewed (``pdp``); it is never recommended.
            actions: Compiled rule actions of the rules that fired, in rule order.
            weights: Weight overrides for this call (an experiment variant ...); one that
                is not a finite number is ignored, with a line in the trace.
            on_error: Receives ``(exception, label)`` for each plugin source, scorer or
                action that raised (``source staff``, ``scorer margin``,
                ``action confetti (rule r1)``); the ranking goes on without it.

        Returns:
            The ranked products with their reasons, and the trace of the decision.
        """
        trace: list[str] = []
        report = _reporter(trace, on_error)
        limit = max(int(limit), 0)
        boosts, selections, pin_actions, plugin_actions, weighting = _by_kind(actions)
        feature_weights = self._request_weights(weights, weighting, trace)
        request = self._request(context, placement, limit, product_id)
        space = self._space

        proposals, cascade = self._propose(request, feature_weights, report, trace)
        cands = Candidates(space, proposals, feature_weights)
        cands.exclude(request, trace)
        self._apply_selections(cands, selections, request.now, trace)
        live = cands.live.nonzero()[0]
        live_positions = cands.positions[live]
        scores, features = cands.scores(live, self._lookups(feature_weights, request, report))
        at_catalog = space.catalog_position[live_positions]
        scores, hits = self._boosts.apply(at_catalog, scores, boosts, trace, request.now)
        scored: Scored = (live, scores, features, hits)
        pins = pinned_products(pin_actions, request, trace)

        # Diversity rarely needs more than a few times ``limit``: sort only the best.
        enough = None if plugin_actions else _PREFIX_FACTOR * limit + len(pins)
        order = best_first(space.id_rank[live_positions], scores, enough)
        partial = len(order) < len(live)
        built: dict[int, Recommendation] = {}
        if plugin_actions:
            places = order.tolist()
            shown = [(p, int(live_positions[p])) for p in places]
            ranked = recommendations(cands, scored, boosts, feature_weights, shown)
            for action in plugin_actions:
                ranked = run_plugin_action(action, ranked, report, trace)
            place_of = {position: place for place, position in shown}
            built = {space.position[rec.product_id]: rec for rec in ranked}
            order = np.array([place_of[space.position[r.product_id]] for r in ranked], np.intp)

        pinned = [space.position[pid] for pid, _, _ in pins]
        keep = max(limit - len(pinned), 0)
        chosen, notes = self._diversify(live_positions, order, pinned, keep)
        if len(chosen) < keep and partial:  # the best were not enough
            order = best_first(space.id_rank[live_positions], scores, None)
            chosen, notes = self._diversify(live_positions, order, pinned, keep)
        trace += notes
        fresh = [pair for pair in chosen if pair[1] not in built]
        made = iter(recommendations(cands, scored, boosts, feature_weights, fresh))
        result = [built.get(position) or next(made) for _, position in chosen]
        slot = -1  # pins come by position, and in action order on one position
        for (_, position, rule_id), at in zip(pins, pinned, strict=True):
            rec = built.get(at)
            if rec is None:
                found = (live_positions == at).nonzero()[0]
                place = int(found[0]) if len(found) else -1
                (rec,) = recommendations(
                    cands, scored, boosts, feature_weights, [(place, at)], source="pin"
                )
            rec = replace(rec, rules=(*rec.rules, rule_id), pinned_by=rule_id)
            # A slot an earlier pin took stays its own: this one goes right after it.
            slot = max(min(position - 1, len(result)), slot + 1)
            result.insert(slot, rec)
        return Ranking(products=result[:limit], trace=tuple(trace), cascade=cascade)

    # -- steps --------------------------------------------------------------------------

    def _propose(
        self,
        request: RankingInput,
        feature_weights: Mapping[str, float],
        report: ErrorSink,
        trace: list[str],
    ) -> tuple[list[tuple[str, Proposal]], str]:
        """Run the candidate sources; return what each proposed, and the cold-start step."""
        space = self._space
        on = On(request, space)
        found_by: dict[str, Proposal] = {}
        levels: set[str] = set()
        country = request.context.geo.country
        for name, source, fast, plugin in self._sources:
            if feature_weights.get(name, 0.0) == 0.0:
                continue
            if fast is not None:
                found = fast(on)
            elif plugin:
                mapping = guarded(_read_source, f"source {name}", None)(report, source, request)
                found = Proposal.of(mapping or {}, space)
            else:  # a built-in source without a twin on positions
                found = Proposal.of(source(request), space)
            if not len(found):
                continue
            earlier = found_by.get(name)  # a plugin source named like a built-in one
            if earlier is not None:
                merged = {**earlier.mapping(space), **found.mapping(space)}
                found = Proposal.of(merged, space)
            found_by[name] = found
            level = SOURCE_LEVELS.get(name, "personal")
            if name == "popularity" and country in self.index.countries:
                level = "geo"
            levels.add(level)
            trace.append(f"source {name}: {len(found)} candidates")
        if on.note is not None:
            trace.append(on.note)
        cascade = next((level for level in CASCADE if level in levels), "global")
        trace.append(f"cold start: {cascade}")
        return list(found_by.items()), cascade

    def _lookups(
        self,
        feature_weights: Mapping[str, float],
        request: RankingInput,
        report: ErrorSink,
    ) -> list[tuple[str, float, Lookup]]:
        """The scorers to run for this request with their weights: built-in scorers read
        the static columns, plugin scorers are guarded (a failing one gives ``None`` and
        is skipped from then on)."""
        space = self._space
        lookups: list[tuple[str, float, Lookup]] = []
        for name, scorer, plugin in self._scorers:
            weight = feature_weights.get(name, 0.0)
            if weight == 0.0:
                continue
            column = None if plugin else _STATIC.get(scorer)
            lookup: Lookup
            if column == "popularity":
                lookup = static(space.popularity)
            elif column == "trending":
                lookup = static(space.trending)
            elif column == "new_arrival":
                lookup = arrivals(space, request.now)
            elif plugin:
                call = guarded(_read_score, f"scorer {name}", None)
                lookup = one_by_one(name, _scoring_with(call, report, scorer, request))
            else:
                lookup = one_by_one(name, _bound(scorer, request))
            lookups.append((name, weight, lookup))
        return lookups

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
            given = _finite_weights(weights, trace)
            merged.update(given)
            trace.append("weights overridden: " + _fmt(given))
        # Actions come in rule order, highest priority first: a weight two rules set is
        # the first one's (as a slot two pins ask for is).
        taken: set[str] = set()
        for action in actions:
            if isinstance(action, SetWeights):
                merged.update((k, v) for k, v in action.weights.items() if k not in taken)
                taken.update(action.weights)
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

    def _apply_selections(
        self,
        cands: Candidates,
        actions: Sequence[Filter | Exclude],
        now: datetime | None,
        trace: list[str],
    ) -> None:
        for action in actions:
            live = cands.live.nonzero()[0]
            at_catalog = self._space.catalog_position[cands.positions[live]]
            kept = self._boosts.keep(at_catalog, action, now)
            cands.live[live[~kept]] = False
            after = int(np.count_nonzero(kept))
            if isinstance(action, Filter):
                trace.append(f"filter {action.rule_id}: kept {after} of {len(live)}")
            else:
                trace.append(f"exclude {action.rule_id}: dropped {len(live) - after}")

    def _diversify(
        self,
        positions: NDArray[np.intp],
        order: NDArray[np.intp],
        pinned: Sequence[int],
        limit: int,
    ) -> tuple[list[tuple[int, int]], list[str]]:
        """The places and positions shown, in order, after the diversity caps and without
        the pinned products; and the trace notes of the caps."""
        at = positions[order]
        if pinned:
            free = ~np.isin(at, np.array(pinned, dtype=np.intp))
            order, at = order[free], at[free]
        space, notes = self._space, list[str]()
        chosen = diversify(
            space.leaf[at].tolist(), space.brand[at].tolist(), self.config.diversity, limit, notes
        )
        places, shown = order.tolist(), at.tolist()
        return [(places[i], shown[i]) for i in chosen], notes


def _bound(scorer: Scorer, request: RankingInput) -> Callable[[str], float | None]:
    return lambda pid: scorer(pid, request)


def _scoring_with(
    call: Callable[..., float | None], report: ErrorSink, scorer: Scorer, request: RankingInput
) -> Callable[[str], float | None]:
    return lambda pid: call(report, scorer, pid, request)


def _finite_weights(weights: Mapping[str, float], trace: list[str]) -> dict[str, float]:
    """The call's weights that are finite numbers; the others are left out, with a line in
    the trace each (a NaN weight would make every score NaN and the order meaningless)."""
    kept: dict[str, float] = {}
    for name, value in weights.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if math.isfinite(number):
            kept[str(name)] = number
        else:
            trace.append(
                f"weight {str(name)[:80]}={str(value)[:80]!r} ignored: not a finite number"
            )
    return kept


def _fmt(weights: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in sorted(weights.items()))

"""Scoring the personalizer itself on a split, through ``Personalizer.personalize``.

:func:`prepare` builds what does not depend on the ranking settings (the index from the train
events, each customer's history) once per split; :func:`prepared_lists` then runs any
configuration on it, so a search over ranking settings never rebuilds an index. Each
customer's context is resolved once per split (:class:`RememberingResolver`) and shared by
every configuration and by every index built with :meth:`Prepared.with_index`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from personalize._models import Event, History, Request
from personalize.catalog import Catalog
from personalize.context import Context, ContextResolver
from personalize.evaluation._log import Purchases, Split
from personalize.ranking import InteractionIndex

if TYPE_CHECKING:
    from personalize import Personalizer

__all__ = [
    "UNKNOWN",
    "Prepared",
    "RememberingResolver",
    "build_options",
    "personalizer_lists",
    "prepare",
    "prepared_lists",
]


class RememberingResolver(ContextResolver):
    """A context resolver that resolves each (history, moment) once.

    An evaluation ranks the same customers, with the same histories and request, under many
    configurations; their contexts do not depend on the ranking settings. The histories
    must not change while the resolver remembers them (they are kept alive with the
    context, so an id is never reused).
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._seen: dict[tuple[int, datetime | None], tuple[History | None, Context]] = {}

    def resolve(
        self,
        request: Request,
        history: History | None = None,
        *,
        now: datetime | None = None,
        notes: Iterable[str] = (),
    ) -> Context:
        """The context of ``request`` for ``history``, resolved on its first request."""
        key = (id(history), now)
        hit = self._seen.get(key)
        if hit is not None and hit[0] is history:
            return hit[1]
        context = super().resolve(request, history, now=now, notes=notes)
        self._seen[key] = (history, context)
        return context


@dataclass(frozen=True, slots=True)
class Prepared:
    """One split made ready for the personalizer.

    Attributes:
        split: The split.
        catalog: The catalog the personalizer ranks.
        index: The interaction index of the train events.
        histories: Evaluated customer position to their train events, oldest first.
        positions: Product id to its position in ``Purchases.items``.
        train: The train events the index was built from, oldest first.
        resolver: Resolves each customer's context once, for every configuration.
    """

    split: Split
    catalog: Catalog
    index: InteractionIndex
    histories: dict[int, list[Event]]
    positions: dict[str, int]
    train: Sequence[Event] = ()
    resolver: RememberingResolver = field(default_factory=RememberingResolver)
    _personalizers: list[Personalizer] = field(default_factory=list)
    _history: dict[int, History] = field(default_factory=dict)

    def history(self, customer: int) -> History:
        """The customer's train history (one object per customer, so its context is
        resolved once)."""
        found = self._history.get(customer)
        if found is None:
            found = self._history[customer] = History(events=self.histories.get(customer, []))
        return found

    def with_index(self, index_options: Mapping[str, Any]) -> Prepared:
        """The same split and customers over an index built with ``index_options``.

        The histories and the resolved contexts are shared, so only the index is built.
        """
        index = InteractionIndex.build(
            self.train, catalog=self.catalog, now=self.split.cutoff, **dict(index_options)
        )
        return Prepared(
            self.split,
            self.catalog,
            index,
            self.histories,
            self.positions,
            self.train,
            self.resolver,
            _history=self._history,
        )

    def warm(self, customers: Iterable[int]) -> None:
        """Resolve the contexts of ``customers`` now (before worker processes fork)."""
        request = Request(now=self.split.cutoff)
        for cust in customers:
            self.resolver.resolve(request, self.history(cust), now=self.split.cutoff)

    def personalizer(self, config: Mapping[str, Any]) -> Personalizer:
        """A personalizer over this split's index with ``config`` in force.

        Built once (the context resolver is costly to build) and reloaded for every other
        configuration.
        """
        from personalize import Personalizer

        if not self._personalizers:
            self._personalizers.append(
                Personalizer(
                    config,
                    catalog=self.catalog,
                    interactions=self.index,
                    autoload_plugins=False,
                    resolver=self.resolver,
                )
            )
        else:
            self._personalizers[0].reload(config)
        return self._personalizers[0]


#: The position of a recommended product the log never names (never a hit).
UNKNOWN = -1

#: The ``ranking.index`` options that ``InteractionIndex.build`` takes.
_BUILD_OPTIONS = (
    "half_life_days",
    "trending_half_life_days",
    "trending_rise",
    "max_neighbours",
    "co_purchase_scope",
    "country_top_size",
    "category_top_size",
)


def build_options(index: Mapping[str, Any] | None) -> dict[str, Any]:
    """The keyword arguments of ``InteractionIndex.build`` in a ``ranking.index`` section
    (the options about reading files are left out)."""
    return {k: v for k, v in (index or {}).items() if k in _BUILD_OPTIONS}


def prepare(
    purchases: Purchases,
    split: Split,
    *,
    catalog: Catalog,
    events: Iterable[Event] | None = None,
    index_options: Mapping[str, Any] | None = None,
) -> Prepared:
    """Build the index of ``split``'s train period and the evaluated customers' histories.

    Args:
        purchases: The purchases of the log.
        split: The split.
        catalog: The catalog.
        events: The whole log (views included) if it has more than ``purchases``; the index
            and the histories then hold every event before the cutoff.
        index_options: Keyword arguments of ``InteractionIndex.build``.
    """
    if events is None:
        mask = split.train.tolist()
        train = [e for e, keep in zip(purchases.events, mask, strict=True) if keep]
    else:
        cutoff = split.cutoff
        train = sorted((e for e in events if e.at < cutoff), key=lambda e: e.at.timestamp())
    index = InteractionIndex.build(
        train, catalog=catalog, now=split.cutoff, **dict(index_options or {})
    )
    customer = {cid: pos for pos, cid in enumerate(purchases.customers)}
    wanted = split.targets.keys()
    histories: dict[int, list[Event]] = {}
    for event in train:
        cust = customer.get(str(event.customer_id)) if event.customer_id is not None else None
        if cust is not None and cust in wanted:
            histories.setdefault(cust, []).append(event)
    positions = {pid: pos for pos, pid in enumerate(purchases.items)}
    return Prepared(split, catalog, index, histories, positions, train)


def prepared_lists(
    prepared: Prepared,
    mode: str,
    customers: Sequence[int],
    k: int,
    *,
    config: Mapping[str, Any] | None = None,
) -> dict[int, list[int]]:
    """Top-k product positions per customer for the configuration ``config``.

    ``ranking.exclude_purchased`` is set by the mode; ``Request(now=cutoff)``,
    ``placement="home"``. A catalog product the log never names is :data:`UNKNOWN`: a miss
    that keeps its slot.
    """
    whole = dict(config or {})
    whole["ranking"] = {**whole.get("ranking", {}), "exclude_purchased": mode == "new"}
    personalizer = prepared.personalizer(whole)
    request = Request(now=prepared.split.cutoff)
    position = prepared.positions
    out: dict[int, list[int]] = {}
    for cust in customers:
        result = personalizer.personalize(
            request, prepared.history(cust), placement="home", limit=k
        )
        out[cust] = [position.get(r.product_id, UNKNOWN) for r in result.products]
    return out


def personalizer_lists(
    purchases: Purchases,
    split: Split,
    mode: str,
    customers: Sequence[int],
    k: int,
    *,
    catalog: Catalog,
    config: Mapping[str, Any] | None = None,
    index_options: Mapping[str, Any] | None = None,
) -> dict[int, list[int]]:
    """Top-k product positions per customer, as a shop would get them.

    The index is built from the train events only; each customer's ``History`` holds their
    train purchases, ``Request(now=cutoff)``, ``placement="home"``. ``config`` is the whole
    configuration; ``ranking.exclude_purchased`` is set by the mode.
    """
    prepared = prepare(purchases, split, catalog=catalog, index_options=index_options)
    return prepared_lists(prepared, mode, customers, k, config=config)

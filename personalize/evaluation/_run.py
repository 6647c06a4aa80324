"""Scoring the personalizer itself on a split, through ``Personalizer.personalize``.

:func:`prepare` builds what does not depend on the ranking settings (the index from the train
events, each customer's history) once per split; :func:`prepared_lists` then runs any
configuration on it, so a search over ranking settings never rebuilds an index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from personalize._models import Event, History
from personalize.catalog import Catalog
from personalize.evaluation._log import Purchases, Split
from personalize.ranking import InteractionIndex

if TYPE_CHECKING:
    from personalize import Personalizer

__all__ = ["Prepared", "personalizer_lists", "prepare", "prepared_lists"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """One split made ready for the personalizer.

    Attributes:
        split: The split.
        catalog: The catalog the personalizer ranks.
        index: The interaction index of the train events.
        histories: Evaluated customer position to their train events, oldest first.
        positions: Product id to its position in ``Purchases.items``.
    """

    split: Split
    catalog: Catalog
    index: InteractionIndex
    histories: dict[int, list[Event]]
    positions: dict[str, int]
    _personalizers: list[Personalizer] = field(default_factory=list)

    def personalizer(self, config: Mapping[str, Any]) -> Personalizer:
        """A personalizer over this split's index with ``config`` in force.

        Built once (the context resolver is costly to build) and reloaded for every other
        configuration.
        """
        from personalize import Personalizer

        if not self._personalizers:
            self._personalizers.append(
                Personalizer(
                    config, catalog=self.catalog, interactions=self.index, autoload_plugins=False
                )
            )
        else:
            self._personalizers[0].reload(config)
        return self._personalizers[0]


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
    return Prepared(split, catalog, index, histories, positions)


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
    ``placement="home"``.
    """
    from personalize import Request

    whole = dict(config or {})
    whole["ranking"] = {**whole.get("ranking", {}), "exclude_purchased": mode == "new"}
    personalizer = prepared.personalizer(whole)
    request = Request(now=prepared.split.cutoff)
    position = prepared.positions
    out: dict[int, list[int]] = {}
    for cust in customers:
        history = History(events=prepared.histories.get(cust, []))
        result = personalizer.personalize(request, history, placement="home", limit=k)
        out[cust] = [position[r.product_id] for r in result.products if r.product_id in position]
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

"""Scoring the personalizer itself on a split, through ``Personalizer.personalize``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from personalize._models import Event, History
from personalize.catalog import Catalog
from personalize.evaluation._log import Purchases, Split

__all__ = ["personalizer_lists"]


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
    from personalize import Personalizer, Request
    from personalize.ranking import InteractionIndex

    train = [e for e, keep in zip(purchases.events, split.train.tolist(), strict=True) if keep]
    index = InteractionIndex.build(
        train, catalog=catalog, now=split.cutoff, **dict(index_options or {})
    )
    whole = dict(config or {})
    whole["ranking"] = {**whole.get("ranking", {}), "exclude_purchased": mode == "new"}
    personalizer = Personalizer(whole, catalog=catalog, interactions=index, autoload_plugins=False)
    wanted = set(customers)
    own: dict[int, list[Event]] = {}
    for event, cust in zip(train, purchases.customer[split.train].tolist(), strict=True):
        if cust in wanted:
            own.setdefault(cust, []).append(event)
    position = {pid: pos for pos, pid in enumerate(purchases.items)}
    request = Request(now=split.cutoff)
    out: dict[int, list[int]] = {}
    for cust in customers:
        result = personalizer.personalize(
            request, History(events=own.get(cust, [])), placement="home", limit=k
        )
        out[cust] = [position[r.product_id] for r in result.products if r.product_id in position]
    return out

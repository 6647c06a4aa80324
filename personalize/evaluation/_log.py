"""Purchases as integer columns, and the rolling-origin monthly splits over them.

The protocol (the one ``benchmarks/eval_retail.py`` states, generalized to any test month):

* train is every purchase before the test month's first instant, test is the month;
* evaluated: customers with purchases on both sides;
* target: the distinct products a customer bought in the test month;
* modes: ``all`` (repurchases count) and ``new`` (the customer's train products are left out
  of the recommendations and of the target; customers with nothing new are dropped).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from personalize._models import Event

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["MODES", "Purchases", "Split", "make_split", "month_start", "monthly_splits"]

#: The evaluation modes.
MODES = ("all", "new")


@dataclass(frozen=True, slots=True)
class Purchases:
    """Purchase lines as parallel integer columns, sorted by time.

    Attributes:
        customers: Customer ids; ``customer`` holds positions in it.
        items: Product ids; ``item`` holds positions in it.
        customer: The customer of each line.
        item: The product of each line.
        order: The order of each line (dense positions).
        at: Seconds since 1970 UTC of each line.
        events: The purchase events, in the same order as the columns.
    """

    customers: tuple[str, ...]
    items: tuple[str, ...]
    customer: NDArray[np.int64]
    item: NDArray[np.int64]
    order: NDArray[np.int64]
    at: NDArray[np.float64]
    events: tuple[Event, ...]

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> Purchases:
        """The purchases with a customer and a product among ``events``, sorted by time."""
        kept = sorted(
            (
                e
                for e in events
                if e.type == "purchase" and e.customer_id is not None and e.product_id is not None
            ),
            key=lambda e: e.at.timestamp(),
        )
        customers: dict[str, int] = {}
        items: dict[str, int] = {}
        orders: dict[str, int] = {}
        rows = []
        for e in kept:
            cust = customers.setdefault(str(e.customer_id), len(customers))
            item = items.setdefault(str(e.product_id), len(items))
            order_id = e.order_id or f"{e.customer_id}@{e.at.isoformat()}"
            rows.append((cust, item, orders.setdefault(order_id, len(orders))))
        table = np.array(rows, dtype=np.int64).reshape(-1, 3)
        return cls(
            customers=tuple(customers),
            items=tuple(items),
            customer=table[:, 0].copy(),
            item=table[:, 1].copy(),
            order=table[:, 2].copy(),
            at=np.array([e.at.timestamp() for e in kept], dtype=np.float64),
            events=tuple(kept),
        )

    def __len__(self) -> int:
        return int(self.item.size)


@dataclass(frozen=True, slots=True)
class Split:
    """One rolling-origin split: train before ``cutoff``, test in ``[cutoff, end)``.

    Attributes:
        cutoff: The first instant of the test period (also the request time).
        end: The end of the test period (exclusive).
        train: Mask of the train lines.
        targets: Evaluated customer position to the distinct products bought in the test.
        bought: Evaluated customer position to the distinct products bought in train.
    """

    cutoff: datetime
    end: datetime
    train: NDArray[np.bool_]
    targets: dict[int, frozenset[int]]
    bought: dict[int, frozenset[int]]

    @property
    def label(self) -> str:
        """The test month, ``YYYY-MM``."""
        return self.cutoff.strftime("%Y-%m")

    def cases(self, mode: str) -> list[tuple[int, frozenset[int]]]:
        """(customer, target) pairs evaluated in ``mode``, by customer position."""
        if mode == "all":
            return sorted(self.targets.items())
        out = []
        for cust, target in sorted(self.targets.items()):
            fresh = target - self.bought[cust]
            if fresh:
                out.append((cust, fresh))
        return out


def month_start(moment: datetime, shift: int = 0) -> datetime:
    """The first instant (UTC) of ``moment``'s month, ``shift`` months later."""
    months = moment.year * 12 + moment.month - 1 + shift
    return datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC)


def make_split(purchases: Purchases, cutoff: datetime, end: datetime) -> Split:
    """The split with train before ``cutoff`` and test in ``[cutoff, end)``."""
    lo, hi = cutoff.timestamp(), end.timestamp()
    train = purchases.at < lo
    test = (purchases.at >= lo) & (purchases.at < hi)
    bought: dict[int, set[int]] = {}
    for cust, item in zip(
        purchases.customer[train].tolist(), purchases.item[train].tolist(), strict=True
    ):
        bought.setdefault(cust, set()).add(item)
    targets: dict[int, set[int]] = {}
    for cust, item in zip(
        purchases.customer[test].tolist(), purchases.item[test].tolist(), strict=True
    ):
        if cust in bought:
            targets.setdefault(cust, set()).add(item)
    return Split(
        cutoff=cutoff,
        end=end,
        train=train,
        targets={c: frozenset(t) for c, t in targets.items()},
        bought={c: frozenset(bought[c]) for c in targets},
    )


def monthly_splits(purchases: Purchases, months: Sequence[str]) -> list[Split]:
    """One split per test month (``"2011-06"`` ...): train is everything before it."""
    splits = []
    for month in months:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
        splits.append(make_split(purchases, start, month_start(start, 1)))
    return splits

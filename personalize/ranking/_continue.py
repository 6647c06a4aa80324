"""Continue shopping: what the customer was looking at when their last session ended."""

from __future__ import annotations

from dataclasses import dataclass

from personalize.catalog import Catalog
from personalize.context import Context

__all__ = ["ContinueShopping", "continue_shopping"]


@dataclass(frozen=True, slots=True)
class ContinueShopping:
    """The products and category of the customer's last session, for "pick up where you
    left off".

    Attributes:
        products: Products viewed or carted in the last session, newest first, limited to
            those in the catalog and in stock.
        category: The category they spent that session in, if any.
    """

    products: tuple[str, ...] = ()
    category: str | None = None

    def __bool__(self) -> bool:
        return bool(self.products) or self.category is not None


def continue_shopping(context: Context, catalog: Catalog, *, limit: int = 10) -> ContinueShopping:
    """The last session's products (known, in stock, deduplicated) and category.

    Args:
        context: The resolved context; reads ``behaviour.last_session_products`` and
            ``behaviour.last_session_category``.
        catalog: Products not in it, or out of stock, are left out.
        limit: At most this many products.
    """
    behaviour = context.behaviour
    products: list[str] = []
    for pid in dict.fromkeys(behaviour.last_session_products):
        if len(products) >= limit:
            break
        product = catalog.get(pid)
        if product is not None and product.in_stock:
            products.append(pid)
    category = behaviour.last_session_category
    if category is None and products:
        first = catalog.get(products[0])
        category = first.leaf_category if first is not None else None
    return ContinueShopping(products=tuple(products), category=category)

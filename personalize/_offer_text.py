"""Offer values in words: ``{"percent": 10}`` is ``10% off``, ``{"amount": 5}`` ``€5 off``.

Used by :meth:`personalize.Result.explain` and the ``personalize demo`` output. The currency
is the store's (``settings.currency``, an ISO 4217 code) unless the value names its own
(``{"amount": 5, "currency": "GBP"}``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["describe_offer_value", "format_money"]

#: Currencies written with a symbol before the amount; others read ``5 SEK``.
_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "CN¥",
    "INR": "₹",
    "KRW": "₩",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "BRL": "R$",
    "MXN": "MX$",
}
#: Currencies without minor units.
_WHOLE = frozenset({"JPY", "KRW"})


def format_money(amount: float, currency: str = "USD") -> str:
    """``$5``, ``€5.50``, ``¥500`` or ``5 SEK``: whole amounts without decimals."""
    code = currency.upper()
    whole = code in _WHOLE or float(amount).is_integer()
    number = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{number}" if symbol else f"{number} {code}"


def describe_offer_value(value: Mapping[str, Any], currency: str = "USD") -> str:
    """What an offer is worth, in words.

    Args:
        value: The offer's ``value`` (``percent``, ``amount``, ``free_shipping`` and any
            other keys, which are shown as ``key value``).
        currency: The store's currency code, for ``amount``.

    Returns:
        For example ``10% off``, ``€5 off``, ``free shipping`` or ``10% off + free
        shipping``; ``no value`` for an empty mapping.
    """
    currency = str(value.get("currency") or currency)
    parts: list[str] = []
    for key, item in value.items():
        if key == "currency":
            continue
        if key == "percent" and _is_number(item):
            parts.append(f"{item:g}% off")
        elif key == "amount" and _is_number(item):
            parts.append(f"{format_money(item, currency)} off")
        elif key == "free_shipping":
            if item:
                parts.append("free shipping")
        else:
            parts.append(f"{key.replace('_', ' ')} {item}")
    return " + ".join(parts) or "no value"


def _is_number(item: Any) -> bool:
    return isinstance(item, int | float) and not isinstance(item, bool) and math.isfinite(item)

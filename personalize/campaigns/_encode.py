"""Encoding a chunk of rows: JSONL lines, or flat records for CSV, Parquet and Spark.

The text is exactly that of ``json.dumps(row.to_dict(), ...)`` and of
:meth:`~personalize.campaigns.CampaignRow.to_record`, built from parts: what rows of a
chunk share is encoded once -- the products of a decision made once for many customers,
an offer's value and reason -- and each row adds only its own id, fields and codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from personalize.campaigns._rows import RESERVED, CampaignOffer, CampaignProduct, CampaignRow

__all__ = ["jsonl_lines", "records"]

_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_TEXT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode

_OfferKey = tuple[str, str, int]


class _Parts:
    """The encoded parts rows of one chunk share, with one JSON encoder."""

    def __init__(self, dumps: Callable[[Any], str]) -> None:
        self.dumps = dumps
        self._products: dict[int, str] = {}
        self._offers: dict[_OfferKey, tuple[str, str]] = {}

    def products(self, products: tuple[CampaignProduct, ...]) -> str:
        # Keyed by identity: the rows of the chunk keep every tuple alive meanwhile.
        text = self._products.get(id(products))
        if text is None:
            text = self._products[id(products)] = self.dumps([p.to_dict() for p in products])
        return text

    def offers(self, offers: tuple[CampaignOffer, ...]) -> str:
        dumps = self.dumps
        items = []
        for o in offers:
            key = (o.offer_id, o.reason, id(o.value))
            around = self._offers.get(key)
            if around is None:
                head = f'{{"offer_id":{dumps(o.offer_id)},"code":'
                tail = f',"value":{dumps(dict(o.value))},"reason":{dumps(o.reason)}}}'
                around = self._offers[key] = (head, tail)
            items.append(f"{around[0]}{dumps(o.code)}{around[1]}")
        return f"[{','.join(items)}]"


def jsonl_lines(rows: Sequence[CampaignRow]) -> str:
    """The JSONL lines of ``rows``: each ``json.dumps(row.to_dict())``, compact, unescaped."""
    parts = _Parts(_LINE)
    dumps = _LINE
    out: list[str] = []
    for r in rows:
        fields = r.fields
        if not all(isinstance(k, str) for k in fields):  # JSON would convert such keys
            out.append(_LINE(r.to_dict()) + "\n")
            continue
        placeholders = "".join(
            f",{dumps(k)}:{dumps(v)}" for k, v in fields.items() if k not in RESERVED
        )
        out.append(
            f'{{"customer_id":{dumps(r.customer_id)}{placeholders}'
            f',"offers":{parts.offers(r.offers)},"products":{parts.products(r.products)}'
            f',"link":{dumps(r.link)}}}\n'
        )
    return "".join(out)


def records(rows: Sequence[CampaignRow]) -> list[dict[str, Any]]:
    """The flat records of ``rows``: each equal to ``row.to_record()``."""
    parts = _Parts(_TEXT)
    out: list[dict[str, Any]] = []
    for r in rows:
        record: dict[str, Any] = {"customer_id": r.customer_id}
        for key, value in r.fields.items():
            if key not in RESERVED:
                record[key] = value if value is None or isinstance(value, str) else _TEXT(value)
        record["offer_ids"] = " ".join(o.offer_id for o in r.offers)
        record["codes"] = " ".join(o.code for o in r.offers)
        record["product_ids"] = " ".join(p.product_id for p in r.products)
        record["offers"] = parts.offers(r.offers)
        record["products"] = parts.products(r.products)
        record["link"] = r.link
        out.append(record)
    return out

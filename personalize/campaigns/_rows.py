"""What a campaign produces per customer: a row ready for an email service."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RESERVED", "CampaignOffer", "CampaignProduct", "CampaignRow", "SkippedCustomer"]


@dataclass(frozen=True, slots=True)
class CampaignOffer:
    """An offer in a campaign email, with the customer's own coupon code.

    Attributes:
        offer_id: The offer's id.
        code: The customer's unique code (see :func:`~personalize.campaigns.issue_code`).
        value: What it is worth (``{"percent": 10}`` ...).
        reason: Why it was chosen, in words.
    """

    offer_id: str
    code: str
    value: Mapping[str, Any]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """As JSON-able data."""
        return {
            "offer_id": self.offer_id,
            "code": self.code,
            "value": dict(self.value),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class CampaignProduct:
    """A recommended product in a campaign email.

    Attributes:
        product_id: The product.
        title: Its title in the catalog (``None`` when it has none).
        score: Its final score.
        reasons: Feature name to weighted contribution.
        rules: Ids of the rules that moved it.
    """

    product_id: str
    title: str | None
    score: float
    reasons: Mapping[str, float]
    rules: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """As JSON-able data (scores rounded to 6 decimals)."""
        return {
            "product_id": self.product_id,
            "title": self.title,
            "score": round(self.score, 6),
            "reasons": {k: round(v, 6) for k, v in self.reasons.items()},
            "rules": list(self.rules),
        }


@dataclass(frozen=True, slots=True)
class CampaignRow:
    """One customer's email: placeholders, offers with codes, products and the link.

    Attributes:
        customer_id: The customer.
        fields: The customer record's other fields (``first_name``, ``email`` ...), for
            the email's placeholders.
        offers: The offers, best first, each with its code.
        products: The recommended products, best first.
        link: The landing link, with the campaign's UTM parameters.
        resumed: The offers were recorded by an earlier run of this campaign (it was
            stopped or re-run); nothing was recorded again.
    """

    customer_id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    offers: tuple[CampaignOffer, ...] = ()
    products: tuple[CampaignProduct, ...] = ()
    link: str | None = None
    resumed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Nested JSON-able data: one line of the JSONL output."""
        return {
            "customer_id": self.customer_id,
            **_plain(self.fields),
            "offers": [o.to_dict() for o in self.offers],
            "products": [p.to_dict() for p in self.products],
            "link": self.link,
        }

    def to_record(self) -> dict[str, Any]:
        """Flat data for CSV, Parquet and Spark: lists as JSON text, placeholders as text."""
        record: dict[str, Any] = {"customer_id": self.customer_id}
        for key, value in _plain(self.fields).items():
            record[key] = value if value is None or isinstance(value, str) else _json(value)
        record["offer_ids"] = " ".join(o.offer_id for o in self.offers)
        record["codes"] = " ".join(o.code for o in self.offers)
        record["product_ids"] = " ".join(p.product_id for p in self.products)
        record["offers"] = _json([o.to_dict() for o in self.offers])
        record["products"] = _json([p.to_dict() for p in self.products])
        record["link"] = self.link
        return record


@dataclass(frozen=True, slots=True)
class SkippedCustomer:
    """A customer left out of the campaign, and why (one line of the error file).

    Attributes:
        customer_id: The customer (``None`` when the record had no usable id).
        error: What went wrong, in words.
        position: The customer's position in the input, from 0.
    """

    customer_id: str | None
    error: str
    position: int

    def to_dict(self) -> dict[str, Any]:
        """As JSON-able data."""
        return {"customer_id": self.customer_id, "position": self.position, "error": self.error}


def _plain(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in RESERVED}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


#: Placeholder fields left out of a row: the row's own columns.
RESERVED = frozenset(
    {"customer_id", "offers", "products", "link", "offer_ids", "codes", "product_ids"}
)

"""The JSON form of a :class:`~personalize.Result`, and its schema.

:func:`result_dict` renders a result as plain JSON values; :class:`ResultModel` (pydantic)
describes exactly that shape, so ``ResultModel.model_json_schema()`` is the documented JSON
Schema, and web frameworks can use it as a response model. The schema is versioned by
:data:`SCHEMA_VERSION`: fields may be added within a version; a rename or removal bumps it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from personalize._models import without_surrogates

if TYPE_CHECKING:
    from personalize.context import Context
    from personalize.result import Result

__all__ = [
    "SCHEMA_VERSION",
    "ContextModel",
    "ContinueShoppingModel",
    "LandingModel",
    "OfferModel",
    "ProductModel",
    "ResultModel",
    "result_dict",
]

#: The version of the JSON form; bumped when a field is renamed or removed.
SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProductModel(_Model):
    """One recommended product."""

    product_id: str
    score: float | None = Field(description="The final score; null when not finite.")
    reasons: dict[str, float] = Field(description="Feature name to weighted contribution.")
    rules: list[str] = Field(description="Ids of the rules that boosted, buried or pinned it.")
    source: str = Field(description="The candidate source that contributed most.")


class LandingModel(_Model):
    """Where to send the visitor."""

    page: str
    rule_id: str
    default: bool


class OfferModel(_Model):
    """One offer to show."""

    offer_id: str
    code: str | None
    value: dict[str, Any]
    reason: str
    group: str | None
    priority: int


class ContinueShoppingModel(_Model):
    """What the customer left off with in their last session."""

    products: list[str]
    category: str | None


class ContextModel(_Model):
    """A compact view of the resolved context: what the decision was based on."""

    device: dict[str, Any] = Field(description="type, os, browser, is_bot, is_touch.")
    geo: dict[str, Any] = Field(
        description="country, region, city, continent, timezone, climate, source."
    )
    time: dict[str, Any] = Field(description="local (ISO 8601), daypart, season, is_weekend.")
    referral: dict[str, Any] = Field(description="source, medium, campaign, site.")
    user_id: str | None
    session_id: str | None
    notes: list[str] = Field(description="What degraded while resolving the context.")


class ResultModel(_Model):
    """The JSON form of one personalization decision (``Result.to_dict()``)."""

    schema_version: int = Field(description="Version of this form; see SCHEMA_VERSION.")
    decision_id: str | None = Field(None, description="The decision's id, when it has one.")
    placement: str
    products: list[ProductModel] = Field(description="Best first.")
    landing: LandingModel | None
    offers: list[OfferModel] = Field(description="Best first.")
    continue_shopping: ContinueShoppingModel
    segments: list[str] = Field(description="Sorted.")
    experiments: dict[str, str] = Field(description="Experiment key to variant key.")
    rules: list[str] = Field(description="Rules that fired, in priority order.")
    context: ContextModel
    degraded: bool = Field(description="True when some stage failed and fell back.")
    errors: list[str] = Field(description="What failed and how it degraded.")


def result_dict(result: Result) -> dict[str, Any]:
    """``result`` as plain JSON values, in the shape of :class:`ResultModel`."""
    landing = result.landing
    shopping = result.continue_shopping
    decision_id = getattr(result, "decision_id", None)
    return {
        "schema_version": SCHEMA_VERSION,
        "decision_id": decision_id if isinstance(decision_id, str) else None,
        "placement": result.placement,
        "products": [
            {
                "product_id": rec.product_id,
                "score": _number(rec.score),
                "reasons": {k: v for k, v in rec.reasons.items() if math.isfinite(v)},
                "rules": list(rec.rules),
                "source": rec.source,
            }
            for rec in result.products
        ],
        "landing": None
        if landing is None
        else {"page": landing.page, "rule_id": landing.rule_id, "default": landing.default},
        "offers": [
            {
                "offer_id": offer.offer_id,
                "code": offer.code,
                "value": _jsonable(offer.value),
                "reason": offer.reason,
                "group": offer.group,
                "priority": offer.priority,
            }
            for offer in result.offers
        ],
        "continue_shopping": {
            "products": [_text(pid) for pid in shopping.products],
            "category": _text(shopping.category),
        },
        "segments": sorted(result.segments),
        "experiments": dict(result.experiments),
        "rules": list(result.rules),
        "context": _context(result.context),
        "degraded": bool(result.degraded),
        "errors": [_text(error) for error in result.trace.errors],
    }


def _context(ctx: Context) -> dict[str, Any]:
    """The context's part of a result: what the request and the history said, so its text
    is made UTF-8 (each lone surrogate as U+FFFD: JSON encoders refuse one)."""
    d, g, t, r = ctx.device, ctx.geo, ctx.time, ctx.referral
    return {
        "device": {
            "type": d.type,
            "os": _text(d.os),
            "browser": _text(d.browser),
            "is_bot": d.is_bot,
            "is_touch": d.is_touch,
        },
        "geo": {
            "country": _text(g.country),
            "region": _text(g.region),
            "city": _text(g.city),
            "continent": _text(g.continent),
            "timezone": _text(g.timezone),
            "climate": g.climate,
            "source": g.source,
        },
        "time": {
            "local": t.local.isoformat() if t.local is not None else None,
            "daypart": t.daypart,
            "season": t.season,
            "is_weekend": t.is_weekend,
        },
        "referral": {
            "source": r.source,
            "medium": r.medium,
            "campaign": _text(r.campaign),
            "site": _text(r.site),
        },
        "user_id": _text(ctx.user_id),
        "session_id": _text(ctx.session_id),
        "notes": [_text(note) for note in ctx.notes],
    }


def _text(value: str | None) -> str | None:
    """``value`` as UTF-8 can hold it: each lone surrogate as U+FFFD."""
    return value if value is None else without_surrogates(value)  # ASCII: itself, at once


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _jsonable(value: Any) -> Any:
    """Configuration values (offer values) as JSON: dates as ISO text, tuples as lists."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_jsonable(v) for v in items]
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)

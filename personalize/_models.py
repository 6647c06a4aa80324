"""The data a caller hands to personalize: requests, histories, products.

These are pydantic v2 models, so a caller gets validation with field names; they are the
lowest layer of the package and import nothing else from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

__all__ = [
    "EVENT_TYPES",
    "MAX_ID_LENGTH",
    "PRODUCT_FACT_SCHEMA",
    "Event",
    "History",
    "Product",
    "Profile",
    "Request",
]

#: Event types the SDK understands. Other types are kept and ignored.
EVENT_TYPES = frozenset(
    {
        "page_view",
        "visit",
        "view",
        "add_to_cart",
        "remove_from_cart",
        "purchase",
        "search",
        "offer_shown",
        "offer_redeemed",
        "offer_sent",
        "email_open",
        "email_click",
        "chat",
        "impression",
        "click",
        "exposure",
    }
)


#: The longest id the request path reads, in characters: ``Request.user_id`` and
#: ``session_id``, the ``product_id`` of a call, and the product and session ids of history
#: events and profiles. A longer id is no id a shop issued (a 1 MB ``user_id`` cost ~90 ms
#: of hashing): ``personalize()`` ignores it and says so in ``Context.notes``.
MAX_ID_LENGTH = 256


#: A lone surrogate: a Python string can hold one (``"\\ud800"``, or a ``surrogateescape``
#: decode), UTF-8 cannot, so libraries that encode their input (RE2, ua-parser-rs) raise.
_SURROGATE = re.compile("[\ud800-\udfff]")


def bounded_id(value: str | None, what: str, notes: list[str]) -> str | None:
    """``value``, or ``None`` with a note when it is longer than :data:`MAX_ID_LENGTH` or
    holds a lone surrogate (no shop issues such an id, no store can key by it, and the
    result that echoes it could not be written as JSON)."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_ID_LENGTH:
        notes.append(f"{what}: {len(value)} characters, over the {MAX_ID_LENGTH} limit; ignored")
        return None
    if not value.isascii() and _SURROGATE.search(value) is not None:
        notes.append(f"{what}: holds a lone surrogate, which UTF-8 cannot encode; ignored")
        return None
    return value


def bounded_ids(request: Request, notes: list[str]) -> Request:
    """``request`` without an over-long or unencodable ``user_id`` or ``session_id`` (each
    noted)."""
    user_id = bounded_id(request.user_id, "user_id", notes)
    session_id = bounded_id(request.session_id, "session_id", notes)
    if user_id is request.user_id and session_id is request.session_id:
        return request
    return request.model_copy(update={"user_id": user_id, "session_id": session_id})


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (``text`` itself when it has none)."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware datetime, reading a naive one as UTC.

    Naive as Python defines it: no ``tzinfo``, or one whose ``utcoffset`` is ``None`` (such
    a value cannot be compared with an aware one).
    """
    return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)


class Request(BaseModel):
    """One incoming page request, as the web app sees it.

    Every field is optional: a missing or malformed value degrades to a default when the
    request is resolved, it never raises there. Building a request does not check lengths
    either (a hostile cookie must not break the web app's adapter): ids longer than
    :data:`MAX_ID_LENGTH` are ignored by ``personalize()``, with a note.

    Attributes:
        user_agent: The ``User-Agent`` header.
        ip: The peer address of the connection (the proxy's, when behind one).
        headers: Request headers; names are matched case-insensitively.
        referrer: The ``Referer`` header.
        url: The full URL requested, with its query string (UTM parameters, click ids).
        now: When the request happened; naive values are read as UTC. Defaults to now.
        user_id: The signed-in customer, if any.
        session_id: The browsing session.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_agent: str | None = None
    ip: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    referrer: str | None = None
    url: str | None = None
    now: datetime | None = None
    user_id: str | None = None
    session_id: str | None = None


class Event(BaseModel):
    """One thing a customer did: viewed, added to cart, bought, opened an email ...

    Attributes:
        type: One of :data:`EVENT_TYPES`; other values are kept and ignored.
        product_id: The product concerned, for product events.
        at: When it happened; naive values are read as UTC.
        quantity: Units, for cart and purchase events.
        price: Unit price, for cart and purchase events.
        order_id: The order a purchase line belongs to.
        session_id: The session the event happened in.
        customer_id: The customer, when events of many customers are mixed.
        category: The category viewed, for category views.
        offer_id: The offer shown, sent or redeemed, for offer events.
        campaign_id: The campaign an ``offer_sent`` event belongs to.
        channel: Where an interaction happened (``email``, ``chat``, ``web`` ...).
        page: The page path, for page views (``/``, ``/c/outerwear``).
        variant: The variant the session was served, for KPI comparisons.
        experiments: Experiment key to variant key, when several experiments ran.
        referrer: The ``Referer`` of a page view or a ``visit``; a store keeps the first
            of a session as its entry referral.
        url: The URL of a page view or a ``visit``, with its query string (UTM
            parameters). A ``visit`` is the entry of a visit that the personalizer
            records (``settings.record.sessions``); it is no page view.
        decision_id: The :attr:`Result.decision_id` an ``impression`` or ``click`` (or an
            ``offer_shown``) belongs to, for attribution.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    product_id: str | None = None
    at: datetime
    quantity: float = 1.0
    price: float | None = None
    order_id: str | None = None
    session_id: str | None = None
    customer_id: str | None = None
    category: str | None = None
    offer_id: str | None = None
    campaign_id: str | None = None
    channel: str | None = None
    page: str | None = None
    variant: str | None = None
    experiments: dict[str, str] = Field(default_factory=dict)
    referrer: str | None = None
    url: str | None = None
    decision_id: str | None = None

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return as_utc(value)


class Profile(BaseModel):
    """Aggregates of a long history, computed once and passed instead of re-reading events.

    A caller with thousands of purchase lines per customer can store a profile and pass it in
    :class:`History`; the request path then reads these totals instead of the events.

    Validation is lenient on purpose (a stored profile must not break the caller's code),
    and a profile may be changed after it is built, so ``personalize()`` sanitizes every
    profile it reads: counts into ``0..1,000,000``, ``NaN`` dropped, the lifetime value
    into ``±1e12``, over-long product ids dropped, each repair noted in ``Context.notes``.

    Attributes:
        purchase_counts: Product id to the number of orders that contained it.
        last_purchased: Product id to when it was last bought.
        order_count: Distinct orders.
        lifetime_value: Sum of price times quantity over purchases.
        first_purchase_at: The first purchase.
        last_purchase_at: The latest purchase.
        viewed_categories: Category to the number of views of it.
        category_last_viewed: Category to when it was last viewed.
        recently_viewed: Viewed products, newest first, each once (at most 50).
        cart: The cart: product id to quantity.
        cart_value: The cart's value.
        abandoned_cart: The abandoned cart: product id to quantity.
        abandoned_cart_value: Its value.
        abandoned_cart_at: When its session ended (its age is read from this).
        abandoned_cart_session: The session it was left in.
        last_session_products: Products viewed in the last earlier session, newest first.
        last_session_category: That session's most viewed category.
        email_opens: Email opens, ever.
        email_clicks: Email clicks, ever.
        chats: Chats, ever.
        engagement_points: Day (``YYYY-MM-DD``, UTC) to engagement points earned that day,
            for the last 90 days.
        offers_shown: Offer id to when it was shown, oldest first (the latest 100).
        offers_redeemed: Offer id to when it was redeemed, oldest first (the latest 100).
        session_id: The current session, when it is still open.
        session_started_at: When it began.
        session_referrer: Its entry referrer.
        session_url: Its entry URL.
        session_utm: Its entry UTM parameters (``utm_source`` ... without the prefix).
        exposures: Experiment key to the variant this visitor was recorded as exposed to.
        order_frequency: Product id to its decayed order frequency at
            ``order_frequency_at``: the sum over the orders holding it of
            ``order_frequency_decay ** (later orders) * 0.5 ** (age /
            order_frequency_half_life_days)``. A store keeps it (one float per product)
            so that the ranking's ``personal`` and ``neighbours`` sources need no order
            times; it is read only from a store's profile, and only when its decay and
            half-life are the ranking's.
        order_frequency_at: The moment the frequencies are given at (the latest order).
        order_frequency_decay: The per-order decay they were folded with.
        order_frequency_half_life_days: The half-life they were folded with.
        complete: Set by a store: the profile summarizes every event (behaviour, engagement,
            offer counters), so the request path reads it and does not walk the events.

    A store (:mod:`personalize.store`) fills the fields after ``last_purchase_at`` too, so
    that no request walks the customer's events; they stay empty in a profile a caller
    builds with :func:`~personalize.context.build_profile`.
    """

    model_config = ConfigDict(extra="forbid")

    purchase_counts: dict[str, int] = Field(default_factory=dict)
    last_purchased: dict[str, datetime] = Field(default_factory=dict)
    order_count: int = 0
    lifetime_value: float = 0.0
    first_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None
    viewed_categories: dict[str, int] = Field(default_factory=dict)
    category_last_viewed: dict[str, datetime] = Field(default_factory=dict)
    recently_viewed: list[str] = Field(default_factory=list)
    cart: dict[str, float] = Field(default_factory=dict)
    cart_value: float = 0.0
    abandoned_cart: dict[str, float] = Field(default_factory=dict)
    abandoned_cart_value: float = 0.0
    abandoned_cart_at: datetime | None = None
    abandoned_cart_session: str | None = None
    last_session_products: list[str] = Field(default_factory=list)
    last_session_category: str | None = None
    email_opens: int = 0
    email_clicks: int = 0
    chats: int = 0
    engagement_points: dict[str, float] = Field(default_factory=dict)
    offers_shown: dict[str, list[datetime]] = Field(default_factory=dict)
    offers_redeemed: dict[str, list[datetime]] = Field(default_factory=dict)
    session_id: str | None = None
    session_started_at: datetime | None = None
    session_referrer: str | None = None
    session_url: str | None = None
    session_utm: dict[str, str] = Field(default_factory=dict)
    exposures: dict[str, str] = Field(default_factory=dict)
    order_frequency: dict[str, float] = Field(default_factory=dict)
    order_frequency_at: datetime | None = None
    order_frequency_decay: float | None = None
    order_frequency_half_life_days: float | None = None
    complete: bool = False
    #: Built by a store from data it checked on append: the request path skips sanitizing.
    #: Private, so no validated input can set it.
    _from_store: bool = PrivateAttr(default=False)

    @classmethod
    def from_store(cls, **fields: Any) -> Profile:
        """A complete profile from a store's checked summary, built without validation.

        What ``model_construct`` does, without its per-field default lookups (pydantic
        inspects every ``default_factory`` on each call: ~1 ms for this model).
        """
        values = {name: make() for name, make in _PROFILE_DEFAULTS.items() if name not in fields}
        values.update(fields, complete=True)
        profile = cls.__new__(cls)
        object.__setattr__(profile, "__dict__", values)
        object.__setattr__(profile, "__pydantic_fields_set__", set(fields) | {"complete"})
        object.__setattr__(profile, "__pydantic_extra__", None)
        object.__setattr__(profile, "__pydantic_private__", {"_from_store": True})
        return profile

    @property
    def from_a_store(self) -> bool:
        """Whether a store built this profile (then it is not sanitized again)."""
        return self._from_store


def _default_maker(field: Any) -> Any:
    if field.default_factory is not None:
        return field.default_factory
    default = field.default
    return lambda: default


#: How to make each ``Profile`` field's default (for :meth:`Profile.from_store`).
_PROFILE_DEFAULTS = {name: _default_maker(f) for name, f in Profile.model_fields.items()}


class History(BaseModel):
    """What the SDK knows about one customer before this request.

    Attributes:
        events: Past events of this customer, in any order.
        loyalty: Loyalty programme details, e.g. ``{"tier": "gold", "points": 1200}``.
        profile: Precomputed purchase aggregates; when given, purchases are read from it
            and purchase events in ``events`` are not counted again.
    """

    model_config = ConfigDict(extra="forbid")

    events: list[Event] = Field(default_factory=list)
    loyalty: dict[str, Any] = Field(default_factory=dict)
    profile: Profile | None = None


class Product(BaseModel):
    """One product of the catalog. Only ``id`` is required.

    Attributes:
        id: Unique product id (SKU).
        title: Display name.
        category: The category path, broadest first (``["apparel", "outerwear"]``); a string
            ``"apparel > outerwear"`` or ``"apparel/outerwear"`` is split.
        brand: Brand name.
        price: Current unit price.
        tags: Free tags (``clearance``, ``new`` ...).
        attributes: Any other facts (``color``, ``season`` ...).
        in_stock: Whether it can be bought now.
        created_at: When it was added to the catalog (for new arrivals).
        complements: Ids of products that go with this one.
        replenishable: Whether customers buy it again and again (repeat candidates).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str | None = None
    category: tuple[str, ...] = ()
    brand: str | None = None
    price: float | None = None
    tags: tuple[str, ...] = ()
    attributes: dict[str, Any] = Field(default_factory=dict)
    in_stock: bool = True
    created_at: datetime | None = None
    complements: tuple[str, ...] = ()
    replenishable: bool = False

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("category", mode="before")
    @classmethod
    def _split_category(cls, value: Any) -> Any:
        return _split(value, ">", "/")

    @field_validator("tags", "complements", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        return _split(value, "|", ",")

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return as_utc(value) if value is not None else None

    @property
    def leaf_category(self) -> str | None:
        """The most specific category, or ``None``."""
        return self.category[-1] if self.category else None

    def facts(self) -> dict[str, Any]:
        """The product as a plain mapping, for ``where:`` selectors in rule actions."""
        return {
            "id": self.id,
            "title": self.title,
            "category": list(self.category),
            "brand": self.brand,
            "price": self.price,
            "tags": list(self.tags),
            "attributes": dict(self.attributes),
            "in_stock": self.in_stock,
            "created_at": self.created_at,
            "complements": list(self.complements),
            "replenishable": self.replenishable,
        }


def _split(value: Any, preferred: str, fallback: str) -> Any:
    """Split a string on ``preferred`` if it occurs, else on ``fallback``; keep non-strings."""
    if not isinstance(value, str):
        return value
    sep = preferred if preferred in value else fallback
    return tuple(part.strip() for part in value.split(sep) if part.strip())


def lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    """Return ``headers`` with lower-cased names (the last of duplicates wins)."""
    return {str(k).lower(): v for k, v in headers.items()}


#: The fields of a product that ``where:`` selectors read, with the kind of each value.
PRODUCT_FACT_SCHEMA: Mapping[str, str] = {
    "id": "string",
    "title": "string",
    "category": "array",
    "brand": "string",
    "price": "number",
    "tags": "array",
    "attributes": "object",
    "in_stock": "boolean",
    "created_at": "datetime",
    "complements": "array",
    "replenishable": "boolean",
}

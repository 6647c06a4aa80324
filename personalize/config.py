"""The merchant's configuration: one document, validated by pydantic, compiled once.

The document's shape (segments, rules, ranking, landing, offers, experiments, settings) is
described by :class:`PersonalizerConfig`; :func:`load_config` reads it from YAML, JSON, TOML
or a mapping and reports every structural problem at once as a :class:`ConfigError` with
the path of each. Conditions (``when:``, ``where:``) are kept as plain mappings here and
checked by the rule compiler, which knows the fact paths and operators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from personalize._document import nesting_problems, read_document
from personalize._types import CDNName, ForwardedHeader
from personalize._validation import (
    DUPLICATE_ID,
    document_problems,
    format_path,
    problems_from_validation,
)
from personalize.errors import ConfigError, Problem

__all__ = [
    "ActiveWindow",
    "Channel",
    "Condition",
    "DiversityConfig",
    "Experiment",
    "IndexConfig",
    "LandingRule",
    "NamespaceRange",
    "Offer",
    "OfferCap",
    "PersonalizerConfig",
    "RankingConfig",
    "RecordSettings",
    "Rule",
    "Settings",
    "Variant",
    "format_path",
    "load_config",
]

#: A condition in the rule language: a MongoDB-style query over fact paths.
Condition = dict[str, Any]
#: Where a decision goes out: on the site (``web``) or in a campaign (``email``).
Channel = Literal["web", "email"]

#: The ranking features that weights apply to, with their default weights.
DEFAULT_WEIGHTS: dict[str, float] = {
    "personal": 20.0,
    "neighbours": 1.0,
    "repeat": 0.0,
    "co_purchase": 0.0,
    "co_view": 1.0,
    "complement": 1.5,
    "affinity": 3.0,
    "popularity": 0.02,
    "trending": 1.5,
    "new_arrival": 0.2,
}


#: The longest span in days a window of days may have (a century): a span the calendar can
#: subtract from any request time.
MAX_DAYS = 36_500.0


class _Strict(BaseModel):
    # No NaN or infinity anywhere: every number must be one the stages can compute with.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class ActiveWindow(_Strict):
    """When a rule or offer is live. Dates without a time cover the whole day.

    Attributes:
        start: First moment (inclusive); written ``from`` in files.
        until: Last day or moment (inclusive).
        timezone: ``visitor`` (the visitor's local time), ``store`` (``settings.timezone``)
            or an IANA zone name.
    """

    start: date | datetime | None = Field(default=None, alias="from")
    until: date | datetime | None = None
    timezone: str = "visitor"

    @field_validator("start", "until", mode="before")
    @classmethod
    def _text_with_a_time_is_a_moment(cls, value: Any) -> Any:
        # pydantic reads "2026-12-01T00:00:00Z" as the date 2026-12-01 (a time of
        # midnight is dropped, and its offset with it): text with a time is a date-time.
        if isinstance(value, str) and len(value) > 10:
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                return value  # pydantic says what is wrong with it
        return value


class Rule(_Strict):
    """A merchandising rule: when its condition holds, its actions apply.

    Attributes:
        id: Unique id, quoted in reasons and traces.
        description: What the rule is for.
        when: The condition; empty means always.
        priority: Higher runs first; ties keep file order.
        placements: Where it applies (``home``, ``pdp``, ``cart`` ...); ``None`` means all.
        channels: The channels it applies on (``web``, ``email``); ``None`` means all.
        active: The window in which it is live.
        stop: Stop evaluating lower-priority rules once this one fires.
        enabled: Switched off rules are compiled but never fire (experiments flip this).
        then: Actions, each a one-key mapping such as ``{"boost": {"where": ..., "by": 2}}``.
    """

    id: str
    description: str | None = None
    when: Condition = Field(default_factory=dict)
    priority: int = 0
    placements: list[str] | None = None
    channels: list[Channel] | None = None
    active: ActiveWindow | None = None
    stop: bool = False
    enabled: bool = True
    then: list[dict[str, Any]] = Field(default_factory=list)


class DiversityConfig(_Strict):
    """At most this many products per category or brand in one result."""

    max_per_category: int | None = Field(default=None, ge=1)
    max_per_brand: int | None = Field(default=None, ge=1)


#: The event fields a file's columns can be mapped to (``ranking.index.columns``).
INDEX_FIELDS = ("type", "product_id", "at", "order_id", "session_id", "customer_id")


class IndexConfig(_Strict):
    """How the interaction index is built (``ranking.index``); see ``docs/scale.md``.

    Attributes:
        half_life_days: Half-life of an interaction's weight in neighbours and popularity.
        trending_half_life_days: Half-life of the recent velocity (trending).
        trending_rise: Trending keeps the velocity of products selling at least this many
            times faster than usual (share of orders under ``trending_half_life_days`` over
            share under ``half_life_days``) and damps the others in proportion; ``null``:
            the plain velocity.
        max_neighbours: Neighbours kept per product.
        co_purchase_scope: ``customer`` or ``order``: what makes two items neighbours.
        country_top_size: Best sellers kept per country.
        category_top_size: Best sellers kept per category and per brand.
        max_items_per_customer: Co-purchase counts at most this many distinct items per
            customer (or order), the most recently bought; ``None`` counts all of them,
            at a cost quadratic in the largest customer.
        columns: A file's column name to the event field it holds, for reading a store's
            export as it is (``InvoiceNo: order_id``).
        defaults: Event field to the value used when the file has no such column
            (``type: purchase`` for an order-line export).
        max_bad_lines: Unreadable lines skipped and reported before the build fails.
        chunk_rows: Rows read per columnar chunk.
    """

    half_life_days: float = Field(default=30.0, gt=0)
    trending_half_life_days: float = Field(default=7.0, gt=0)
    trending_rise: float | None = Field(default=2.0, gt=0)
    max_neighbours: int = Field(default=50, ge=1)
    co_purchase_scope: Literal["customer", "order"] = "order"
    country_top_size: int = Field(default=200, ge=0)
    category_top_size: int = Field(default=200, ge=0)
    max_items_per_customer: int | None = Field(default=500, ge=1)
    columns: dict[str, Literal[INDEX_FIELDS]] = Field(default_factory=dict)  # type: ignore[valid-type]
    defaults: dict[Literal[INDEX_FIELDS], str] = Field(default_factory=dict)  # type: ignore[valid-type]
    max_bad_lines: int = Field(default=100, ge=0)
    chunk_rows: int = Field(default=250_000, ge=1)


class RankingConfig(_Strict):
    """How candidates are scored and filtered.

    Attributes:
        weights: Feature name to weight; features not named keep their default.
        exclude_purchased: Leave out what the customer already bought.
        repurchase_window_days: With ``exclude_purchased``, only purchases this recent are
            left out (``None``: all of them).
        diversity: Per-category and per-brand caps.
        candidates_per_source: How many candidates each source may propose.
        max_anchors: How many of the customer's latest purchases (and views) seed
            co-purchase (and co-view) candidates.
        anchor_half_life_days: Half-life of a past purchase's weight as a co-purchase seed.
        repeat_half_life_days: Half-life of a past purchase's weight as a repeat candidate.
        popular_candidates: How many best sellers (and trending products) join the
            candidates of every request.
        personal_half_life_days: Half-life of an order's weight in the customer's personal
            frequency (the ``personal`` and ``neighbours`` features).
        order_decay: Factor applied to an order's weight in that frequency per later order
            of the customer (1: no decay by order count).
        repurchase_weight: How much a product's repurchase rate (the share of its buyers
            who bought it again) raises its ``personal`` value: ``* (1 + w * rate)``.
        repeat_share_weight: How much the customer's own *repeat share* (the part of
            their order lines after the first order that are products they had bought
            before) keeps their ``personal`` values: ``* (1 + w * lift) / (1 + w)``, where
            ``lift`` is ``2 * share - 1`` clipped to ``[0, 1]`` (0: off). A customer who
            mostly buys again keeps the full values; one who mostly buys new products, or
            has one order, gets ``1 / (1 + w)`` of them.
        neighbour_power: Co-purchase similarities are raised to this power in the
            ``neighbours`` feature (above 1 favours the closest neighbours).
        index: How the interaction index is built.
    """

    weights: dict[str, float] = Field(default_factory=dict)
    exclude_purchased: bool = False
    repurchase_window_days: float | None = Field(default=None, gt=0, le=MAX_DAYS)
    diversity: DiversityConfig = Field(default_factory=DiversityConfig)
    candidates_per_source: int = Field(default=100, ge=1)
    max_anchors: int = Field(default=120, ge=1)
    anchor_half_life_days: float = Field(default=60.0, gt=0)
    repeat_half_life_days: float = Field(default=1000.0, gt=0)
    popular_candidates: int = Field(default=60, ge=0)
    personal_half_life_days: float = Field(default=365.0, gt=0)
    order_decay: float = Field(default=0.95, gt=0, le=1)
    repurchase_weight: float = Field(default=4.0, ge=0)
    repeat_share_weight: float = Field(default=4.0, ge=0)
    neighbour_power: float = Field(default=1.0, gt=0)
    index: IndexConfig = Field(default_factory=IndexConfig)

    def effective_weights(self) -> dict[str, float]:
        """The default weights overlaid with the configured ones."""
        return {**DEFAULT_WEIGHTS, **self.weights}


class LandingRule(_Strict):
    """One landing choice; the first whose condition holds wins. No ``when`` = default."""

    id: str | None = None
    when: Condition = Field(default_factory=dict)
    page: str


class OfferCap(_Strict):
    """A frequency cap counted from offer events in the customer's history.

    Attributes:
        per_customer: At most this many events of kind ``count``.
        days: Counted over the last N days (``None``: ever; at most :data:`MAX_DAYS`).
        count: Which events count: ``shown`` or ``redeemed``.
    """

    per_customer: int = Field(ge=0)
    days: float | None = Field(default=None, gt=0, le=MAX_DAYS)
    count: Literal["shown", "redeemed"] = "redeemed"


class Offer(_Strict):
    """A personalized offer.

    Attributes:
        id: Unique id.
        description: What the offer is for.
        when: Eligibility condition.
        code: The coupon code to show.
        value: What it is worth, e.g. ``{"percent": 10}`` or ``{"amount": 5}``.
        cap: Frequency caps (one or a list).
        group: Exclusivity group: at most one offer per group.
        priority: Higher wins within a group and ranks first.
        placements: Where it may show; ``None`` means everywhere.
        channels: The channels it may go out on (``web``, ``email``); ``None`` means all.
        active: Its schedule window.
    """

    id: str
    description: str | None = None
    when: Condition = Field(default_factory=dict)
    code: str | None = None
    value: dict[str, Any] = Field(default_factory=dict)
    cap: OfferCap | list[OfferCap] | None = None
    group: str | None = None
    priority: int = 0
    placements: list[str] | None = None
    channels: list[Channel] | None = None
    active: ActiveWindow | None = None
    enabled: bool = True

    def caps(self) -> list[OfferCap]:
        """The caps as a list."""
        if self.cap is None:
            return []
        return self.cap if isinstance(self.cap, list) else [self.cap]


class Variant(_Strict):
    """One arm of an experiment.

    Attributes:
        key: Variant key, reported in ``result.experiments``.
        weight: Relative share of the experiment's traffic.
        overrides: Dotted configuration paths to new values, e.g.
            ``{"ranking.weights.co_purchase": 3.0, "rules.cold-weather-boost.enabled": False}``.
        holdout: This arm sees no personalization at all.
    """

    key: str
    weight: float = Field(default=1.0, ge=0)
    overrides: dict[str, Any] = Field(default_factory=dict)
    holdout: bool = False


class NamespaceRange(_Strict):
    """A slice of a namespace: experiments owning disjoint slices never share a visitor.

    Attributes:
        id: The namespace's name.
        start: Start of the slice (inclusive), in ``[0, 1]``.
        end: End of the slice (exclusive), in ``[0, 1]``.
    """

    id: str
    start: float = Field(ge=0, le=1)
    end: float = Field(ge=0, le=1)

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: float, info: ValidationInfo) -> float:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError(f"the slice is empty: end must be above start ({start:g})")
        return end


class Experiment(_Strict):
    """A split test over the configuration.

    Attributes:
        key: Unique experiment key.
        traffic: Fraction of eligible visitors in the experiment (0 to 1).
        when: Targeting condition; visitors outside it are not enrolled.
        seed: Hash seed (defaults to the key).
        hash_attribute: ``user_id`` (falling back to ``session_id``) or ``session_id``.
        variants: The arms; at least one.
        enabled: Off experiments enroll nobody (forced variants still apply, for QA).
        namespace: A slice of a namespace, for mutually exclusive experiments.
    """

    key: str
    traffic: float = Field(default=1.0, ge=0, le=1)
    when: Condition = Field(default_factory=dict)
    seed: str | None = None
    hash_attribute: Literal["user_id", "session_id"] = "user_id"
    variants: list[Variant] = Field(min_length=1)
    enabled: bool = True
    namespace: NamespaceRange | None = None


class RecordSettings(_Strict):
    """What the personalizer records in its store about what it served.

    Attributes:
        offers: An ``offer_shown`` event per offer served, so frequency caps hold with no
            application code.
        exposures: An ``exposure`` event per visitor and experiment, the first time the
            visitor is enrolled (deduplicated through the store's summary).
        impressions: An ``impression`` event per recommended product, with the decision id
            (off by default: one event per product and request).
        sessions: The visit's entry (``url`` and ``referrer``) as a ``visit`` event, when
            the store does not know the visit's entry yet (not a ``page_view``: the page
            itself is the application's or the web adapter's to record).
    """

    offers: bool = True
    exposures: bool = True
    impressions: bool = False
    sessions: bool = True


class Settings(_Strict):
    """Store-wide settings.

    Attributes:
        timezone: The store's IANA zone: default for visitors of unknown zone, and for
            ``active`` windows with ``timezone: store``.
        max_offers: At most this many offers in a result.
        default_limit: Products returned when ``limit`` is not given.
        force_variant_param: Query parameter (``?pz_force=exp:variant``) and, with an
            ``X-`` prefix, header that force experiment variants for QA.
        allow_forced_variants: Honour that parameter and header at all. Off by default, so
            that visitors cannot choose their variant; switch it on for QA environments.
        currency: The store's ISO 4217 currency code, for amounts in offers (``EUR`` ...).
        trusted_proxies: How many proxies of yours stand in front of the app (0: the peer
            address is the client). Needs ``forwarded_header``.
        forwarded_header: The one header those proxies write (``forwarded``,
            ``x-forwarded-for`` or ``x-real-ip``); no other is read. Needs
            ``trusted_proxies`` of 1 or more.
        trusted_cdn: The CDNs whose geo headers are believed (``cloudflare``,
            ``cloudfront``, ``vercel``, ``fastly``, ``appengine``); default none, since any
            client can send them.
        record: What the personalizer records in its store (see :class:`RecordSettings`).
        session_timeout: Minutes of inactivity that end a visit, for the store the
            personalizer builds itself (a store passed in keeps its own retention).
    """

    timezone: str = "UTC"
    max_offers: int = Field(default=3, ge=0)
    default_limit: int = Field(default=10, ge=1)
    force_variant_param: str = "pz_force"
    allow_forced_variants: bool = False
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    trusted_proxies: int = Field(default=0, ge=0)
    forwarded_header: ForwardedHeader | None = None
    trusted_cdn: list[CDNName] = Field(default_factory=list)
    record: RecordSettings = Field(default_factory=RecordSettings)
    session_timeout: float = Field(default=30.0, gt=0, le=24 * 60)

    @field_validator("forwarded_header", "trusted_cdn", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.lower()
        if isinstance(value, list):
            return [item.lower() if isinstance(item, str) else item for item in value]
        return value

    @model_validator(mode="after")
    def _forwarding_pair(self) -> Settings:
        if self.trusted_proxies > 0 and self.forwarded_header is None:
            raise ValueError(
                "trusted_proxies needs forwarded_header: name the header your proxies write "
                "(forwarded, x-forwarded-for or x-real-ip)"
            )
        if self.forwarded_header is not None and self.trusted_proxies == 0:
            raise ValueError(
                "forwarded_header needs trusted_proxies: how many proxies of yours write it"
            )
        return self


class PersonalizerConfig(_Strict):
    """The whole configuration document."""

    version: int = 1
    segments: dict[str, Condition] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    ranking: RankingConfig = Field(default_factory=RankingConfig)
    landing: list[LandingRule] = Field(default_factory=list)
    offers: list[Offer] = Field(default_factory=list)
    experiments: list[Experiment] = Field(default_factory=list)
    settings: Settings = Field(default_factory=Settings)

    @model_validator(mode="after")
    def _unique_ids(self) -> PersonalizerConfig:
        problems: list[str] = []
        for section, ids in (
            ("rules", [r.id for r in self.rules]),
            ("offers", [o.id for o in self.offers]),
            ("landing", [item.id for item in self.landing if item.id is not None]),
            ("experiments", [e.key for e in self.experiments]),
        ):
            seen: set[str] = set()
            for item_id in ids:
                if item_id in seen:
                    problems.append(f"{section}: duplicate id {item_id!r}")
                seen.add(item_id)
        for i, exp in enumerate(self.experiments):
            keys = [v.key for v in exp.variants]
            if len(set(keys)) != len(keys):
                problems.append(f"experiments[{i}].variants: duplicate variant key")
        if problems:
            raise PydanticCustomError(DUPLICATE_ID, "{detail}", {"detail": "; ".join(problems)})
        return self


def load_config(
    source: PersonalizerConfig | Mapping[str, Any] | str | Path,
    *,
    also_check: Callable[[Mapping[str, Any]], list[Problem]] | None = None,
) -> PersonalizerConfig:
    """Read and validate a configuration.

    Args:
        source: A :class:`PersonalizerConfig`, a mapping, or the path of a ``.yaml``/
            ``.yml``, ``.json`` or ``.toml`` file (YAML is loaded safely, without anchors
            or aliases; see :mod:`personalize._document` for the size and depth limits).
        also_check: When the document has any problem, this is called with the raw
            document and its problems are reported too (the personalizer passes its
            condition, action and weight checks), so one load lists every problem.

    Raises:
        ConfigError: Every problem found, each with its path.
    """
    if isinstance(source, PersonalizerConfig):
        return source
    label: str | None = None
    twice: list[Problem] = []  # keys given twice in the file
    if isinstance(source, str | Path):
        data, label = read_document(source, twice)
    else:
        data = source
    if not isinstance(data, Mapping):
        raise ConfigError([Problem("", "the configuration must be a mapping")], source=label)
    too_deep = nesting_problems(data)
    if too_deep:
        raise ConfigError(twice + too_deep, source=label)
    problems = twice + document_problems(data)
    config: PersonalizerConfig | None = None
    try:
        config = PersonalizerConfig.model_validate(dict(data))
    except ValidationError as exc:
        problems = problems_from_validation(exc, data) + problems
    if problems or config is None:
        if also_check is not None:
            problems += also_check(data)
        raise ConfigError(_unique(problems), source=label)
    return config


def _unique(problems: list[Problem]) -> list[Problem]:
    """``problems`` without repeats: the same path and message found by two checks."""
    seen: set[tuple[str, str]] = set()
    kept: list[Problem] = []
    for problem in problems:
        key = (problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept

"""Planning a campaign: one decision per customer on the ``email`` channel, recorded once.

For each customer, :func:`plan_campaign` reads the history, builds an email
:class:`~personalize.Request` (no user agent or address; the country of the customer
record, when it has one; the campaign time), asks the personalizer for the ``email``
placement on the ``email`` channel, gives every chosen offer the customer's own code, and
records an ``offer_sent`` event per offer in the store, with the campaign id, so that caps
on the site count what the email sent.

The store is the campaign's ledger. Before deciding, the customer's own ``offer_sent``
events of this campaign are looked for among the history's recent events: when there are
some, an earlier run of the same campaign already recorded this customer, so nothing is
recorded again and the row carries the offers recorded then, with the same codes (codes
are deterministic). Those events are also left out of the history the decision is made
on, so that a re-run decides as the first run did instead of capping its own offers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from personalize._models import Event, History, Request
from personalize._personalizer import Personalizer
from personalize.campaigns._codes import DEFAULT_CODE_FORMAT, CodeFormat, CodeIssuer
from personalize.campaigns._rows import (
    CampaignOffer,
    CampaignProduct,
    CampaignRow,
    SkippedCustomer,
)
from personalize.campaigns._sources import HistoryReader, customer_of, history_reader
from personalize.offers import OfferChoice
from personalize.store import MAX_ID_CHARS, Store

__all__ = [
    "COUNTRY_HEADER",
    "LISTED_TWICE",
    "SENT",
    "Sends",
    "plan_batches",
    "plan_campaign",
    "sent_events",
]

#: The event type that records an offer sent in a campaign.
SENT = "offer_sent"
#: The header the customer's country is passed in (trust ``cloudflare`` to read it).
COUNTRY_HEADER = "CF-IPCountry"
_SAME_TIME = timedelta(milliseconds=1)
_MAX_COUNTRIES = 1_000  # decisions for new customers kept, one per country
#: Why a customer listed again in the same run is left out (it was planned once).
LISTED_TWICE = "listed more than once: planned at its first listing only"

#: Called with each customer left out and why.
SkipHandler = Callable[[SkippedCustomer], None]


def plan_campaign(
    personalizer: Personalizer,
    customers: Iterable[str | Mapping[str, Any]],
    *,
    campaign_id: str,
    secret: bytes | str,
    placement: str = "email",
    limit: int = 6,
    now: datetime | None = None,
    store: Store | None = None,
    histories: Mapping[str, Any] | str | Path | None = None,
    code_format: CodeFormat | str = DEFAULT_CODE_FORMAT,
    link_base: str = "",
    on_skip: SkipHandler | None = None,
    batch_size: int = 200,
) -> Iterator[CampaignRow]:
    """Plan an email campaign: a row per customer, in input order.

    Args:
        personalizer: Decides offers and products; build it with
            ``trusted_cdn=["cloudflare"]`` for the customers' countries to count (see
            :func:`~personalize.campaigns.load_personalizer`).
        customers: Customer ids, or records with a ``customer_id`` (or ``id``) and
            placeholder fields (``first_name``, ``email``, ``country`` ...).
        campaign_id: Names the campaign: a re-run with the same id records nothing twice
            and issues the same codes.
        secret: The key coupon codes are derived from.
        placement: The placement the products are ranked for.
        limit: How many products per email.
        now: The campaign time (default: now); offers' windows and caps are read at it.
        store: Where histories are read and ``offer_sent`` events recorded.
        histories: Instead of a store: customer id to history (a :class:`History`, a list
            of events or ``{"events": ..., "loyalty": ...}``), or the path of a JSONL file
            of them. Nothing is recorded then.
        code_format: The coupon code template.
        link_base: Prefixed to landing pages that are paths (``https://shop.example``).
        on_skip: Called with each customer left out (no usable id, a history that cannot
            be read, or an id listed earlier in ``customers``); the run goes on.
        batch_size: Customers per store write; rows are yielded once their batch is
            recorded.

    Yields:
        A :class:`CampaignRow` per customer not skipped: one per customer id, however
        many times it is listed.

    Raises:
        ValueError: A bad argument (campaign id, both or neither of ``store`` and
            ``histories``, an empty secret, a bad code format).
        StoreUnavailable: Recording failed; a re-run with the same id resumes.
    """
    when = _aware(now)
    batches = plan_batches(
        personalizer,
        customers,
        campaign_id=campaign_id,
        secret=secret,
        placement=placement,
        limit=limit,
        now=when,
        store=store,
        histories=histories,
        code_format=code_format,
        link_base=link_base,
        on_skip=on_skip,
        batch_size=batch_size,
    )
    for rows, sends in batches:
        if sends and store is not None:
            store.append(sent_events(campaign_id, when, sends))  # recorded, then handed out
        yield from rows


#: The offers a batch sends: ``(customer_id, offer_id)`` pairs, to record as ``offer_sent``.
Sends = list[tuple[str, str]]


def plan_batches(
    personalizer: Personalizer,
    customers: Iterable[str | Mapping[str, Any]],
    *,
    campaign_id: str,
    secret: bytes | str,
    placement: str,
    limit: int,
    now: datetime,
    store: Store | None,
    histories: Mapping[str, Any] | str | Path | None,
    code_format: CodeFormat | str,
    link_base: str,
    on_skip: SkipHandler | None,
    batch_size: int,
) -> Iterator[tuple[list[CampaignRow], Sends]]:
    """:func:`plan_campaign` without the recording: each batch's rows and what it sends.

    The caller records the sends (:func:`sent_events`) before it hands the rows out, so
    that a stopped run never sent what it did not record.
    """
    if not 0 < len(campaign_id) <= MAX_ID_CHARS:
        raise ValueError(f"campaign_id must have 1 to {MAX_ID_CHARS} characters")
    issuer = CodeIssuer(secret, campaign_id, code_format)
    read = history_reader(store=store, histories=histories, now=now)
    planner = _Planner(personalizer, campaign_id, issuer, placement, limit, now, link_base)
    numbered = enumerate(customers)
    seen: set[str] = set()
    while batch := list(itertools.islice(numbered, max(batch_size, 1))):
        yield planner.plan_batch(batch, read, on_skip, seen)


def sent_events(campaign_id: str, now: datetime, sends: Sends) -> list[Event]:
    """The ``offer_sent`` events that record ``sends`` in the store."""
    sent = Event(
        type=SENT,
        at=_aware(now),
        customer_id="-",
        offer_id="-",
        campaign_id=campaign_id,
        channel="email",
    )
    return [sent.model_copy(update={"customer_id": c, "offer_id": o}) for c, o in sends]


@dataclass(frozen=True, slots=True)
class _Decision:
    """What a row takes from a decision: the offers, the products and the landing link."""

    offers: Sequence[OfferChoice]
    products: tuple[CampaignProduct, ...]
    link: str


class _Planner:
    """The per-customer step, with what every customer shares bound once.

    When nothing in the decision can tell two customers apart but their history and their
    country (no experiments, no plugins, no condition on ``user_id``), the decision for a
    customer without history is the same for every such customer of a country: it is made
    once per country and reused (a mailing list is mostly such customers).
    """

    def __init__(
        self,
        personalizer: Personalizer,
        campaign_id: str,
        issuer: CodeIssuer,
        placement: str,
        limit: int,
        now: datetime,
        link_base: str,
    ) -> None:
        self.personalizer = personalizer
        self.campaign_id = campaign_id
        self.issuer = issuer
        self.placement = placement
        self.limit = limit
        self.now = now
        self.link_base = link_base.rstrip("/")
        self.utm = urlencode(
            {"utm_source": "email", "utm_medium": "email", "utm_campaign": campaign_id}
        )
        self.offers = {offer.id: offer for offer in personalizer.config.offers}
        self.titles: dict[str, str | None] = {}
        self.new_customers = _new_customer_decisions(
            personalizer, (campaign_id, placement, limit, now, link_base)
        )

    def plan_batch(
        self,
        batch: Sequence[tuple[int, Any]],
        read: HistoryReader,
        on_skip: SkipHandler | None,
        seen: set[str],
    ) -> tuple[list[CampaignRow], Sends]:
        """The rows of a batch of ``(position, customer)`` and the sends to record.

        ``seen`` holds the ids planned so far in the run (updated): a customer listed again
        is skipped, or the list's duplicates would each get an email and a recorded send.
        """
        known: list[tuple[int, str, dict[str, Any]]] = []
        skipped: list[SkippedCustomer] = []
        for position, customer in batch:
            try:
                customer_id, fields = customer_of(customer)
            except ValueError as exc:
                skipped.append(SkippedCustomer(None, str(exc), position))
                continue
            if customer_id in seen:
                skipped.append(SkippedCustomer(customer_id, LISTED_TWICE, position))
                continue
            seen.add(customer_id)
            known.append((position, customer_id, fields))
        histories = read([customer_id for _, customer_id, _ in known])
        rows: list[CampaignRow] = []
        sends: Sends = []
        for (position, customer_id, fields), history in zip(known, histories, strict=True):
            if isinstance(history, BaseException):
                why = f"history unreadable: {_describe(history)}"
                skipped.append(SkippedCustomer(customer_id, why, position))
                continue
            row = self.plan(customer_id, fields, history)
            rows.append(row)
            if not row.resumed:
                sends.extend((customer_id, o.offer_id) for o in row.offers)
        if on_skip is not None:
            for skip in sorted(skipped, key=lambda s: s.position):
                on_skip(skip)
        return rows, sends

    def plan(self, customer_id: str, fields: dict[str, Any], history: History) -> CampaignRow:
        """The row of one customer whose history was read."""
        history, recorded = _without_own_sends(history, self.campaign_id)
        country = fields.get("country")
        country = country if isinstance(country, str) and country else None
        memo = self.new_customers
        if memo is not None and not recorded and _is_empty(history):
            decision = memo.get(country)
            if decision is None:
                decision = self._decide(customer_id, country, history, recorded)
                if len(memo) < _MAX_COUNTRIES:
                    memo[country] = decision
        else:
            decision = self._decide(customer_id, country, history, recorded)
        issue = self.issuer.issue
        offers = tuple(
            CampaignOffer(
                offer_id=o.offer_id,
                code=issue(o.offer_id, customer_id, o.code if o.code is not None else o.offer_id),
                value=o.value,
                reason=o.reason,
            )
            for o in decision.offers
        )
        return CampaignRow(
            customer_id=customer_id,
            fields=fields,
            offers=offers,
            products=decision.products,
            link=decision.link,
            resumed=bool(recorded),
        )

    def _decide(
        self, customer_id: str, country: str | None, history: History, recorded: Sequence[Event]
    ) -> _Decision:
        request = Request(
            now=self.now,
            user_id=customer_id,
            headers={COUNTRY_HEADER: country} if country is not None else {},
        )
        result = self.personalizer.personalize(
            request, history, placement=self.placement, limit=self.limit, channel="email"
        )
        products = tuple(
            CampaignProduct(
                product_id=r.product_id,
                title=self._title(r.product_id),
                score=r.score,
                reasons=r.reasons,
                rules=r.rules,
            )
            for r in result.products
        )
        page = result.landing.page if result.landing is not None else "/"
        return _Decision(self._offers(result.offers, recorded), products, self._link(page))

    def _title(self, product_id: str) -> str | None:
        try:
            return self.titles[product_id]
        except KeyError:
            product = self.personalizer.catalog.get(product_id)
            title = self.titles[product_id] = product.title if product is not None else None
            return title

    def _offers(
        self, chosen: Sequence[OfferChoice], recorded: Sequence[Event]
    ) -> list[OfferChoice]:
        """The offers of the row: as decided now, or as an earlier run recorded them."""
        if not recorded:
            return list(chosen)
        decided = {o.offer_id: o for o in chosen}
        out: list[OfferChoice] = []
        for offer_id in dict.fromkeys(event.offer_id or "" for event in recorded):
            if offer_id in decided:
                out.append(decided[offer_id])
            elif (offer := self.offers.get(offer_id)) is not None:
                out.append(
                    OfferChoice(
                        offer_id=offer.id,
                        code=offer.code,
                        value=offer.value,
                        reason="sent by an earlier run of this campaign",
                        group=offer.group,
                        priority=offer.priority,
                    )
                )
        return out

    def _link(self, page: str) -> str:
        base = page if "://" in page else f"{self.link_base}{page}"
        return f"{base}{'&' if '?' in base else '?'}{self.utm}"


#: Per personalizer, per campaign setting: its configuration then, and the decisions for
#: new customers by country (kept across the chunks a worker plans).
_NEW_CUSTOMERS: WeakKeyDictionary[
    Personalizer, dict[tuple[Any, ...], tuple[object, dict[str | None, _Decision] | None]]
] = WeakKeyDictionary()
_MAX_SETTINGS = 8


def _new_customer_decisions(
    personalizer: Personalizer, settings: tuple[Any, ...]
) -> dict[str | None, _Decision] | None:
    """The shared decisions for new customers of a campaign, or ``None`` when they may
    differ between customers (see :func:`_decides_alike`); reset by a reload."""
    config = personalizer.config
    memos = _NEW_CUSTOMERS.setdefault(personalizer, {})
    entry = memos.get(settings)
    if entry is None or entry[0] is not config:
        if len(memos) >= _MAX_SETTINGS:
            memos.clear()
        entry = memos[settings] = (config, {} if _decides_alike(personalizer) else None)
    return entry[1]


def _decides_alike(personalizer: Personalizer) -> bool:
    """Whether two customers with the same history and country get the same decision.

    Conservative: no experiments (they hash the customer id), no plugins (their facts,
    operators and scorers may read anything) and no mention of ``user_id`` anywhere in
    the configuration (a condition on it).
    """
    config = personalizer.config
    return (
        not config.experiments
        and not personalizer.registry.plugins
        and "user_id" not in config.model_dump_json()
    )


def _is_empty(history: History) -> bool:
    return not history.events and history.profile is None and not history.loyalty


def _without_own_sends(history: History, campaign_id: str) -> tuple[History, list[Event]]:
    """The history without this campaign's ``offer_sent`` events, and those events."""
    own = [e for e in history.events if e.type == SENT and e.campaign_id == campaign_id]
    if not own:
        return history, own
    events = [e for e in history.events if not (e.type == SENT and e.campaign_id == campaign_id)]
    profile = history.profile
    if profile is not None and profile.offers_shown:
        shown = {k: list(v) for k, v in profile.offers_shown.items()}
        for event in own:
            times = shown.get(event.offer_id or "", [])
            match = next((t for t in times if abs(t - event.at) < _SAME_TIME), None)
            if match is not None:
                times.remove(match)
        profile = profile.model_copy(update={"offers_shown": shown})
    return History.model_construct(events=events, loyalty=history.loyalty, profile=profile), own


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:500]


def _aware(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

"""Hostile request and history data through ``personalize()``: no stage fails, no write is
refused, and the defaults are sensible.

``Result.degraded`` is the strong check here: a stage that raised (the context, the rules,
the store's recording ...) is caught at the request boundary, but it costs the visitor the
whole stage, so hostile data must not get there at all. Addresses come from MaxMind's test
database and user agents from python-user-agents' vectors (``../shared/data``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from personalize import Catalog, Event, History, Personalizer, Profile, Request, Result
from personalize._models import MAX_ID_LENGTH
from personalize.cli import example_store

EMAIL_URL = "https://shop.example/?utm_medium=email&utm_source=newsletter"
DEVICE_TYPES = {"mobile", "tablet", "desktop", "bot", "tv", "console", "other"}


@cache
def _personalizer(data: Path, trusted_proxies: int, header: str | None) -> Personalizer:
    """The example store behind ``trusted_proxies`` proxies, with the MaxMind test City DB."""
    store = example_store()
    with (store / "events.jsonl").open() as fh:
        events = [Event.model_validate_json(line) for line in fh]
    return Personalizer.from_file(
        store / "personalization.yaml",
        catalog=Catalog.from_file(store / "catalog.json"),
        interactions=events,
        geoip=data / "geoip" / "GeoIP2-City-Test.mmdb",
        autoload_plugins=False,
        freeze_gc=False,
        trusted_proxies=trusted_proxies,
        forwarded_header=header,  # type: ignore[arg-type]
        trusted_cdn=("cloudflare", "vercel", "appengine"),
    )


def _fresh() -> Personalizer:
    store = example_store()
    return Personalizer.from_file(
        store / "personalization.yaml",
        catalog=Catalog.from_file(store / "catalog.json"),
        autoload_plugins=False,
        freeze_gc=False,
    )


def _recorded(p: Personalizer, customer: str | None, session: str | None) -> Profile:
    """What the store holds for the visitor: its summary."""
    history = p.store.history(customer, session, now=datetime.now(UTC))  # type: ignore[union-attr]
    assert history.profile is not None
    return history.profile


# -- what the store records for a hostile request ------------------------------------------


@pytest.mark.parametrize(
    ("user_id", "session_id", "visitor"),
    [
        ("", "s1", (None, "s1")),  # an empty cookie value
        ("u" * (MAX_ID_LENGTH + 1), "s1", (None, "s1")),  # the decision ignores it: so here
        ("u1", "", ("u1", None)),
        ("u1", "s" * 10_000, ("u1", None)),
    ],
)
def test_an_unusable_id_is_no_visitor_key_and_the_offer_shown_is_recorded(
    user_id: str, session_id: str, visitor: tuple[str | None, str | None]
) -> None:
    p = _fresh()
    request = Request(user_id=user_id, session_id=session_id, url=EMAIL_URL)
    result = p.personalize(request)
    assert not result.degraded, result.trace.errors
    assert [o.offer_id for o in result.offers] == ["welcome15"]
    stored = _recorded(p, *visitor)
    assert list(stored.offers_shown) == ["welcome15"]
    assert stored.session_url == EMAIL_URL


@pytest.mark.parametrize("field", ["url", "referrer"])
def test_a_long_url_or_referrer_does_not_make_the_store_refuse_the_decision(field: str) -> None:
    p = _fresh()
    long = EMAIL_URL + "&gclid=" + "x" * 10_000
    request = Request.model_validate(
        {"user_id": "u1", "session_id": "s1", "url": EMAIL_URL, field: long}
    )
    result = p.personalize(request)
    assert not result.degraded, result.trace.errors
    stored = _recorded(p, "u1", "s1")
    assert list(stored.offers_shown) == ["welcome15"]
    entry = stored.session_url if field == "url" else stored.session_referrer
    assert entry == long[:4096]
    # The next request of the visit reads the same visit, still offered once.
    again = p.personalize(request)
    assert not again.degraded, again.trace.errors


@pytest.mark.parametrize("url", ["http://[::1/?utm_medium=cpc", "https://a]b/?utm_source=x"])
def test_an_unparsable_entry_url_does_not_break_the_visits_later_requests(url: str) -> None:
    p = _fresh()
    request = Request(user_id="u1", session_id="s1", url=url, referrer="https://www.bing.com/")
    first, second = p.personalize(request), p.personalize(request)
    assert not first.degraded, first.trace.errors
    assert not second.degraded, second.trace.errors
    assert _recorded(p, "u1", "s1").session_referrer == "https://www.bing.com/"


def test_a_tracked_page_view_with_an_unparsable_url_keeps_the_store_readable() -> None:
    p = _fresh()
    now = datetime.now(UTC)
    p.track(Event(type="page_view", url="http://[::1/", at=now, customer_id="u1", session_id="s1"))
    result = p.personalize(Request(user_id="u1", session_id="s1", now=now))
    assert not result.degraded, result.trace.errors


class _Floating(tzinfo):
    """A zone without an offset: Python calls a datetime with it naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return "floating"


def test_a_time_zone_without_an_offset_is_read_as_naive_not_raised() -> None:
    floating = datetime(2026, 6, 1, 23, 30, tzinfo=_Floating())
    assert floating.utcoffset() is None
    p = _fresh()
    request = Request(now=floating, user_id="u1", session_id="s1", url=EMAIL_URL)
    # It used to raise out of personalize(): comparing it with an aware time in the store path.
    result = p.personalize(request)
    assert not result.degraded, result.trace.errors
    assert result.context.time.local is not None
    assert result.context.time.local.utcoffset() is not None
    history = History(events=[Event(type="view", product_id="mug-stoneware", at=floating)])
    assert history.events[0].at.utcoffset() == timedelta(0)  # read as UTC, as naive times are
    result = p.personalize(Request(now=floating), history)
    assert not result.degraded, result.trace.errors
    assert result.context.behaviour.recently_viewed == ("mug-stoneware",)


# -- the property: any hostile request and history, no stage fails ---------------------------

_JUNK = ["\ud800", "\udfff", "\x00", "\ufffd", "%", "%ff", "[", "]", "\u202e", "\U0010ffff"]
_junk = st.sampled_from(_JUNK)
_text = st.text(max_size=40) | _junk | st.builds(lambda a, b: a + b, st.text(max_size=20), _junk)


@cache
def _vectors(data: Path) -> tuple[list[str], list[str]]:
    devices = data / "useragents" / "python-user-agents" / "devices.json"
    agents = sorted(r["ua_string"] for r in json.loads(devices.read_text()).values())
    lookups = json.loads((data / "geoip" / "expected_lookups.json").read_text())
    ips = sorted({row["ip"] for rows in lookups["city"].values() for row in rows})
    return agents, ips


@st.composite
def _address(draw: st.DrawFn, ips: list[str]) -> str:
    ip = draw(st.sampled_from(ips))
    v6 = ":" in ip
    return draw(
        st.sampled_from(
            [
                ip,
                f"[{ip}]:443" if v6 else f"{ip}:443",
                f"{ip}%eth0" if v6 else f"::ffff:{ip}",
                f'for="[{ip}]:4711"' if v6 else f"for={ip};proto=https",
                f"[{ip}" if v6 else f"{ip}.",
            ]
        )
    )


@st.composite
def _requests(draw: st.DrawFn, agents: list[str], ips: list[str]) -> Request:
    agent = draw(st.none() | st.sampled_from(agents) | _text)
    if agent and draw(st.booleans()):
        agent += draw(_junk)
    address = _address(ips)
    names = st.sampled_from(
        ["x-forwarded-for", "X-Forwarded-For", "forwarded", "x-real-ip", "cf-ipcountry",
         "cf-iplatitude", "cf-timezone", "x-vercel-ip-city", "x-appengine-citylatlong",
         "sec-ch-ua-mobile", "x-pz-force"]
    )  # fmt: skip
    values = address | _text | st.sampled_from(["GB", "XX", "nan", "-91", "Asia/Kathmandu", "?1"])
    chain = st.lists(address | _text, max_size=4).map(", ".join)
    offsets = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
    times = st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.none() | offsets
    )
    return Request(
        user_agent=agent,
        ip=draw(st.none() | address | _text),
        headers=draw(st.dictionaries(names, values | chain, max_size=6)),
        referrer=draw(st.none() | _text | st.just("https://www.google.com/search?q=%ff\ud800")),
        url=draw(st.none() | _text | st.just(EMAIL_URL + "&utm_campaign=\ud800") | st.just("http://[::1/?utm_medium=cpc")),
        now=draw(st.none() | times),
        user_id=draw(st.none() | _text | st.just("u" * 300)),
        session_id=draw(st.none() | st.sampled_from(["s1", "s2", ""]) | _text),
    )  # fmt: skip


_numbers = st.floats() | st.integers(-(10**6), 10**6).map(float)
_events = st.builds(
    Event,
    type=st.sampled_from(["view", "add_to_cart", "remove_from_cart", "purchase", "offer_shown",
                          "offer_redeemed", "email_open", "chat", "exposure"]) | _text,
    product_id=st.none() | st.sampled_from(["coat-parka", "mug-stoneware", "ghost"]) | _text,
    at=st.datetimes(timezones=st.none() | st.just(UTC)),
    quantity=_numbers,
    price=st.none() | _numbers,
    order_id=st.none() | _text,
    session_id=st.none() | st.sampled_from(["s1", "s2"]) | _text,
    category=st.none() | _text,
    offer_id=st.none() | st.sampled_from(["comeback10", "welcome15"]) | _text,
    url=st.none() | _text,
)  # fmt: skip
_loyalty = st.dictionaries(
    st.sampled_from(["tier", "points"]),
    st.none() | _text | _numbers | st.booleans() | st.just(10**5000) | st.just("gold"),
    max_size=2,
)
_histories = st.none() | st.builds(History, events=st.lists(_events, max_size=20), loyalty=_loyalty)


@pytest.mark.parametrize(
    ("proxies", "header"),
    [(0, None), (1, "x-forwarded-for"), (2, "forwarded"), (1, "x-real-ip")],
)
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), placement=st.sampled_from(["home", "pdp", "cart"]))
def test_no_stage_fails_on_hostile_requests_and_histories(
    shared_data: Path, proxies: int, header: str | None, data: st.DataObject, placement: str
) -> None:
    agents, ips = _vectors(shared_data)
    p = _personalizer(shared_data, proxies, header)
    request = data.draw(_requests(agents, ips))
    history = data.draw(_histories)  # None: the store's history (and recording)
    result = p.personalize(request, history, placement=placement, product_id="coat-parka")
    assert not result.degraded, result.trace.errors
    ctx = result.context
    assert ctx.device.type in DEVICE_TYPES
    assert ctx.geo.source in {"mmdb", "header", "none"}
    assert ctx.time.local is not None
    assert ctx.time.daypart is not None
    assert ctx.loyalty.points == ctx.loyalty.points  # never NaN
    assert result.landing is not None
    assert "coat-parka" not in [r.product_id for r in result.products]
    result.explain()
    # Written as JSON, it is UTF-8 (a lone surrogate echoed from the request is not).
    result.to_json().encode()
    TypeAdapter(Result).dump_json(result)

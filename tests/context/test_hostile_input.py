"""Hostile request and history data against the real vectors: the resolver degrades, never raises.

User agents come from python-user-agents' ``devices.json`` and addresses from MaxMind's
``expected_lookups.json`` (both in ``../shared/data``), then are spoiled the way a hostile or
broken client would: lone surrogates (a Python string can hold one, UTF-8 cannot), addresses
wrapped as proxies write them (``[v6]:port``, ``v4:port``, ``::ffff:v4``, zone ids, quotes).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize import History, Profile, Request
from personalize.context import ContextResolver
from personalize.context._device import UA_ENGINES, DeviceDetector


@cache
def _user_agents(data: Path) -> list[str]:
    devices = data / "useragents" / "python-user-agents" / "devices.json"
    return sorted(rec["ua_string"] for rec in json.loads(devices.read_text()).values())


@cache
def _city_lookups(data: Path) -> list[dict[str, Any]]:
    lookups = json.loads((data / "geoip" / "expected_lookups.json").read_text())
    rows: list[dict[str, Any]] = lookups["city"]["GeoIP2-City-Test"]
    return [row for row in rows if row["found"] and row["country_iso"]]


@cache
def _resolver(data: Path, header: str) -> ContextResolver:
    return ContextResolver(
        geoip=data / "geoip" / "GeoIP2-City-Test.mmdb", trusted_proxies=1, forwarded_header=header
    )


def _spoiled(text: str, at: int, junk: str) -> str:
    at = at % (len(text) + 1)
    return text[:at] + junk + text[at:]


_JUNK = st.sampled_from(["\ud800", "\udfff", "\udc80\udcff", "\x00", "\ufffd", "\U0010ffff"])


@pytest.mark.parametrize("engine", UA_ENGINES)
@given(index=st.integers(0, 10_000), at=st.integers(0, 400), junk=_JUNK)
def test_a_user_agent_with_a_lone_surrogate_still_parses(
    shared_data: Path, engine: str, index: int, at: int, junk: str
) -> None:
    agents = _user_agents(shared_data)
    agent = agents[index % len(agents)]
    detector = DeviceDetector(cache_size=0, engine=engine)  # type: ignore[arg-type]
    device = detector.detect(_spoiled(agent, at, junk))
    assert device.type in {"mobile", "tablet", "desktop", "bot", "tv", "console", "other"}


def test_a_surrogate_user_agent_through_the_resolver_is_classified(shared_data: Path) -> None:
    phone = next(ua for ua in _user_agents(shared_data) if "iPhone" in ua)
    context = _resolver(shared_data, "x-forwarded-for").resolve(
        Request(user_agent=phone + "\ud800")
    )
    assert context.device.type == "mobile"


def _wrapped(address: str, form: int, header: str) -> str:
    """``address`` as a proxy may write it in ``header``."""
    v6 = ":" in address
    forms = [
        address,
        f"[{address}]:4711" if v6 else f"{address}:4711",
        f"{address}%eth0" if v6 else f"::ffff:{address}",
        f"[{address}%25eth0]" if v6 else f"[::ffff:{address}]:80",
        f'"{address}"',
    ]
    text = forms[form % len(forms)]
    if header == "forwarded":
        quoted = text if text.startswith('"') else f'"{text}"'
        return f"for={quoted};proto=https"
    return text


@given(
    index=st.integers(0, 10_000),
    form=st.integers(0, 10),
    header=st.sampled_from(["x-forwarded-for", "forwarded", "x-real-ip"]),
    client_chain=st.lists(
        st.sampled_from(["6.6.6.6", "for=6.6.6.6", "unknown", "[::1", "\ud800", "1.2.3.4:99"]),
        max_size=5,
    ),
)
def test_a_proxy_written_address_in_any_form_finds_its_city(
    shared_data: Path, index: int, form: int, header: str, client_chain: list[str]
) -> None:
    rows = _city_lookups(shared_data)
    row = rows[index % len(rows)]
    entry = _wrapped(row["ip"], form, header)
    chain = ", ".join([*client_chain, entry]) if header != "x-real-ip" else entry
    context = _resolver(shared_data, header).resolve(
        Request(ip="10.0.0.1", headers={header: chain})
    )
    assert context.geo.source == "mmdb", context.notes
    assert context.geo.country == row["country_iso"]
    assert context.geo.city == row["city"]


@pytest.mark.parametrize(
    "loyalty",
    [
        {"points": 10**5000},  # str() of it raises: over the int digit limit
        {"tier": 10**5000},
        {"tier": "gold", "points": -(10**400)},
        {"tier": [10**5000], "points": [1, 2]},
    ],
)
def test_absurd_loyalty_values_degrade_with_a_note(loyalty: dict[str, Any]) -> None:
    context = ContextResolver().resolve(Request(), History(loyalty=loyalty))
    assert context.loyalty.points == 0.0
    assert context.loyalty.tier in (None, "gold")
    assert any(note.startswith("loyalty:") for note in context.notes)


def test_boolean_loyalty_points_are_no_number() -> None:
    context = ContextResolver().resolve(Request(), History(loyalty={"points": True}))
    assert context.loyalty.points == 0.0
    assert any("points" in note for note in context.notes)


def test_a_callers_complete_profile_with_a_naive_abandoned_time_reads_it_as_utc() -> None:
    now = datetime(2026, 11, 11, tzinfo=UTC)
    profile = Profile(
        abandoned_cart={"mug": 1.0},
        abandoned_cart_value=20.0,
        abandoned_cart_at=datetime(2026, 11, 1),  # naive, as a caller's JSON may give it
        complete=True,
    )
    context = ContextResolver().resolve(Request(), History(profile=profile), now=now)
    assert context.behaviour.abandoned_cart.age_days == 10.0

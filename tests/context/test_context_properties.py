"""Properties: resolve never raises on any request or history, and is deterministic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from context_strategies import histories, requests
from hypothesis import given
from hypothesis import strategies as st

from personalize import History, Request
from personalize.context import ContextResolver, demo_geoip_path

ALL_CDNS = ("cloudflare", "cloudfront", "vercel", "fastly", "appengine")
RESOLVER = ContextResolver(
    geoip=demo_geoip_path(), trusted_proxies=1, forwarded_header="x-forwarded-for"
)
HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
TRUSTING = {
    header: ContextResolver(
        geoip=demo_geoip_path(), trusted_proxies=2, forwarded_header=header, trusted_cdn=ALL_CDNS
    )
    for header in HEADERS
}
FRESH = {
    header: ContextResolver(
        geoip=demo_geoip_path(),
        trusted_proxies=2,
        forwarded_header=header,
        trusted_cdn=ALL_CDNS,
        cache_size=0,
    )
    for header in HEADERS
}
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@given(requests, histories, st.sampled_from(HEADERS))
def test_resolve_never_raises_and_is_deterministic(
    request: Request, history: History | None, header: str
) -> None:
    now = NOW if request.now is None else None
    first = TRUSTING[header].resolve(request, history, now=now)
    second = FRESH[header].resolve(request, history, now=now)
    assert first == second
    assert first.device.type in {"mobile", "tablet", "desktop", "bot", "tv", "console", "other"}
    assert first.geo.source in {"mmdb", "header", "none"}
    assert first.referral.source in {
        "search", "social", "email", "paid", "affiliate", "internal", "direct", "other"
    }  # fmt: skip
    assert 0.0 <= first.engagement.score <= 100.0
    first.facts()


@given(requests, histories, st.randoms(use_true_random=False))
def test_event_order_does_not_matter(
    request: Request, history: History | None, rng: object
) -> None:
    if history is None:
        return
    shuffled = list(history.events)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    # Ties in time keep their given order, so only compare histories with distinct times.
    if len({e.at for e in shuffled}) != len(shuffled):
        return
    other = History(events=shuffled, loyalty=history.loyalty)
    assert RESOLVER.resolve(request, history, now=NOW) == RESOLVER.resolve(request, other, now=NOW)


@pytest.mark.parametrize(
    "moment", [datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 31, 23, 0, tzinfo=UTC)]
)
def test_implausible_request_times_are_clamped_not_raised(moment: datetime) -> None:
    context = RESOLVER.resolve(Request(now=moment), History())
    assert any("implausible request time" in note for note in context.notes)
    assert context.time.local is not None

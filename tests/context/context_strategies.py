"""Hypothesis strategies for requests and histories, garbage included."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from personalize import Event, History, Request

_UAS = st.sampled_from(
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 Chrome/120 Safari/537.36",
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "",
    ]
)
_IPS = st.one_of(
    st.none(),
    st.ip_addresses().map(str),
    st.sampled_from(["999.1.1.1", "192.0.2.1", "2001:db8:3::1", "::ffff:203.0.113.5", "[::1]:80"]),
    st.text(max_size=40),
)
_HEADER_NAMES = st.sampled_from(
    [
        "X-Forwarded-For",
        "Forwarded",
        "X-Real-IP",
        "CF-IPCountry",
        "cf-iplatitude",
        "cf-timezone",
        "x-vercel-ip-city",
        "X-AppEngine-CityLatLong",
        "CloudFront-Viewer-Time-Zone",
        "Sec-CH-UA-Mobile",
    ]
)
_TIMES = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
_TEXT = st.text(max_size=60)

requests = st.builds(
    Request,
    user_agent=st.one_of(st.none(), _UAS, _TEXT),
    ip=_IPS,
    headers=st.dictionaries(st.one_of(_HEADER_NAMES, _TEXT), _TEXT, max_size=6),
    referrer=st.one_of(st.none(), _TEXT, st.just("https://www.google.com/search?q=x")),
    url=st.one_of(
        st.none(), _TEXT, st.just("https://shop.example/?utm_medium=cpc&gclid=1&utm_source=x")
    ),
    now=st.one_of(st.none(), _TIMES),
    user_id=st.one_of(st.none(), _TEXT),
    session_id=st.one_of(st.none(), st.sampled_from(["s1", "s2", "s3"])),
)

_NUMBERS = st.floats(allow_nan=True, allow_infinity=True)
events = st.builds(
    Event,
    type=st.sampled_from(
        [
            "view",
            "page_view",
            "add_to_cart",
            "remove_from_cart",
            "purchase",
            "email_open",
            "email_click",
            "chat",
            "search",
            "mystery",
        ]
    ),
    product_id=st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"])),
    at=_TIMES,
    quantity=_NUMBERS,
    price=st.one_of(st.none(), _NUMBERS),
    order_id=st.one_of(st.none(), st.sampled_from(["o1", "o2"])),
    session_id=st.one_of(st.none(), st.sampled_from(["s1", "s2", "s3"])),
    category=st.one_of(st.none(), st.sampled_from(["x", "y"])),
)
histories = st.one_of(
    st.none(),
    st.builds(
        History,
        events=st.lists(events, max_size=25),
        loyalty=st.dictionaries(
            st.sampled_from(["tier", "points", "other"]),
            st.one_of(st.none(), _TEXT, _NUMBERS, st.integers()),
            max_size=3,
        ),
    ),
)

"""Referral classification: UTM parameters, click ids, referrer hosts, internal traffic."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize import Request
from personalize.context import ContextResolver, Referral
from personalize.context._referral import ReferralClassifier
from personalize.errors import ConfigError

SHOP = "https://shop.example/products/1"


def _referral(url: str | None, referrer: str | None, **kwargs: Any) -> Referral:
    resolver = ContextResolver(**kwargs)
    return resolver.resolve(Request(url=url, referrer=referrer)).referral


@pytest.mark.parametrize(
    ("url", "referrer", "source"),
    [
        (SHOP, None, "direct"),
        (None, None, "direct"),
        (SHOP, "https://www.google.com/", "search"),
        (SHOP, "https://www.google.co.uk/search?q=boots", "search"),
        (SHOP, "https://www.bing.com/search?q=boots", "search"),
        (SHOP, "https://duckduckgo.com/", "search"),
        (SHOP, "android-app://com.google.android.googlequicksearchbox/", "search"),
        (SHOP, "https://l.facebook.com/l.php?u=x", "social"),
        (SHOP, "https://t.co/abc", "social"),
        (SHOP, "https://www.instagram.com/", "social"),
        (SHOP, "https://mail.google.com/mail/u/0/", "email"),
        (SHOP, "android-app://com.google.android.gm/", "email"),
        (SHOP, "https://outlook.live.com/", "email"),
        (SHOP, "https://www.awin1.com/cread.php", "affiliate"),
        (SHOP, "https://shop.example/cart", "internal"),
        (SHOP, "https://www.shop.example/", "internal"),
        (SHOP, "https://some-blog.example/post", "other"),
        (f"{SHOP}?gclid=abc", "https://www.google.com/", "paid"),
        (f"{SHOP}?fbclid=abc", "https://l.facebook.com/", "paid"),
        (f"{SHOP}?msclkid=abc", None, "paid"),
        (f"{SHOP}?ttclid=abc", None, "paid"),
        (f"{SHOP}?utm_medium=cpc&utm_source=google", None, "paid"),
        (f"{SHOP}?utm_medium=PPC", None, "paid"),
        (f"{SHOP}?utm_medium=paid_social&utm_source=facebook", None, "paid"),
        (f"{SHOP}?utm_medium=email&utm_source=newsletter", "https://www.google.com/", "email"),
        (f"{SHOP}?utm_medium=social", None, "social"),
        (f"{SHOP}?utm_medium=affiliate", None, "affiliate"),
        (f"{SHOP}?utm_medium=weird&utm_source=google", None, "search"),
        (f"{SHOP}?utm_medium=weird", None, "other"),
        (f"{SHOP}?utm_source=facebook.com", None, "social"),
        (f"{SHOP}?irclickid=xyz", None, "affiliate"),
    ],
)
def test_sources_are_classified(url: str | None, referrer: str | None, source: str) -> None:
    assert _referral(url, referrer).source == source


def test_utm_wins_over_the_referrer_and_fills_medium_campaign_site_term() -> None:
    referral = _referral(
        f"{SHOP}?utm_source=spring-news&utm_medium=email&utm_campaign=spring26&utm_term=boots",
        "https://www.google.com/",
    )
    assert referral.source == "email"
    assert referral.medium == "email"
    assert referral.campaign == "spring26"
    assert referral.site == "spring-news"
    assert referral.term == "boots"


def test_organic_search_reports_medium_site_and_query() -> None:
    referral = _referral(SHOP, "https://www.bing.com/search?q=red+boots")
    assert referral.medium == "organic"
    assert referral.site == "bing.com"
    assert referral.term == "red boots"


def test_host_lists_are_extendable() -> None:
    referral = _referral(
        SHOP,
        "https://news.partner.example/a",
        referral_hosts={"partner.example": "affiliate"},
    )
    assert referral.source == "affiliate"
    internal = _referral(
        SHOP, "https://checkout.pay.example/", internal_hosts=["checkout.pay.example"]
    )
    assert internal.source == "internal"


def test_an_unknown_source_class_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"referral_hosts\.x\.example"):
        ContextResolver(referral_hosts={"x.example": "telepathy"})


def test_wildcard_brands_need_a_short_top_level_domain() -> None:
    classifier = ReferralClassifier()
    assert classifier.host_class("google.com.au") == "search"
    assert classifier.host_class("google.example.org.evil") is None
    assert classifier.host_class("notgoogle.com") is None


@pytest.mark.parametrize(
    ("url", "referrer"),
    [
        ("http://[::1", None),
        (None, "http://[invalid"),
        ("https://shop.example/?" + "&".join(f"a{i}=1" for i in range(500)), None),
        ("x" * 100_000, "y" * 100_000),
    ],
)
def test_malformed_urls_degrade(url: str | None, referrer: str | None) -> None:
    context = ContextResolver().resolve(Request(url=url, referrer=referrer))
    assert context.referral.source in {"direct", "other"}


@pytest.mark.parametrize(
    ("url", "referrer"),
    [
        ("https://shop.example/?utm_medium=email&utm_campaign=x", None),
        ("https://[::1/?utm_medium=email", "https://www.google.com/search?q=boots"),
        ("https://shop.example/", "https://[bad"),
        ("https://shop.example/?" + "&".join(f"k{i}=v" for i in range(300)), None),
    ],
)
def test_a_remembered_page_gives_the_same_referral_query_and_notes(
    url: str, referrer: str | None
) -> None:
    remembering, fresh = ContextResolver(), ContextResolver(cache_size=0)
    request = Request(url=url, referrer=referrer, user_agent="Mozilla/5.0")
    first = remembering.resolve(request)
    for _ in range(2):
        again, expected = remembering.resolve(request), fresh.resolve(request)
        assert (again.referral, again.query, again.notes) == (
            expected.referral,
            expected.query,
            expected.notes,
        )
        assert again.notes == first.notes


def _every_suffix_class(classifier: ReferralClassifier, host: str) -> str | None:
    """The classification by the definition: every suffix of the host, longest first."""
    labels = host.split(".")
    for i in range(len(labels)):
        found = classifier._exact.get(".".join(labels[i:]))
        if found is not None:
            return found
        rest = labels[i + 1 :]
        if rest and len(rest) <= 2 and all(len(label) <= 3 for label in rest):
            found = classifier._brands.get(labels[i])
            if found is not None:
                return found
    return None


_LABELS = st.sampled_from(
    ["www", "news", "l", "m", "google", "facebook", "com", "co", "uk", "au", "org", "mail",
     "yahoo", "search", "android", "evil", "a", "googlequicksearchbox", "x", "t"]
)  # fmt: skip


@given(labels=st.lists(_LABELS, min_size=1, max_size=12))
def test_host_classes_match_the_every_suffix_definition(labels: list[str]) -> None:
    host = ".".join(labels)
    classifier = ReferralClassifier({"deep.sub.news.example.org": "social", "yahoo.*": "search"})
    assert classifier.host_class(host) == _every_suffix_class(classifier, host)


def test_a_referrer_host_of_thousands_of_labels_costs_no_more_than_a_short_one() -> None:
    resolver = ContextResolver(cache_size=0)
    deep = Request(referrer="https://" + "a." * 2040 + "google.co.uk/")  # 4096 characters
    short = Request(referrer="https://news.google.co.uk/")

    def cost(request: Request) -> float:
        resolver.resolve(request)
        times = []
        for _ in range(5):
            start = time.thread_time_ns()
            assert resolver.resolve(request).referral.source == "search"
            times.append(time.thread_time_ns() - start)
        return sorted(times)[2] / 1e6

    # Every suffix joined and looked up took ~48 ms here; now about the short host's cost.
    assert cost(deep) < cost(short) + 3.0

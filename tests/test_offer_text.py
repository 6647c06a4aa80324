"""Offer values in words, in the store's currency."""

from __future__ import annotations

from typing import Any

import pytest

from personalize import ConfigError, load_config
from personalize._offer_text import describe_offer_value, format_money


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        ({"percent": 10}, "USD", "10% off"),
        ({"percent": 12.5}, "USD", "12.5% off"),
        ({"amount": 5}, "EUR", "€5 off"),
        ({"amount": 5}, "USD", "$5 off"),
        ({"amount": 7.5}, "GBP", "£7.50 off"),
        ({"amount": 500}, "JPY", "¥500 off"),
        ({"amount": 50}, "SEK", "50 SEK off"),
        ({"amount": 5, "currency": "GBP"}, "EUR", "£5 off"),
        ({"free_shipping": True}, "USD", "free shipping"),
        ({"percent": 10, "free_shipping": True}, "USD", "10% off + free shipping"),
        ({"free_shipping": False}, "USD", "no value"),
        ({"bonus_points": 200}, "USD", "bonus points 200"),
        ({}, "USD", "no value"),
    ],
)
def test_an_offer_value_reads_as_text(value: dict[str, Any], currency: str, text: str) -> None:
    assert describe_offer_value(value, currency) == text


def test_money_has_thousands_separators_and_cents_only_when_needed() -> None:
    assert format_money(1234.5, "EUR") == "€1,234.50"
    assert format_money(1234, "CAD") == "CA$1,234"


def test_the_currency_setting_defaults_to_usd_and_must_be_an_iso_code() -> None:
    assert load_config({}).settings.currency == "USD"
    assert load_config({"settings": {"currency": "EUR"}}).settings.currency == "EUR"
    with pytest.raises(ConfigError, match=r"settings\.currency"):
        load_config({"settings": {"currency": "euro"}})

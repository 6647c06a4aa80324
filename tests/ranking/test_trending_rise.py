"""Trending with ``trending_rise``: products selling faster than usual keep their velocity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from ranking_helpers import NOW, purchase

from personalize import Catalog, Personalizer, Product
from personalize.config import IndexConfig, load_config
from personalize.errors import ConfigError
from personalize.ranking import InteractionIndex
from personalize.ranking._build import log_scale, trending_scale


def steady_and_rising() -> list:  # type: ignore[type-arg]
    """``steady`` sells 3 orders a week for 20 weeks; ``rising`` 2 orders, both this week."""
    events = []
    for week in range(20):
        for n in range(3):
            days = 7 * week + n + 0.5
            events.append(purchase(f"s{week}-{n}", f"s{week}-{n}", "steady", days))
    events += [purchase("r0", "r0", "rising", 0.5), purchase("r1", "r1", "rising", 1.5)]
    return events


def test_a_rising_product_outranks_a_steady_best_seller() -> None:
    plain = InteractionIndex.build(steady_and_rising(), now=NOW, trending_rise=None)
    rising = InteractionIndex.build(steady_and_rising(), now=NOW, trending_rise=2.0)
    assert plain.trending_top(2) == ("steady", "rising")  # plain velocity: the big seller
    assert rising.trending_top(2) == ("rising", "steady")
    assert rising.trending("rising") == pytest.approx(plain.trending("rising"))
    assert rising.trending("steady") < plain.trending("steady")


def test_the_default_build_and_config_damp_what_does_not_rise() -> None:
    assert IndexConfig().trending_rise == 2.0
    default = InteractionIndex.build(steady_and_rising(), now=NOW)
    assert default.trending_top(1) == ("rising",)
    assert default.stats["trending_rise"] == 2.0


def test_the_config_option_reaches_the_index_the_personalizer_builds() -> None:
    catalog = Catalog([Product(id="steady", price=1.0), Product(id="rising", price=1.0)])
    events = steady_and_rising()
    for rise, top in ((None, "steady"), (2.0, "rising")):
        config = {"ranking": {"index": {"trending_rise": rise}}}
        personalizer = Personalizer(config, catalog=catalog, interactions=events)
        assert personalizer.index.trending_top(1) == (top,)


def test_trending_rise_must_be_positive_or_null() -> None:
    config = load_config({"ranking": {"index": {"trending_rise": None}}})
    assert config.ranking.index.trending_rise is None
    with pytest.raises(ConfigError, match="trending_rise"):
        load_config({"ranking": {"index": {"trending_rise": 0}}})


counts = arrays(np.float64, st.integers(1, 30), elements=st.floats(0, 1e6))


@given(recent=counts, rise=st.floats(0.1, 10))
def test_trending_scale_stays_in_the_unit_interval_and_below_the_plain_velocity(
    recent: np.ndarray,
    rise: float,  # type: ignore[type-arg]
) -> None:
    usual = recent * 3 + 1.0  # recent orders are a part of the usual ones
    scaled = trending_scale(recent, usual, rise)
    plain = log_scale(recent)
    assert np.all(scaled >= 0)
    assert np.all(scaled <= plain + 1e-12)
    assert np.array_equal(trending_scale(recent, usual, None), plain)


def test_products_rising_at_least_the_factor_keep_their_velocity() -> None:
    recent = np.array([10.0, 10.0, 1.0])
    usual = np.array([10.0, 100.0, 0.0])  # shares: 1/11 vs 10/11 usual; 10/21 recent each
    scaled = trending_scale(recent, usual, 2.0)
    plain = log_scale(recent)
    assert scaled[0] == pytest.approx(plain[0])  # 5.2x its usual share
    assert scaled[1] == pytest.approx(plain[1] * (10 / 21) / (100 / 110) / 2)
    assert scaled[2] == 0.0  # no usual sales to compare with


def test_an_old_sale_is_not_rising() -> None:
    events = [purchase("a", "a", "old", 200), purchase("b", "b", "new", 1)]
    index = InteractionIndex.build(events, now=NOW)
    assert index.trending_top(1) == ("new",)

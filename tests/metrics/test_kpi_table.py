"""KPIs from hand-computed event logs: every expected number is worked out in comments."""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize import Event
from personalize.metrics import compare, format_table, kpis, kpis_by, session_kpis, srm

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def ev(kind: str, sid: str | None, seconds: float, **fields: Any) -> Event:
    return Event(type=kind, session_id=sid, at=T0 + timedelta(seconds=seconds), **fields)


def log() -> list[Event]:
    c, t = {"variant": "control"}, {"variant": "treatment"}
    return [
        # s1 (control): 1 page view, 1 product view, add to cart, buys two lines of order o1:
        # revenue 20*1 + 5*2 = 30; one order; on site 0..300 s.
        ev("page_view", "s1", 0, page="/", **c),
        ev("view", "s1", 30, product_id="p1", **c),
        ev("add_to_cart", "s1", 60, product_id="p1", price=20, **c),
        ev("purchase", "s1", 300, product_id="p1", price=20, quantity=1, order_id="o1", **c),
        ev("purchase", "s1", 300, product_id="p2", price=5, quantity=2, order_id="o1", **c),
        # s2 (control): 2 page views, add to cart, no purchase (abandoned); 3600..3720 s.
        ev("page_view", "s2", 3600, **c),
        ev("page_view", "s2", 3610, **c),
        ev("add_to_cart", "s2", 3720, product_id="p3", price=15, **c),
        # s3 (control): a single page view: time on site 0.
        ev("page_view", "s3", 7200, **c),
        # s4 (treatment): 3 page views, add, remove, add, buy 40*1 without order id; 0..600 s.
        ev("page_view", "s4", 0, **t),
        ev("page_view", "s4", 60, **t),
        ev("page_view", "s4", 120, **t),
        ev("view", "s4", 130, product_id="p1", **t),
        ev("add_to_cart", "s4", 140, product_id="p1", price=40, **t),
        ev("remove_from_cart", "s4", 150, product_id="p1", **t),
        ev("add_to_cart", "s4", 160, product_id="p1", price=40, **t),
        ev("purchase", "s4", 600, product_id="p1", price=40, **t),
        # s5 (treatment): buy-now without a cart: 12.5*2 = 25; 0..60 s.
        ev("page_view", "s5", 0, **t),
        ev("purchase", "s5", 60, product_id="p9", price=12.5, quantity=2, **t),
        # No session: skipped.
        ev("page_view", None, 0),
    ]


def test_per_session_figures() -> None:
    sessions, notes = session_kpis(log())
    by_id = {s.session_id: s for s in sessions}
    s1, s2, s3, s4, s5 = (by_id[f"s{i}"] for i in range(1, 6))
    assert (s1.page_views, s1.product_views, s1.revenue, s1.orders, s1.duration) == (
        1,
        1,
        30.0,
        1,
        300.0,
    )
    assert (s2.abandoned, s2.converted, s2.duration) == (True, False, 120.0)
    assert (s3.duration, s3.events) == (0.0, 1)
    assert (s4.add_to_cart, s4.remove_from_cart, s4.orders, s4.revenue) == (2, 1, 1, 40.0)
    assert (s5.converted, s5.added_to_cart, s5.abandoned) == (True, False, False)
    assert notes == ["1 events without a session_id were skipped"]


def test_all_sessions_together() -> None:
    row = kpis(log())["all"]
    assert row.sessions == 5
    assert row.page_views_per_session == pytest.approx(8 / 5)  # 1+2+1+3+1 = 8
    assert row.add_to_cart_rate == pytest.approx(3 / 5)  # s1, s2, s4
    assert row.cart_abandonment_rate == pytest.approx(1 / 3)  # s2 of s1, s2, s4
    assert row.conversion_rate == pytest.approx(3 / 5)  # s1, s4, s5
    assert row.revenue == pytest.approx(95.0)  # 30 + 40 + 25
    assert row.revenue_per_session == pytest.approx(19.0)  # 95 / 5
    assert row.orders == 3
    assert row.average_order_value == pytest.approx(95 / 3)
    assert row.total_time_on_site == pytest.approx(1080.0)  # 300+120+0+600+60
    assert row.average_time_on_site == pytest.approx(216.0)  # 1080 / 5


def test_per_variant() -> None:
    table = kpis_by(log(), "variant")
    assert table.groups == ("control", "treatment")
    control, treatment = table["control"], table["treatment"]
    assert control.sessions == 3
    assert control.page_views_per_session == pytest.approx(4 / 3)  # (1+2+1)/3
    assert control.add_to_cart_rate == pytest.approx(2 / 3)
    assert control.cart_abandonment_rate == pytest.approx(1 / 2)
    assert control.conversion_rate == pytest.approx(1 / 3)
    assert control.revenue_per_session == pytest.approx(10.0)  # 30 / 3
    assert control.average_time_on_site == pytest.approx(140.0)  # (300+120+0)/3
    assert treatment.sessions == 2
    assert treatment.page_views_per_session == pytest.approx(2.0)  # (3+1)/2
    assert treatment.add_to_cart_rate == pytest.approx(1 / 2)
    assert treatment.cart_abandonment_rate == pytest.approx(0.0)  # 0 of 1
    assert treatment.conversion_rate == pytest.approx(1.0)
    assert treatment.revenue_per_session == pytest.approx(32.5)  # (40+25)/2
    assert treatment.average_order_value == pytest.approx(32.5)  # 65 / 2 orders
    assert treatment.average_time_on_site == pytest.approx(330.0)  # (600+60)/2


def test_mappings_with_iso_strings_give_the_same_table() -> None:
    dicts = [e.model_dump(mode="json", exclude_defaults=True) for e in reversed(log())]
    assert kpis_by(dicts).rows == kpis_by(log()).rows


def test_rates_without_denominator_are_none() -> None:
    row = kpis([ev("page_view", "s1", 0)])["all"]
    assert row.cart_abandonment_rate is None
    assert row.average_order_value is None
    assert kpis([])["all"].conversion_rate is None


def test_group_by_experiment_key_and_by_function() -> None:
    events = [
        ev("page_view", "a", 0, experiments={"exp1": "x", "exp2": "y"}),
        ev("page_view", "b", 0, experiments={"exp1": "z"}),
    ]
    assert kpis_by(events, "experiments.exp1").groups == ("x", "z")
    table = kpis_by(events, "experiments.exp2")
    assert table.groups == ("y",)
    assert "1 sessions without a group were left out" in table.notes
    assert kpis_by(events, lambda e: "one").groups == ("one",)


def test_a_session_in_two_groups_keeps_its_earliest() -> None:
    events = [ev("page_view", "s", 10, variant="b"), ev("page_view", "s", 0, variant="a")]
    table = kpis_by(events)
    assert table.groups == ("a",)
    assert any("two groups" in note for note in table.notes)


def test_the_earliest_group_wins_whatever_the_event_order() -> None:
    # Read in this order, "a" is first met at 10 s, then at 5 s (still "a"), then "b" at
    # 7 s: the earliest grouped event is the one at 5 s, so the session is in "a".
    events = [
        ev("page_view", "s", 10, variant="a"),
        ev("page_view", "s", 5, variant="a"),
        ev("page_view", "s", 7, variant="b"),
    ]
    assert kpis_by(events).groups == ("a",)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", None]), min_size=1, max_size=8),
    st.randoms(use_true_random=False),
)
def test_a_session_s_group_does_not_depend_on_the_order_events_arrive_in(
    groups: list[str | None], rng: Any
) -> None:
    events = [ev("page_view", "s", float(i), variant=g) for i, g in enumerate(groups)]
    expected = next((g for g in groups if g is not None), None)
    rng.shuffle(events)
    (row,), _ = session_kpis(events, "variant")
    assert row.group == expected


@pytest.mark.parametrize("price", [math.nan, math.inf, -math.inf])
def test_a_purchase_with_a_non_finite_price_counts_no_revenue_and_is_noted(price: float) -> None:
    events = [
        ev("purchase", "s1", 0, product_id="p", price=20.0, variant="a"),
        ev("purchase", "s2", 0, product_id="p", price=price, variant="a"),
        ev("page_view", "s3", 0, variant="b"),
        ev("page_view", "s4", 0, variant="b"),
    ]
    table = kpis_by(events)
    row = table["a"]
    assert (row.revenue, row.revenue_per_session, row.converted_sessions) == (20.0, 10.0, 2)
    assert any("not a finite number" in note for note in table.notes)
    revenue = next(c for c in compare(table, "b") if c.metric == "revenue_per_session")
    assert math.isfinite(revenue.result.difference)
    assert math.isfinite(revenue.result.p_value)


def test_a_mapping_with_a_price_that_is_not_a_number_counts_no_revenue() -> None:
    at = T0.isoformat()
    events = [
        {"type": "purchase", "session_id": "s", "at": at, "price": "abc"},
        {"type": "purchase", "session_id": "s", "at": at, "price": "12.5", "quantity": "2"},
    ]
    table = kpis(events)
    assert table["all"].revenue == 25.0
    assert any("not a finite number" in note for note in table.notes)


@pytest.mark.parametrize(
    ("price", "quantity"), [(10**400, 1), (2, 10**400)], ids=["price", "quantity"]
)
def test_a_mapping_price_or_quantity_beyond_a_double_counts_no_revenue(
    price: int, quantity: int
) -> None:
    # An integer too large for a float (a corrupt JSON number) raised OverflowError out
    # of kpis: it is not a finite number, so it adds 0 with the note.
    at = T0.isoformat()
    events = [
        {"type": "purchase", "session_id": "s", "at": at, "price": price, "quantity": quantity},
        {"type": "purchase", "session_id": "s", "at": at, "price": 3.0},
    ]
    table = kpis(events)
    assert table["all"].revenue == 3.0
    assert table["all"].converted_sessions == 1
    assert any("not a finite number" in note for note in table.notes)


def test_mapping_order_ids_are_read_as_text_and_a_list_is_no_order_id() -> None:
    # An order id 7 and "7" were two orders, and a list as order id raised TypeError
    # (unhashable) out of kpis.
    at = T0.isoformat()
    line = {"type": "purchase", "session_id": "s", "at": at, "price": 1.0}
    events = [
        {**line, "order_id": 7},
        {**line, "order_id": "7"},
        {**line, "order_id": ["o"]},
        {**line},
    ]
    table = kpis(events)
    assert table["all"].orders == 2  # order "7", and the lines without a usable id
    assert table["all"].revenue == 4.0


@settings(max_examples=50, deadline=None)
@given(
    prices=st.lists(
        st.floats(min_value=0.01, max_value=1e6, allow_nan=False), min_size=2, max_size=8
    ),
    seed=st.randoms(use_true_random=False),
)
def test_revenue_does_not_depend_on_the_order_of_purchase_lines(
    prices: list[float], seed: random.Random
) -> None:
    # Revenue was added line by line in arrival order: 0.1 + 0.2 + 0.3 is
    # 0.6000000000000001 and 0.3 + 0.2 + 0.1 is 0.6, so the same log in another order
    # gave another table. It is now the correctly rounded sum.
    events = [ev("purchase", "s", 0, product_id="p", price=p, variant="a") for p in prices]
    shuffled = events[:]
    seed.shuffle(shuffled)
    assert kpis_by(events).rows == kpis_by(shuffled).rows
    assert kpis_by(shuffled)["a"].revenue == math.fsum(prices)


def test_revenue_of_point_one_point_two_point_three_is_the_same_either_way() -> None:
    events = [ev("purchase", "s", 0, product_id="p", price=p) for p in (0.1, 0.2, 0.3)]
    assert kpis(events)["all"].revenue == kpis(events[::-1])["all"].revenue == 0.6


def test_revenue_beyond_a_double_is_infinite_not_an_error() -> None:
    # Two purchases of 1e308 (garbage, but finite): math.fsum raised OverflowError
    # (intermediate overflow) where adding line by line had given inf.
    at = T0.isoformat()
    line = {"type": "purchase", "at": at, "price": 1e308, "variant": "a"}
    one_session = kpis([{**line, "session_id": "s"}, {**line, "session_id": "s"}])
    assert one_session["all"].revenue == math.inf
    two_sessions = kpis_by([{**line, "session_id": "s"}, {**line, "session_id": "t"}])
    assert two_sessions["a"].revenue == math.inf
    mixed = kpis(
        [
            {**line, "session_id": "s"},
            {**line, "session_id": "s"},
            {**line, "price": -1e308, "session_id": "s"},
        ]
    )
    assert mixed["all"].revenue == 1e308


def test_sessions_of_opposite_infinite_revenue_give_nan_not_an_error() -> None:
    # A session of +inf revenue and one of -inf (returns of 1e308, twice): math.fsum
    # raised ValueError ("-inf + inf") out of kpis_by, and out of compare() before that.
    at = T0.isoformat()

    def line(session: str, price: float, variant: str) -> dict[str, Any]:
        return {
            "type": "purchase",
            "at": at,
            "session_id": session,
            "price": price,
            "variant": variant,
        }

    events = [
        line("s", 1e308, "a"),
        line("s", 1e308, "a"),
        line("t", -1e308, "a"),
        line("t", -1e308, "a"),
    ]
    events += [line("u", 1.0, "b"), line("w", 2.0, "b")]
    table = kpis_by(events)
    assert math.isnan(table["a"].revenue)
    revenue = next(c for c in compare(table, "b") if c.metric == "revenue_per_session")
    assert math.isnan(revenue.result.p_value)
    assert "revenue / session" in format_table(table, control="b")


def test_purchase_without_price_counts_no_revenue() -> None:
    row = kpis([ev("purchase", "s", 0, product_id="p")])["all"]
    assert row.revenue == 0.0
    assert row.conversion_rate == 1.0


def test_comparison_covers_every_metric_with_the_right_test() -> None:
    comparisons = compare(kpis_by(log()), "control")
    tests = {c.metric: c.test for c in comparisons}
    assert tests == {
        "page_views_per_session": "welch",
        "add_to_cart_rate": "z",
        "cart_abandonment_rate": "z",
        "conversion_rate": "z",
        "revenue_per_session": "welch",
        "average_time_on_site": "welch",
    }
    conversion = next(c for c in comparisons if c.metric == "conversion_rate")
    assert conversion.result.difference == pytest.approx(1 - 1 / 3)
    revenue = next(c for c in comparisons if c.metric == "revenue_per_session")
    assert revenue.result.control == pytest.approx(10.0)
    assert revenue.result.treatment == pytest.approx(32.5)


def test_unknown_control_raises() -> None:
    with pytest.raises(KeyError):
        compare(kpis_by(log()), "nope")


def test_srm_of_a_table_uses_session_counts() -> None:
    check = srm(kpis_by(log()), {"control": 0.6, "treatment": 0.4})
    assert check.observed == {"control": 3, "treatment": 2}
    assert check.expected == {"control": pytest.approx(3.0), "treatment": pytest.approx(2.0)}
    assert check.p_value == pytest.approx(1.0)


def test_format_table_prints_kpis_comparisons_and_srm() -> None:
    text = format_table(kpis_by(log()), control="control")
    lines = text.splitlines()
    assert lines[0].split() == ["variant", "control", "treatment"]
    assert lines[1].split() == ["sessions", "3", "2"]
    assert "revenue / session        10.00      32.50" in text
    assert "treatment vs control" in text
    assert "95% CI" in text
    assert "sample ratio: chi2 = " in text
    assert "note: 1 events without a session_id were skipped" in text


def test_format_table_without_control_prints_kpis_only() -> None:
    text = format_table(kpis(log()))
    assert "vs" not in text
    assert text.splitlines()[0].split() == ["all", "all"]


def test_a_revenue_too_large_to_square_gives_an_undefined_comparison_not_an_error() -> None:
    # One garbage purchase of 1e200: its squared deviation overflows a float, and
    # `x ** 2` raised OverflowError out of compare() and format_table().
    events = [*log(), ev("purchase", "s6", 0, product_id="p", price=1e200, variant="treatment")]
    comparisons = {c.metric: c.result for c in compare(kpis_by(events), "control")}
    revenue = comparisons["revenue_per_session"]
    assert revenue.treatment == pytest.approx((25 + 40 + 1e200) / 3)
    assert math.isnan(revenue.p_value)
    assert math.isnan(revenue.ci_low)
    assert math.isnan(revenue.ci_high)
    assert not math.isnan(comparisons["page_views_per_session"].p_value)
    text = format_table(kpis_by(events), control="control")
    assert "revenue / session" in text


def test_format_table_compares_each_group_once() -> None:
    # 40 groups (a channel key, say): every group's section re-ran compare() for all the
    # groups, 40 x 39 x 6 tests (about 2.9 s of CPU); once is 39 x 6 (about 0.1 s).
    events = [
        ev(kind, f"{g}-{s}", s, variant=f"v{g:02d}", price=float(s % 3))
        for g in range(40)
        for s in range(20)
        for kind in ("page_view", "purchase")
    ]
    table = kpis_by(events)
    start = time.thread_time()
    text = format_table(table, control="v00")
    assert time.thread_time() - start < 1.0
    assert text.count(" vs v00") == 39


def test_format_table_with_a_control_not_in_the_table_says_so_in_a_note() -> None:
    # compare() raises KeyError for such a control; format_table printed the KPIs alone,
    # as if no control had been named, and the misspelt name went unnoticed.
    text = format_table(kpis_by(log()), control="contrl")
    assert "vs" not in text
    assert "note: control 'contrl' is not a group of the table (control, treatment)" in text
    assert text.splitlines()[0].split() == ["variant", "control", "treatment"]


def test_session_ids_are_read_as_text_so_int_and_str_are_one_session() -> None:
    # Mapping events (from JSON, a database row) may carry a numeric session id. Mixing 7
    # and "8" at the same start raised TypeError sorting the sessions, and 7 and "7" were
    # two sessions.
    at = "2026-01-05T10:00:00Z"
    events: list[dict[str, Any]] = [
        {"type": "page_view", "at": at, "session_id": 7, "variant": "a"},
        {"type": "page_view", "at": "2026-01-05T10:01:00Z", "session_id": "7", "variant": "a"},
        {"type": "page_view", "at": at, "session_id": "8", "variant": "a"},
        {"type": "page_view", "at": at, "session_id": 0, "variant": "a"},
    ]
    table = kpis_by(events)
    assert sorted(s.session_id for s in table.sessions["a"]) == ["0", "7", "8"]
    assert table["a"].total_time_on_site == 60.0
    assert kpis(events)["all"].sessions == 3


def test_a_nan_session_id_is_no_session() -> None:
    # pandas writes a missing id as NaN (DataFrame.to_dict("records")): read as text,
    # every such event became one session "nan" (and before that, each NaN object a
    # session of its own).
    at = "2026-01-05T10:00:00Z"
    events: list[dict[str, Any]] = [
        {"type": "page_view", "at": at, "session_id": math.nan},
        {"type": "page_view", "at": "2026-01-05T11:00:00Z", "session_id": float("nan")},
        {"type": "page_view", "at": at, "session_id": 17850},
    ]
    table = kpis(events)
    assert table["all"].sessions == 1
    assert "2 events without a session_id were skipped" in table.notes


def test_an_unhashable_session_id_is_skipped_with_a_note() -> None:
    # A list as session id raised TypeError (unhashable type) out of kpis and kpis_by.
    at = "2026-01-05T10:00:00Z"
    events: list[dict[str, Any]] = [
        {"type": "page_view", "at": at, "session_id": ["s1"], "variant": "a"},
        {"type": "page_view", "at": at, "session_id": {"id": "s1"}, "variant": "a"},
        {"type": "page_view", "at": at, "session_id": "s1", "variant": "a"},
    ]
    for table in (kpis(events), kpis_by(events)):
        assert table.rows[table.groups[0]].sessions == 1
        assert "2 events with a session_id that is not text (a list, a mapping) were skipped" in (
            table.notes
        )


def test_events_with_an_empty_session_id_are_skipped_not_one_session() -> None:
    # An empty session id (a form default, an unset cookie) is no session: those events
    # were all counted as one long session "" (here 5 hours on site).
    events = [
        ev("page_view", "", 0, variant="a"),
        ev("page_view", "", 5 * 3600, variant="a"),
        ev("page_view", "s1", 0, variant="a"),
    ]
    table = kpis_by(events)
    assert table["a"].sessions == 1
    assert table["a"].total_time_on_site == 0.0
    assert "2 events without a session_id were skipped" in table.notes


@pytest.mark.parametrize(("confidence", "label"), [(0.95, "95% CI"), (0.999, "99.9% CI")])
def test_format_table_names_the_confidence_level_it_used(confidence: float, label: str) -> None:
    # A 99.9% interval was headed "100% CI" (rounded to a whole percent).
    text = format_table(kpis_by(log()), control="control", confidence=confidence)
    assert label in text
    assert "100% CI" not in text


def test_a_tie_for_the_earliest_group_is_settled_by_name_not_by_arrival() -> None:
    # Two grouped events at the same first second: the session's group was whichever
    # arrived first, so the same log merged in another order gave another table.
    events = [ev("page_view", "s", 0, variant="b"), ev("view", "s", 0, variant="a")]
    assert kpis_by(events).groups == ("a",)
    assert kpis_by(events[::-1]).groups == ("a",)
    assert any("two groups" in note for note in kpis_by(events).notes)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["s1", "s2"]),
            st.sampled_from([0.0, 0.0, 1.0]),
            st.sampled_from(["a", "b", None]),
            st.sampled_from(["page_view", "purchase", "add_to_cart"]),
        ),
        min_size=1,
        max_size=10,
    ),
    st.randoms(use_true_random=False),
)
def test_the_table_does_not_depend_on_the_order_events_arrive_in(
    specs: list[tuple[str, float, str | None, str]], rng: Any
) -> None:
    events = [ev(kind, sid, at, variant=group, price=1.0) for sid, at, group, kind in specs]
    shuffled = events[:]
    rng.shuffle(shuffled)
    assert kpis_by(shuffled).rows == kpis_by(events).rows

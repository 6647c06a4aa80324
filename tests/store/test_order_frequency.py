"""A store folds each product's decayed order frequency, so a decision read from a store
ranks a customer's own products as the same events passed in would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize import Event, History, Request
from personalize.config import RankingConfig
from personalize.context import ContextResolver
from personalize.ranking import InteractionIndex, RankingInput
from personalize.ranking._personal import frequency
from personalize.store import MemoryStore, Store
from personalize.store._summary import FREQUENCY_DECAY, FREQUENCY_HALF_LIFE_DAYS, Summary

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
RESOLVER = ContextResolver()
INDEX = InteractionIndex.build([], now=NOW)


def _line(order: int, product: str, days_ago: float) -> Event:
    return Event(
        type="purchase",
        customer_id="c1",
        order_id=f"o{order}",
        product_id=product,
        price=2.0,
        at=NOW - timedelta(days=days_ago),
    )


def _frequency(history: History, **options: object) -> dict[str, float]:
    ctx = RESOLVER.resolve(Request(now=NOW), history)
    request = RankingInput(
        context=ctx,
        catalog=None,  # type: ignore[arg-type]  # frequency reads the history alone
        index=INDEX,
        config=RankingConfig.model_validate(options),
        placement="home",
        product_id=None,
        limit=10,
        now=NOW,
        per_source=50,
    )
    return frequency(request)


def test_the_fold_has_the_ranking_defaults() -> None:
    config = RankingConfig()
    fold = (FREQUENCY_DECAY, FREQUENCY_HALF_LIFE_DAYS)
    assert fold == (config.order_decay, config.personal_half_life_days)


#: Orders (days ago, oldest first) of 1-3 products out of 6.
baskets = st.lists(
    st.tuples(
        st.floats(0, 900, allow_nan=False),
        st.lists(st.sampled_from([f"p{i}" for i in range(6)]), min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=25,
).map(lambda orders: sorted(orders, key=lambda o: -o[0]))


@settings(max_examples=60, deadline=None)
@given(baskets, st.booleans())
def test_a_stores_frequency_is_the_frequency_of_the_events(
    orders: list[tuple[float, list[str]]], late_lines: bool
) -> None:
    events = [_line(n, pid, days) for n, (days, products) in enumerate(orders) for pid in products]
    if late_lines and len(orders) > 1:  # a line of the previous order after the next began
        days, _ = orders[-2]
        events.append(_line(len(orders) - 2, "p5", days))
    store = MemoryStore()
    store.append(events)
    expected = _frequency(History(events=events))
    got = _frequency(store.history("c1", now=NOW, events=False))
    assert got.keys() == expected.keys()
    for pid, value in expected.items():
        assert got[pid] == pytest.approx(value, rel=1e-9, abs=1e-300)


def test_other_settings_than_the_folds_fall_back_to_order_counts() -> None:
    events = [_line(0, "mug", 300), _line(1, "mug", 200), _line(2, "kettle", 1)]
    store = MemoryStore()
    store.append(events)
    history = store.history("c1", now=NOW, events=False)
    stored = _frequency(history)
    tuned = _frequency(history, order_decay=0.5)
    assert stored["mug"] == pytest.approx(_frequency(History(events=events))["mug"])
    # the fallback: orders * 0.5 ** (age of the latest purchase / half-life)
    assert tuned["mug"] == pytest.approx(2 * 0.5 ** (200 / FREQUENCY_HALF_LIFE_DAYS))


def test_a_state_written_before_the_frequency_was_kept_still_reads() -> None:
    summary = Summary()
    for event in (_line(0, "mug", 30), _line(1, "tea", 3)):
        summary.apply(event)
    state = summary.to_json()
    del state["frequency"]  # the state of an older version
    state["purchases"] = {p: bought[:2] for p, bought in state["purchases"].items()}
    old = Summary(state)
    old.apply(_line(2, "mug", 1))
    profile = old.to_profile(NOW)
    assert profile.order_frequency == {}
    assert profile.purchase_counts == {"mug": 2, "tea": 1}
    history = History(profile=profile)
    assert _frequency(history)["mug"] == pytest.approx(2 * 0.5 ** (1 / FREQUENCY_HALF_LIFE_DAYS))


def test_a_callers_profile_cannot_set_the_frequency() -> None:
    from personalize import Profile

    forged = Profile(
        purchase_counts={"mug": 1},
        last_purchased={"mug": NOW - timedelta(days=30)},
        order_count=1,
        order_frequency={"mug": 1e300},
        order_frequency_at=NOW,
        order_frequency_decay=FREQUENCY_DECAY,
        order_frequency_half_life_days=FREQUENCY_HALF_LIFE_DAYS,
        complete=True,
    )
    assert _frequency(History(profile=forged))["mug"] < 2.0  # read as order counts


def test_every_backend_keeps_the_frequency(store: Store) -> None:
    events = [_line(n, p, 40 - n) for n in range(12) for p in ("mug", f"x{n % 3}")]
    expected = _frequency(History(events=events))
    for event in events:  # one append per line: every write reads its ledger back
        store.append([event])
    got = _frequency(store.history("c1", now=NOW, events=False))
    assert got == pytest.approx(expected, rel=1e-9)


def test_a_retention_folds_with_other_settings_for_a_ranking_that_uses_them() -> None:
    from personalize.store import Retention

    events = [_line(n, p, 300 - 20 * n) for n in range(10) for p in ("mug", f"x{n % 4}")]
    store = MemoryStore(Retention(order_decay=0.8, personal_half_life_days=90.0))
    store.append(events)
    history = store.history("c1", now=NOW, events=False)
    got = _frequency(history, order_decay=0.8, personal_half_life_days=90.0)
    expected = _frequency(History(events=events), order_decay=0.8, personal_half_life_days=90.0)
    assert got == pytest.approx(expected, rel=1e-9)
    assert history.profile is not None
    assert history.profile.order_frequency_decay == 0.8


def test_a_retention_refuses_a_decay_outside_0_to_1() -> None:
    from personalize.store import Retention

    with pytest.raises(ValueError, match="order_decay"):
        Retention(order_decay=1.5)
    with pytest.raises(ValueError, match="personal_half_life_days"):
        Retention(personal_half_life_days=0.0)


def test_the_personalizers_own_store_folds_with_its_rankings_settings() -> None:
    from personalize import Catalog, Personalizer, Product

    catalog = Catalog([Product(id=p, title=p) for p in ("mug", "tea", "pot")])
    config = {"ranking": {"order_decay": 0.7, "personal_half_life_days": 50}}
    events = [_line(n, p, 100 - 10 * n) for n in range(6) for p in ("mug", "tea")[: 1 + n % 2]]
    stored = Personalizer(config, catalog=catalog)
    stored.track_many(events)
    given = Personalizer(config, catalog=catalog)
    request = Request(user_id="c1", now=NOW)
    from_store = stored.personalize(request, limit=3)
    from_events = given.personalize(request, History(events=events), limit=3)
    assert [(r.product_id, r.reasons.get("personal")) for r in from_store.products] == [
        (r.product_id, pytest.approx(r.reasons.get("personal"), rel=1e-9))
        for r in from_events.products
    ]
    assert any(r.reasons.get("personal") for r in from_store.products)


def test_a_store_folded_with_other_settings_says_so_in_the_ranking_trace() -> None:
    from personalize import Catalog, Personalizer, Product

    catalog = Catalog([Product(id=p, title=p) for p in ("mug", "tea")])
    store = MemoryStore()  # folds with the defaults
    store.append([_line(0, "mug", 10), _line(1, "tea", 5)])
    tuned = Personalizer({"ranking": {"order_decay": 0.8}}, catalog=catalog, store=store)
    trace = tuned.personalize(Request(user_id="c1", now=NOW)).trace
    assert any("read as order counts" in line for line in trace.lines("ranking"))
    default = Personalizer({}, catalog=catalog, store=store)
    trace = default.personalize(Request(user_id="c1", now=NOW)).trace
    assert not any("read as order counts" in line for line in trace.lines("ranking"))

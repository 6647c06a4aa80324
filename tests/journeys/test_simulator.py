"""The journey simulator: determinism, the event log, arms, and what shoppers saw."""

from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from journey_helpers import CONFIG, store_catalog, store_events

from personalize import Catalog, ConfigError, Product, load_config
from personalize.experiments import compile_experiments
from personalize.journeys import (
    ARM_EXPERIMENT,
    CONTROL,
    PERSONALIZED,
    SessionRecord,
    Simulator,
    with_arms,
)
from personalize.metrics import kpis_by, read_events
from personalize.rules import compile_condition


@pytest.fixture(scope="module")
def simulator() -> Simulator:
    return Simulator(CONFIG, catalog=store_catalog(), interactions=store_events(), seed=7, days=6)


@pytest.fixture(scope="module")
def records(simulator: Simulator) -> list[SessionRecord]:
    return [r for shopper in simulator.population(150) for r in simulator.journeys(shopper)]


def _run(tmp_path: Path, name: str, seed: int, shoppers: int = 40) -> bytes:
    sim = Simulator(CONFIG, catalog=store_catalog(), interactions=store_events(), seed=seed, days=4)
    path = tmp_path / name
    sim.run(path, shoppers=shoppers, progress=False)
    return path.read_bytes()


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    assert _run(tmp_path, "a.jsonl", seed=3) == _run(tmp_path, "b.jsonl", seed=3)


def test_another_seed_writes_another_log(tmp_path: Path) -> None:
    assert _run(tmp_path, "a.jsonl", seed=3) != _run(tmp_path, "b.jsonl", seed=4)


def test_a_shopper_lives_the_same_journey_in_any_population(simulator: Simulator) -> None:
    small, large = simulator.population(5), simulator.population(500)
    first = [r.events for r in simulator.journeys(small[4])]
    again = [r.events for r in simulator.journeys(large[4])]
    assert first == again


def test_the_log_round_trips_through_read_events(tmp_path: Path, simulator: Simulator) -> None:
    path = tmp_path / "events.jsonl"
    summary = simulator.run(path, shoppers=30, progress=False)
    events = read_events(path)
    assert len(events) == summary.events
    expected = [
        e for s in simulator.population(30) for r in simulator.journeys(s) for e in r.events
    ]
    assert events == expected


def test_every_event_names_its_arm_and_experiments(records: list[SessionRecord]) -> None:
    for record in records:
        for event in record.events:
            assert event.variant == record.arm
            assert event.experiments[ARM_EXPERIMENT] == record.arm
            assert "weights-v2" in event.experiments


def test_kpis_by_variant_find_both_arms(tmp_path: Path, simulator: Simulator) -> None:
    out = io.StringIO()
    summary = simulator.run(out, shoppers=60, progress=False)
    path = tmp_path / "events.jsonl"
    path.write_text(out.getvalue(), encoding="utf-8")
    table = kpis_by(read_events(path), "variant")
    assert table.groups == (CONTROL, PERSONALIZED)
    assert sum(row.sessions for row in table.rows.values()) == summary.sessions


def test_a_shopper_stays_in_one_arm(records: list[SessionRecord]) -> None:
    arms: dict[int, set[str]] = {}
    for record in records:
        arms.setdefault(record.shopper, set()).add(record.arm)
    assert all(len(seen) == 1 for seen in arms.values())


def test_viewed_products_were_shown_or_browsed(records: list[SessionRecord]) -> None:
    catalog = store_catalog()
    checked = 0
    for record in records:
        served = iter(record.served)
        shown = set(next(served).products)
        for event in record.events:
            if event.type == "page_view" and event.page and event.page.startswith("/c/"):
                category = event.page.removeprefix("/c/")
                shown = {p.id for p in catalog if p.leaf_category == category}
            elif event.type == "view":
                assert event.product_id in shown
                checked += 1
                page = next(served)
                assert (page.placement, page.product_id) == ("pdp", event.product_id)
                shown = set(page.products)
    assert checked > 50


def test_the_control_arm_sees_no_offers(records: list[SessionRecord]) -> None:
    control = [r for r in records if r.arm == CONTROL]
    assert control
    assert all(not s.offers for r in control for s in r.served)
    assert not any(e.type == "offer_shown" for r in control for e in r.events)


def test_personalized_product_pages_recommend_other_products(
    records: list[SessionRecord],
) -> None:
    pdp = [s for r in records if r.arm == PERSONALIZED for s in r.served if s.placement == "pdp"]
    assert pdp
    assert all(s.product_id is not None and s.product_id not in s.products for s in pdp)


def test_abandoned_carts_come_back_with_the_comeback_offer(tmp_path: Path) -> None:
    sim = Simulator(CONFIG, catalog=store_catalog(), interactions=store_events(), seed=11, days=10)
    records = [r for s in sim.population(400) for r in sim.journeys(s)]
    abandoned = [r for r in records if r.abandoned]
    assert abandoned
    comebacks = [r for r in records if r.comeback and r.arm == PERSONALIZED]
    assert comebacks
    offered = [r for r in comebacks if any(e.offer_id == "comeback10" for e in r.events)]
    assert offered
    redeemed = [e for r in records for e in r.events if e.type == "offer_redeemed"]
    assert any(e.offer_id == "comeback10" for e in redeemed)


def test_the_comeback_offer_respects_its_cap(records: list[SessionRecord]) -> None:
    redeemed_at: dict[int, list[int]] = {}
    for record in records:
        for event in record.events:
            if event.type == "offer_redeemed" and event.offer_id == "comeback10":
                redeemed_at.setdefault(record.shopper, []).append(record.day)
    assert all(len(days) == 1 for days in redeemed_at.values())


def test_purchases_are_net_of_the_redeemed_discount(records: list[SessionRecord]) -> None:
    catalog = store_catalog()
    for record in records:
        redeemed = {e.offer_id for e in record.events if e.type == "offer_redeemed"}
        for event in record.events:
            if event.type == "purchase" and event.product_id is not None:
                list_price = catalog.get(event.product_id).price  # type: ignore[union-attr]
                assert event.price is not None
                assert list_price is not None
                if not redeemed - {"loyal-free-shipping"}:
                    assert event.price == list_price
                else:
                    assert event.price < list_price


def test_the_summary_counts_sessions_and_timing(simulator: Simulator) -> None:
    summary = simulator.run(io.StringIO(), shoppers=20, progress=False)
    assert summary.sessions == sum(summary.arms.values())
    assert sum(summary.shoppers_per_arm.values()) == 20
    assert summary.personalizer_calls >= summary.sessions
    assert 0 < summary.personalizer_seconds <= summary.seconds
    assert summary.variant_shares == {"weights-v2": {"control": 0.5, "heavy-copurchase": 0.5}}


def test_the_summary_shares_are_the_split_the_buckets_make() -> None:
    config = load_config(CONFIG)
    low = config.experiments[0].model_copy(
        update={
            "traffic": 0.01,
            "variants": [
                v.model_copy(update={"weight": w})
                for v, w in zip(config.experiments[0].variants, (1.0, 2.0), strict=True)
            ],
        }
    )
    config = config.model_copy(update={"experiments": [low]})
    sim = Simulator(
        config, catalog=store_catalog(), interactions=store_events(), control_share=0.33333
    )
    plan = compile_experiments(sim.config, compile_condition)
    summary = sim.run(io.StringIO(), shoppers=2, progress=False)
    assert summary.shares == plan.shares(ARM_EXPERIMENT)
    assert summary.variant_shares == {"weights-v2": plan.shares("weights-v2")}
    assert summary.variant_shares["weights-v2"]["control"] == pytest.approx(0.34)


def test_the_arms_are_a_holdout_experiment_put_first() -> None:
    config = with_arms(load_config(CONFIG), control_share=0.3, seed=5)
    arms = config.experiments[0]
    assert arms.key == ARM_EXPERIMENT
    assert [(v.key, v.weight, v.holdout) for v in arms.variants] == [
        (CONTROL, 0.3, True),
        (PERSONALIZED, pytest.approx(0.7), False),
    ]
    assert config.experiments[1].key == "weights-v2"


def test_an_experiment_already_named_sim_arm_is_refused() -> None:
    config = with_arms(load_config(CONFIG))
    with pytest.raises(ConfigError, match="sim-arm"):
        with_arms(config)


def test_a_control_share_outside_zero_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="control_share"):
        with_arms(load_config(CONFIG), control_share=1.0)


def test_a_catalog_without_categories_is_simulated_without_browsing() -> None:
    catalog = Catalog([Product(id=f"p{i}", price=5.0 + i) for i in range(12)])
    sim = Simulator({}, catalog=catalog, seed=1, days=3)
    records = [r for shopper in sim.population(30) for r in sim.journeys(shopper)]
    assert len({r.shopper for r in records}) == 30
    pages = [e.page or "" for r in records for e in r.events if e.type == "page_view"]
    assert not any(page.startswith("/c/") for page in pages)


def test_the_seasonal_bonus_follows_the_session_day_not_the_first_day() -> None:
    catalog = Catalog(
        [Product(id="coat", price=90.0, category="wear", tags=["winter"])]
        + [Product(id=f"p{i}", price=5.0, category="wear") for i in range(3)]
    )
    sim = Simulator({}, catalog=catalog, seed=1, days=10, start=date(2026, 11, 25))
    toronto = next(s for s in sim.population(50) if s.place.name == "Toronto")
    bonus = sim.choice.season_bonus
    base = toronto.affinity["wear"]
    assert sim._affinity(toronto, "coat", datetime(2026, 11, 28, tzinfo=UTC)) == base
    assert sim._affinity(toronto, "coat", datetime(2026, 12, 2, tzinfo=UTC)) == base + bonus


def test_a_large_category_is_indexed_in_linear_time() -> None:
    catalog = Catalog([Product(id=f"p{i}", price=5.0, category="all") for i in range(30_000)])
    start = time.thread_time()
    Simulator({}, catalog=catalog, seed=1, days=1)
    assert time.thread_time() - start < 3.0  # was quadratic: about 7 s


@pytest.mark.parametrize("days", [0, -3])
def test_fewer_than_one_day_is_refused_when_built(days: int) -> None:
    with pytest.raises(ConfigError, match="days"):
        Simulator(CONFIG, catalog=store_catalog(), interactions=store_events(), days=days)


class _Hangup(io.StringIO):
    """A terminal that goes away: the first progress update fails."""

    def write(self, text: str) -> int:
        raise BrokenPipeError("the terminal went away")


def test_an_interrupted_run_leaves_the_previous_log_whole(
    tmp_path: Path, simulator: Simulator
) -> None:
    path = tmp_path / "events.jsonl"
    simulator.run(path, shoppers=5, progress=False)
    before = path.read_bytes()
    with pytest.raises(BrokenPipeError):
        simulator.run(path, shoppers=30, progress=True, stream=_Hangup())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["events.jsonl"]


def test_a_gz_log_is_written_compressed(tmp_path: Path, simulator: Simulator) -> None:
    path = tmp_path / "events.jsonl.gz"
    summary = simulator.run(path, shoppers=10, progress=False)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert len(read_events(path)) == summary.events

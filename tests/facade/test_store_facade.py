"""The facade with a store: histories read from it, what was served recorded in it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from personalize import Catalog, Event, History, Personalizer, Request
from personalize.store import MemoryStore, SQLiteStore, ThreadedAsyncStore

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def make(store: Path, store_catalog: Catalog, store_personalizer: Personalizer) -> object:
    """Build a personalizer on the example shop with the given store and settings."""

    def build(visitor_store: object = "memory", **settings: object) -> Personalizer:
        config = store_personalizer.config.model_dump(by_alias=True, exclude_unset=True)
        config.setdefault("settings", {}).update(settings)
        for offer in config["offers"]:
            if offer["id"] == "comeback10":  # shown at most once a month
                offer["cap"] = {"per_customer": 1, "days": 30, "count": "shown"}
        return Personalizer(
            config,
            catalog=store_catalog,
            interactions=store_personalizer.index,
            autoload_plugins=False,
            store=visitor_store,  # type: ignore[arg-type]
        )

    return build


def _cart(customer: str, session: str, at: datetime) -> list[Event]:
    return [
        Event(type="view", customer_id=customer, session_id=session, product_id="parka-01", at=at),
        Event(
            type="add_to_cart",
            customer_id=customer,
            session_id=session,
            product_id="parka-01",
            price=189.0,
            at=at + timedelta(minutes=1),
        ),
    ]


def test_a_returning_visitor_reads_the_abandoned_cart_and_the_comeback_offer_once(make) -> None:
    p = make()
    p.track_many(_cart("c1", "s1", NOW - timedelta(days=2)))
    request = Request(user_id="c1", session_id="s2", now=NOW)
    first = p.personalize(request)
    assert first.context.behaviour.abandoned_cart.items == ("parka-01",)
    assert first.context.behaviour.abandoned_cart.session_id == "s1"
    assert [o.offer_id for o in first.offers][:1] == ["comeback10"]
    # The offer was recorded as shown: its cap (1 in 30 days) holds on the next page.
    second = p.personalize(request)
    assert "comeback10" not in [o.offer_id for o in second.offers]
    assert any("comeback10: capped" in line for line in second.trace.sections["offers"])
    assert not first.degraded
    assert not second.degraded


def test_an_explicit_history_bypasses_the_store(make) -> None:
    p = make()
    p.track_many(_cart("c1", "s1", NOW - timedelta(days=2)))
    request = Request(user_id="c1", session_id="s2", now=NOW)
    result = p.personalize(request, History())
    assert result.context.behaviour.abandoned_cart.items == ()
    # Nothing was recorded either: the store's history still offers the comeback.
    assert "comeback10" in [o.offer_id for o in p.personalize(request).offers]


def test_no_store_keeps_every_request_independent(make) -> None:
    p = make(None)
    assert p.store is None
    with pytest.raises(RuntimeError, match="no store"):
        p.track(Event(type="view", customer_id="c1", product_id="x", at=NOW))
    history = History(events=_cart("c1", "s1", NOW - timedelta(days=2)))
    request = Request(user_id="c1", session_id="s2", now=NOW)
    offers = [[o.offer_id for o in p.personalize(request, history).offers] for _ in range(2)]
    assert offers[0] == offers[1]
    assert "comeback10" in offers[0]


def test_page_two_of_a_visit_from_search_keeps_its_referral(make) -> None:
    p = make()
    landing = Request(
        user_agent=IPHONE,
        session_id="v1",
        now=NOW,
        url="https://shop.example/",
        referrer="https://www.google.com/",
    )
    page_two = landing.model_copy(
        update={
            "url": "https://shop.example/c/outerwear",
            "referrer": "https://shop.example/",
            "now": NOW + timedelta(minutes=3),
        }
    )
    assert "mobile_from_search" in p.personalize(landing).segments
    second = p.personalize(page_two)
    assert second.context.referral.source == "search"
    assert "mobile_from_search" in second.segments


def test_a_new_visit_after_the_idle_timeout_reads_its_own_referral(make) -> None:
    p = make(session_timeout=10)
    landing = Request(
        user_agent=IPHONE,
        user_id="c7",
        now=NOW - timedelta(minutes=40),
        url="https://shop.example/",
        referrer="https://www.google.com/",
    )
    p.personalize(landing)
    later = landing.model_copy(
        update={
            "now": NOW,
            "url": "https://shop.example/c/home",
            "referrer": "https://shop.example/",
        }
    )
    result = p.personalize(later)
    assert result.context.referral.source == "internal"
    assert "mobile_from_search" not in result.segments


def test_every_result_has_its_own_time_ordered_decision_id(make) -> None:
    p = make(None)
    ids = [p.personalize(Request(now=NOW)).decision_id for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert ids == sorted(ids) or ids[-1][:12] >= ids[0][:12]
    assert p.personalize(Request(now=NOW)).to_dict()["decision_id"] is not None


def test_impressions_and_exposures_are_recorded_with_the_decision_id(make) -> None:
    memory = MemoryStore()
    p = make(memory, record={"impressions": True})
    request = Request(user_id="c9", session_id="s1", now=NOW)
    result = p.personalize(request)
    events = memory.export("c9")["events"]
    impressions = [e for e in events if e["type"] == "impression"]
    assert [e["product_id"] for e in impressions] == [r.product_id for r in result.products]
    assert {e["decision_id"] for e in impressions} == {result.decision_id}


def test_recording_can_be_switched_off(make) -> None:
    memory = MemoryStore()
    p = make(memory, record={"offers": False, "sessions": False, "exposures": False})
    p.track_many(_cart("c1", "s1", NOW - timedelta(days=2)))
    request = Request(user_id="c1", session_id="s2", now=NOW, url="https://shop.example/")
    for _ in range(2):
        assert "comeback10" in [o.offer_id for o in p.personalize(request).offers]
    assert len(memory.export("c1")["events"]) == 2


def test_experiment_exposures_are_recorded_once_per_visitor_and_experiment(make) -> None:
    memory = MemoryStore()
    p = make(memory)
    p.reload(
        {
            **p.config.model_dump(by_alias=True, exclude_unset=True),
            "experiments": [
                {
                    "key": "layout",
                    "variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}],
                }
            ],
        }
    )
    request = Request(user_id="c5", session_id="s1", now=NOW)
    variants = {p.personalize(request).experiments["layout"] for _ in range(3)}
    exposures = [e for e in memory.export("c5")["events"] if e["type"] == "exposure"]
    assert len(variants) == 1
    assert len(exposures) == 1
    assert exposures[0]["experiments"] == {"layout": variants.pop()}


def test_a_sqlite_store_keeps_caps_across_personalizers(make, tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    make(SQLiteStore(path)).track_many(_cart("c1", "s1", NOW - timedelta(days=2)))
    request = Request(user_id="c1", session_id="s2", now=NOW)
    assert "comeback10" in [o.offer_id for o in make(SQLiteStore(path)).personalize(request).offers]
    assert "comeback10" not in [
        o.offer_id for o in make(SQLiteStore(path)).personalize(request).offers
    ]


def test_bad_events_are_rejected_by_track_with_every_problem(make) -> None:
    from personalize.store import EventError

    p = make()
    with pytest.raises(EventError, match=r"(?s)events\[0\].type.*events\[1\].price"):
        p.track_many(
            [
                Event(type="veiw", customer_id="c1", at=NOW),
                Event(type="purchase", customer_id="c1", price=float("nan"), at=NOW),
            ]
        )


def test_apersonalize_and_atrack_use_the_async_store(make, tmp_path: Path) -> None:
    p = make(ThreadedAsyncStore(SQLiteStore(tmp_path / "a.db")))
    request = Request(user_id="c1", session_id="s2", now=NOW)

    async def visit() -> tuple[list[str], list[str]]:
        for event in _cart("c1", "s1", NOW - timedelta(days=2)):
            await p.atrack(event)
        first = await p.apersonalize(request)
        second = await p.apersonalize(request)
        return [o.offer_id for o in first.offers], [o.offer_id for o in second.offers]

    first, second = asyncio.run(visit())
    assert "comeback10" in first
    assert "comeback10" not in second
    # The sync API has no sync store to use: it degrades and says so.
    result = p.personalize(request)
    assert result.degraded
    assert "AsyncStore" in result.trace.errors[0]


def test_a_url_too_long_to_store_still_records_the_offer_impression(make) -> None:
    # The entry page_view carried the whole URL: over the store's 4,096 characters it made
    # the recording batch fail, so offer_shown was never written and the cap never held.
    p = make()
    p.track_many(_cart("c1", "s1", NOW - timedelta(days=2)))
    request = Request(
        user_id="c1", session_id="s2", now=NOW, url="https://shop.example/?q=" + "a" * 5000
    )
    first = p.personalize(request)
    assert "comeback10" in [o.offer_id for o in first.offers]
    second = p.personalize(request)
    assert "comeback10" not in [o.offer_id for o in second.offers]
    assert not first.degraded
    assert not second.degraded


def test_an_over_long_user_id_is_ignored_by_the_store_as_by_the_decision(make) -> None:
    p = make()
    result = p.personalize(Request(user_id="x" * 100_000, session_id="s1", now=NOW, url="/"))
    assert not result.degraded  # the recording used to fail on the id: `store: record`
    assert any("user_id" in note for note in result.context.notes)
    assert p.store.history(None, "s1", now=NOW).events  # recorded for the session


@pytest.mark.parametrize(("user_id", "session_id"), [("", "s1"), ("c1", ""), (None, "")])
def test_an_empty_id_is_left_out_of_the_visitor(make, user_id, session_id) -> None:
    # An empty cookie gave "" ids: every decision failed its recording (`store: record`),
    # so offer impressions were lost and caps never held.
    p = make()
    p.track_many(_cart("c1", "s0", NOW - timedelta(days=2)))
    request = Request(user_id=user_id, session_id=session_id, now=NOW, url="/")
    first = p.personalize(request)
    assert not first.degraded
    if user_id == "c1":  # the customer is still known: the comeback offer is capped at one
        assert "comeback10" in [o.offer_id for o in first.offers]
        assert "comeback10" not in [o.offer_id for o in p.personalize(request).offers]


def test_a_url_or_id_with_a_lone_surrogate_still_records_the_offer_impression(make) -> None:
    p = make()
    p.track_many(_cart("c1", "s1", NOW - timedelta(days=2)))
    request = Request(user_id="c1", session_id="s2\udc80", now=NOW, url="/?q=\udcff")
    first = p.personalize(request)
    assert "comeback10" in [o.offer_id for o in first.offers]
    assert "comeback10" not in [o.offer_id for o in p.personalize(request).offers]
    assert not first.degraded

"""Hostile request and history data costs neither the recommendations nor the latency."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from personalize import MAX_ID_LENGTH, Event, History, Personalizer, Profile, Request, Result

NOW = datetime(2026, 12, 15, 18, 0, tzinfo=UTC)
PRODUCTS = ["coat-parka", "mug-stoneware", "boots-winter", "gloves-leather", "ghost"]

#: Any number a stored profile may hold: plausible counts, and -1, NaN, inf, 10**400 ...
_numbers = st.one_of(
    st.integers(0, 50),
    st.integers(),
    st.sampled_from([-1, 10**400, -(10**400), 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
)
_dates = st.one_of(st.datetimes(timezones=st.none() | st.just(UTC)), st.none(), st.just("soon"))
#: Profiles holding arbitrary numbers, as ``model_construct`` (or mutation) lets them in.
profiles = st.builds(
    Profile.model_construct,
    purchase_counts=st.dictionaries(st.sampled_from(PRODUCTS), _numbers, max_size=4),
    last_purchased=st.dictionaries(st.sampled_from(PRODUCTS), _dates, max_size=4),
    order_count=_numbers,
    lifetime_value=_numbers,
    first_purchase_at=_dates,
    last_purchase_at=_dates,
)


@given(profile=profiles, placement=st.sampled_from(["home", "pdp", "cart"]))
def test_recommendations_survive_any_profile(
    store_personalizer: Personalizer, profile: Profile, placement: str
) -> None:
    request = Request(now=NOW, user_id="u1", session_id="s1")
    result = store_personalizer.personalize(request, History(profile=profile), placement=placement)
    assert result.products, result.trace.errors
    assert not result.degraded, result.trace.errors
    facts = result.context.history
    assert 0 <= facts.order_count <= 1_000_000
    assert math.isfinite(facts.lifetime_value)
    assert all(0 <= n <= 1_000_000 for n in facts.purchase_counts.values())


@pytest.mark.parametrize(
    "count", [-1, 10**400, float("nan"), float("inf")], ids=["-1", "10**400", "nan", "inf"]
)
def test_one_bad_profile_count_no_longer_wipes_out_the_recommendations(
    store_personalizer: Personalizer, count: float
) -> None:
    profile = Profile.model_construct(
        purchase_counts={"coat-parka": count}, last_purchased={}, order_count=1,
        lifetime_value=10.0, first_purchase_at=None, last_purchase_at=None,
    )  # fmt: skip
    result = store_personalizer.personalize(Request(now=NOW), History(profile=profile))
    assert result.products
    assert not result.degraded, result.trace.errors
    assert any("profile sanitized" in note for note in result.context.notes)
    assert "profile sanitized" in result.explain()


def test_a_request_with_over_long_ids_can_be_built() -> None:
    request = Request(user_id="u" * 1_000_000, session_id="s" * 1_000_000)
    assert len(request.user_id or "") == 1_000_000


def test_over_long_ids_are_ignored_with_a_note(store_personalizer: Personalizer) -> None:
    big = "u" * (MAX_ID_LENGTH + 1)
    request = Request(now=NOW, user_id=big, session_id="s" * 1_000_000)
    result = store_personalizer.personalize(request, placement="pdp", product_id="p" * 10_000)
    assert (result.context.user_id, result.context.session_id) == (None, None)
    notes = "\n".join(result.context.notes)
    for what, length in (("user_id", MAX_ID_LENGTH + 1), ("session_id", 1_000_000)):
        assert f"{what}: {length} characters, over the {MAX_ID_LENGTH} limit; ignored" in notes
    assert "product_id: 10000 characters" in notes
    assert result.products
    assert not result.degraded


def test_a_lone_surrogate_is_ignored_in_ids_and_read_as_u_fffd_in_what_a_result_echoes(
    store_personalizer: Personalizer,
) -> None:
    # A Python str can hold one, UTF-8 cannot: the result echoed it, and its JSON could not
    # be written (``to_json().encode()``, and FastAPI's pydantic serializer, raised).
    request = Request(
        now=NOW, user_id="u\ud800", session_id="s\udfff",
        url="https://shop.example/?utm_source=\udc80&utm_campaign=w\ud800",
    )  # fmt: skip
    earlier = NOW - timedelta(hours=3)  # a visit that ended: what to continue with
    viewed = [
        Event(type="view", product_id="coat-parka", category="c\ud800", at=earlier, session_id="s0")
    ]
    result = store_personalizer.personalize(request, History(events=viewed), product_id="p\ud800")
    assert not result.degraded, result.trace.errors
    assert (result.context.user_id, result.context.session_id) == (None, None)
    notes = "\n".join(result.context.notes)
    for what in ("user_id", "session_id", "product_id"):
        assert f"{what}: holds a lone surrogate, which UTF-8 cannot encode; ignored" in notes
    written = json.loads(result.to_json().encode())
    assert written == json.loads(TypeAdapter(Result).dump_json(result))
    assert written["context"]["referral"]["site"] == "\ufffd"
    assert written["context"]["referral"]["campaign"] == "w\ufffd"
    assert written["continue_shopping"]["category"] == "c\ufffd"


def test_an_id_at_the_limit_is_kept(store_personalizer: Personalizer) -> None:
    exact = "u" * MAX_ID_LENGTH
    result = store_personalizer.personalize(Request(now=NOW, user_id=exact))
    assert result.context.user_id == exact
    assert not any("limit" in note for note in result.context.notes)


def test_a_megabyte_user_id_costs_no_more_than_a_short_one() -> None:
    config = {"experiments": [{"key": "exp", "variants": [{"key": "a"}, {"key": "b"}]}]}
    p = Personalizer(config, autoload_plugins=False)
    big = Request(now=NOW, user_id="u" * 1_000_000, session_id="s1")
    p.personalize(big)
    start = time.thread_time_ns()
    result = p.personalize(big)
    elapsed_ms = (time.thread_time_ns() - start) / 1e6
    assert result.experiments  # assigned by the session id instead
    assert elapsed_ms < 30  # hashing the megabyte took about 90 ms; now well under 1 ms


def test_forcing_from_the_url_is_off_unless_allowed() -> None:
    experiment = {"key": "exp", "enabled": False, "variants": [{"key": "a"}, {"key": "b"}]}
    url = "https://shop.example/?pz_force=exp:b"
    default = Personalizer({"experiments": [experiment]}, autoload_plugins=False)
    assert default.personalize(Request(now=NOW, user_id="u1", url=url)).experiments == {}
    qa = Personalizer(
        {"experiments": [experiment], "settings": {"allow_forced_variants": True}},
        autoload_plugins=False,
    )
    assert qa.personalize(Request(now=NOW, user_id="u1", url=url)).experiments == {"exp": "b"}


def test_a_malformed_url_with_pz_force_keeps_experiments_on() -> None:
    config = {
        "experiments": [{"key": "exp", "variants": [{"key": "a"}, {"key": "b"}]}],
        "settings": {"allow_forced_variants": True},
    }
    p = Personalizer(config, autoload_plugins=False)
    result = p.personalize(Request(now=NOW, user_id="u1", url="http://[::1/x?pz_force=exp:b"))
    assert result.experiments == {"exp": "b"}
    assert not result.degraded, result.trace.errors

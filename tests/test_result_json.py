"""Result.to_dict / to_json follow ResultModel's JSON Schema; Request and History round-trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from personalize import (
    Catalog,
    Context,
    ContinueShopping,
    Event,
    History,
    Personalizer,
    Request,
    Result,
    ResultModel,
)
from personalize._serialize import SCHEMA_VERSION
from personalize.cli import example_store
from personalize.context import demo_geoip_path


@pytest.fixture(scope="module")
def store() -> Path:
    return example_store()


@pytest.fixture(scope="module")
def results(store: Path) -> list[Result]:
    with (store / "events.jsonl").open() as fh:
        events = [Event.model_validate_json(line) for line in fh]
    p = Personalizer.from_file(
        store / "personalization.yaml",
        catalog=Catalog.from_file(store / "catalog.json"),
        interactions=events,
        geoip=demo_geoip_path(),
        autoload_plugins=False,
    )
    visitors: list[dict[str, Any]] = json.loads((store / "visitors.json").read_text())
    return [
        p.personalize(
            Request.model_validate(v["request"]),
            History.model_validate(v["history"]),
            placement=v.get("placement", "home"),
        )
        for v in visitors
    ]


def _bare_result(**overrides: Any) -> Result:
    fields: dict[str, Any] = {
        "products": [],
        "landing": None,
        "offers": [],
        "continue_shopping": ContinueShopping(),
        "segments": frozenset({"night_owls", "big_spenders", "mobile"}),
        "experiments": {},
        "context": Context(),
        "placement": "home",
    }
    return Result(**(fields | overrides))


def test_every_visitor_s_result_validates_against_the_json_schema(
    results: list[Result],
) -> None:
    schema = ResultModel.model_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for result in results:
        data = result.to_dict()
        jsonschema.validate(data, schema)
        assert ResultModel.model_validate(data).model_dump(mode="json") == data


def test_to_json_is_to_dict_as_json(results: list[Result]) -> None:
    for result in results:
        assert json.loads(result.to_json()) == result.to_dict()
        assert json.loads(result.to_json(indent=2)) == result.to_dict()


def test_the_dict_carries_the_decision(results: list[Result]) -> None:
    # The example store's visitors between them get a landing, offers, rules and a
    # "continue shopping"; the dict must say so in the documented fields.
    dicts = [r.to_dict() for r in results]
    for result, data in zip(results, dicts, strict=True):
        assert data["schema_version"] == SCHEMA_VERSION
        assert [p["product_id"] for p in data["products"]] == [
            rec.product_id for rec in result.products
        ]
        assert data["segments"] == sorted(result.segments)
        assert data["rules"] == list(result.rules)
        assert data["experiments"] == dict(result.experiments)
        assert [o["offer_id"] for o in data["offers"]] == [o.offer_id for o in result.offers]
        assert data["context"]["geo"]["country"] == result.context.geo.country
    assert any(d["landing"] is not None for d in dicts)
    assert any(d["offers"] for d in dicts)
    assert any(d["continue_shopping"]["products"] for d in dicts)
    assert any(p["rules"] for d in dicts for p in d["products"])


def test_the_top_level_fields_are_stable() -> None:
    assert list(_bare_result().to_dict()) == [
        "schema_version",
        "decision_id",
        "placement",
        "products",
        "landing",
        "offers",
        "continue_shopping",
        "segments",
        "experiments",
        "rules",
        "context",
        "degraded",
        "errors",
    ]
    assert list(ResultModel.model_fields) == list(_bare_result().to_dict())


def test_segments_are_sorted_and_errors_say_what_degraded() -> None:
    result = _bare_result()
    result.trace.error("ranking", ValueError("index missing"))
    data = result.to_dict()
    assert data["segments"] == ["big_spenders", "mobile", "night_owls"]
    assert data["degraded"] is True
    assert data["errors"] == ["ranking: ValueError: index missing"]
    jsonschema.validate(data, ResultModel.model_json_schema())


def test_offer_values_from_the_configuration_become_json() -> None:
    from personalize import OfferChoice

    offer = OfferChoice(
        offer_id="o",
        code=None,
        value={"until": datetime(2027, 1, 1, tzinfo=UTC), "tiers": (1, 2)},
        reason="r",
    )
    data = _bare_result(offers=[offer]).to_dict()
    assert data["offers"][0]["value"] == {"until": "2027-01-01T00:00:00+00:00", "tiers": [1, 2]}
    json.dumps(data, allow_nan=False)


def test_pydantic_serializes_a_result_as_its_dict(results: list[Result]) -> None:
    adapter = TypeAdapter(Result)
    assert json.loads(adapter.dump_json(results[0])) == results[0].to_dict()
    schema = adapter.json_schema(mode="serialization")
    assert schema["title"] == "ResultModel"


_text = st.text(max_size=30)
_when = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.none()
) | st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))]),
)
_requests = st.builds(
    Request,
    user_agent=st.none() | _text,
    ip=st.none() | _text,
    headers=st.dictionaries(_text, _text, max_size=4),
    referrer=st.none() | _text,
    url=st.none() | _text,
    now=st.none() | _when,
    user_id=st.none() | _text,
    session_id=st.none() | _text,
)
_money = st.floats(min_value=0, max_value=1e6, allow_nan=False)
_events = st.builds(
    Event,
    type=st.sampled_from(["view", "add_to_cart", "purchase", "offer_shown", "custom"]),
    product_id=st.none() | _text,
    at=_when,
    quantity=_money,
    price=st.none() | _money,
    session_id=st.none() | _text,
    experiments=st.dictionaries(_text, _text, max_size=2),
)
_histories = st.builds(
    History,
    events=st.lists(_events, max_size=5),
    loyalty=st.fixed_dictionaries({}, optional={"tier": _text, "points": st.integers(0, 10**6)}),
)


@given(request=_requests)
def test_a_request_round_trips_through_json(request: Request) -> None:
    assert Request.model_validate_json(request.model_dump_json()) == request


@given(history=_histories)
def test_a_history_round_trips_through_json(history: History) -> None:
    assert History.model_validate_json(history.model_dump_json()) == history

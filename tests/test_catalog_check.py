"""``check_catalog`` and ``personalize check --catalog``: references the catalog lacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize import Catalog, Product, load_config
from personalize._catalog_check import check_catalog
from personalize.cli import main

CATALOG = Catalog(
    [
        Product(
            id="coat-wool", category=("apparel", "outerwear"), brand="Nordkap", tags=["winter"]
        ),
        Product(
            id="tee-linen", category=("apparel", "tops"), brand="Harlow", tags=["summer", "new"]
        ),
        Product(id="giftcard-50", category=("gifts",), tags=["clearance"]),
    ]
)


def _rules(*actions: dict[str, Any]) -> Any:
    return load_config({"rules": [{"id": "r", "then": list(actions)}]})


def test_a_config_whose_references_resolve_has_no_problems() -> None:
    config = _rules(
        {"pin": {"products": ["giftcard-50"], "position": 2}},
        {"boost": {"where": {"category": "outerwear", "brand": "Nordkap"}, "by": 2}},
        {"bury": {"where": {"tags": {"$in": ["clearance", "winter"]}}, "by": 0.5}},
        {"filter": {"where": {"$or": [{"brand": {"$ne": "Harlow"}}, {"in_stock": True}]}}},
        {"exclude": {"products": ["tee-linen"], "where": {"category": {"$nin": ["gifts"]}}}},
    )
    assert check_catalog(config, CATALOG) == []


def test_each_unknown_reference_is_reported_at_its_path_with_a_suggestion() -> None:
    config = _rules(
        {"pin": {"products": ["giftcard-5O", "coat-wool"], "position": 1}},
        {"boost": {"where": {"category": "outwear"}, "by": 2}},
        {"bury": {"where": {"tags": {"$in": ["new", "clearence"]}}, "by": 0.5}},
        {"filter": {"where": {"$and": [{"brand": "Nordcap"}, {"$not": {"brand": "Acme"}}]}}},
        {"exclude": {"products": ["tee-lnen"], "where": {"tags": {"$all": ["sumer"]}}}},
        {"boost": {"where": {"id": {"$in": ["coat-wol"]}}, "by": 3}},
    )
    found = [(p.path, p.suggestion) for p in check_catalog(config, CATALOG)]
    assert found == [
        ("rules[0].then[0].pin.products[0]", "giftcard-50"),
        ("rules[0].then[1].boost.where.category", "outerwear"),
        ("rules[0].then[2].bury.where.tags.$in[1]", "clearance"),
        ("rules[0].then[3].filter.where.$and[0].brand", "Nordkap"),
        ("rules[0].then[3].filter.where.$and[1].$not.brand", None),
        ("rules[0].then[4].exclude.products[0]", "tee-linen"),
        ("rules[0].then[4].exclude.where.tags.$all[0]", "summer"),
        ("rules[0].then[5].boost.where.id.$in[0]", "coat-wool"),
    ]
    messages = [str(p) for p in check_catalog(config, CATALOG)]
    assert messages[1] == (
        "rules[0].then[1].boost.where.category: unknown category 'outwear': "
        "the catalog has none; did you mean outerwear?"
    )


def test_fields_other_than_names_and_plugin_actions_are_not_checked() -> None:
    config = load_config(
        {
            "rules": [
                {"id": "a", "then": [{"boost": {"where": {"price": {"$lt": 10}}, "by": 2}}]},
                {"id": "b", "then": [{"boost": {"where": {"title": {"$regex": "^X"}}, "by": 2}}]},
                {"id": "c", "then": [{"my_plugin": {"products": ["ghost"]}}]},
            ]
        }
    )
    assert check_catalog(config, CATALOG) == []


NAMES = {
    "category": sorted(CATALOG.categories),
    "brand": ["Nordkap", "Harlow"],
    "tags": ["winter", "summer", "new", "clearance"],
}


@given(
    st.sampled_from(sorted(NAMES)).flatmap(
        lambda field: st.tuples(st.just(field), st.lists(st.sampled_from(NAMES[field]), min_size=1))
    ),
    st.sampled_from(["$in", "$nin", "$all"]),
    st.text(alphabet="xyz", min_size=1, max_size=5),
)
def test_one_unknown_name_among_known_ones_is_exactly_one_problem(
    field_values: tuple[str, list[str]], op: str, unknown: str
) -> None:
    field, values = field_values
    where = {field: {op: [*values, unknown]}}
    problems = check_catalog(_rules({"filter": {"where": where}}), CATALOG)
    path = f"rules[0].then[0].filter.where.{field}.{op}[{len(values)}]"
    assert [p.path for p in problems] == [path]


def test_check_command_reports_unknown_references_and_exits_1(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "refs.yaml"
    config.write_text(
        "rules:\n"
        "  - id: typo\n"
        "    then:\n"
        "      - pin: {products: [giftcard-5O], position: 2}\n"
        "      - boost: {where: {category: outwear}, by: 2}\n",
        encoding="utf-8",
    )
    catalog = repo_root / "examples/store/catalog.json"
    assert main(["check", str(config), "--catalog", str(catalog), "--no-plugins"]) == 1
    err = capsys.readouterr().err
    assert "2 problems" in err
    assert "rules[0].then[0].pin.products[0]: unknown product id 'giftcard-5O'" in err
    assert "did you mean giftcard-50?" in err
    assert "rules[0].then[1].boost.where.category: unknown category 'outwear'" in err
    assert "did you mean outerwear?" in err


def test_check_command_accepts_the_example_store_with_its_catalog(
    repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = repo_root / "examples/store"
    argv = ["check", str(store / "personalization.yaml"), "--catalog", str(store / "catalog.json")]
    assert main([*argv, "--no-plugins"]) == 0
    assert "OK" in capsys.readouterr().out

"""Catalogs load from JSON, JSONL and CSV; invalid records are named by number or line."""

from __future__ import annotations

from pathlib import Path

import pytest

from personalize import Catalog, DataError, Product


def test_minimal_products_need_only_an_id() -> None:
    catalog = Catalog([Product(id="a"), Product(id="b", title="B", price=2.5)])
    assert len(catalog) == 2
    assert catalog.get("b") == Product(id="b", title="B", price=2.5)
    assert catalog.get("zzz") is None
    assert "a" in catalog


def test_category_paths_brands_and_facts() -> None:
    catalog = Catalog(
        [
            Product(id="a", category="apparel > outerwear", brand="N", tags="winter|sale"),
            Product(id="b", category=["apparel", "knitwear"], brand="N"),
        ]
    )
    assert catalog.in_category("apparel") == ("a", "b")
    assert catalog.in_category("outerwear") == ("a",)
    assert catalog.by_brand("N") == ("a", "b")
    facts = catalog.facts("a")
    assert facts is not None
    assert facts["category"] == ["apparel", "outerwear"]
    assert facts["tags"] == ["winter", "sale"]


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(DataError, match="duplicate product id 'a'"):
        Catalog([Product(id="a"), Product(id="a")])


def test_json_list_and_products_key(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('[{"id": "x", "price": 3}]')
    (tmp_path / "b.json").write_text('{"products": [{"id": 7}]}')
    assert Catalog.from_file(tmp_path / "a.json").get("x") is not None
    assert "7" in Catalog.from_file(tmp_path / "b.json")  # integer ids become text


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "x"}\n\n{"id": "y", "price": "cheap"}\n')
    with pytest.raises(DataError) as info:
        Catalog.from_file(path)
    assert "record 2: price" in str(info.value)
    path.write_text('{"id": "x"}\n{broken\n')
    with pytest.raises(DataError, match=r"c.jsonl: line 2: invalid JSON"):
        Catalog.from_file(path)


def test_csv_with_lists_flags_and_attributes(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "id,title,category,price,tags,in_stock,attributes.color\n"
        "a,Coat,apparel > outerwear,99.5,winter|sale,yes,red\n"
        "b,Mug,home,,,false,\n"
    )
    catalog = Catalog.from_file(path)
    a, b = catalog.get("a"), catalog.get("b")
    assert a is not None
    assert b is not None
    assert (a.category, a.price, a.tags, a.in_stock) == (
        ("apparel", "outerwear"), 99.5, ("winter", "sale"), True
    )  # fmt: skip
    assert a.attributes == {"color": "red"}
    assert (b.price, b.in_stock, b.attributes) == (None, False, {})


def test_every_invalid_record_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('[{"id": "a", "price": "x"}, {"title": "no id"}, {"id": "c", "colour": 1}]')
    with pytest.raises(DataError) as info:
        Catalog.from_file(path)
    text = str(info.value)
    assert "record 1: price" in text
    assert "record 2: id" in text
    assert "record 3: colour" in text


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('[\n{"id": "a"},\n{oops}\n]')
    with pytest.raises(DataError, match="line 3: invalid JSON"):
        Catalog.from_file(path)


def test_the_example_catalog_loads(repo_root: Path) -> None:
    catalog = Catalog.from_file(repo_root / "examples/store/catalog.json")
    assert len(catalog) == 40
    assert all(p.title and p.price for p in catalog)

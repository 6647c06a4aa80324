"""Catalogs load from JSON, JSONL and CSV; invalid records are named by number or line."""

from __future__ import annotations

import gzip
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


def _three() -> Catalog:
    return Catalog(
        [
            Product(id="a", category="apparel > coats", brand="N"),
            Product(id="b", category="apparel > coats"),
            Product(id="c", brand="M"),
        ]
    )


def test_products_in_catalog_order_and_lookup_by_id() -> None:
    catalog = _three()
    assert [p.id for p in catalog.products] == ["a", "b", "c"]
    assert isinstance(catalog.products, tuple)
    assert catalog["b"] is catalog.products[1]
    with pytest.raises(KeyError, match="ghost"):
        catalog["ghost"]


def test_repr_counts_products_categories_and_brands() -> None:
    assert repr(_three()) == "Catalog(3 products, 2 categories, 2 brands)"
    assert repr(Catalog([Product(id="a", category="x")])) == (
        "Catalog(1 product, 1 category, 0 brands)"
    )


def test_the_mappings_cannot_be_written_into() -> None:
    catalog = _three()
    with pytest.raises(TypeError):
        catalog.ids["ghost"] = Product(id="ghost")  # type: ignore[index]
    with pytest.raises(TypeError):
        del catalog.ids["a"]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        catalog.categories["ghosts"] = ("ghost",)  # type: ignore[index]
    with pytest.raises(AttributeError):
        catalog.ids.clear()  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        catalog.products = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        catalog.anything = 1  # type: ignore[attr-defined]
    assert "ghost" not in catalog
    assert catalog.get("ghost") is None
    assert sorted(catalog.ids) == ["a", "b", "c"]
    assert "ghosts" not in catalog.categories
    assert catalog.in_category("coats") == ("a", "b")


def test_a_csv_with_a_byte_order_mark_reads_its_header(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("id,title\na,Café\n".encode("utf-8-sig"))
    catalog = Catalog.from_file(path)
    assert catalog["a"].title == "Café"


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_with_a_byte_order_mark_loads(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"c{suffix}"
    path.write_bytes(
        b'\xef\xbb\xbf[{"id": "a"}]' if suffix == ".json" else b'\xef\xbb\xbf{"id": "a"}'
    )
    assert "a" in Catalog.from_file(path)


def test_a_csv_row_with_too_many_fields_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,title\na,A\n\nb,B,extra\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"c\.csv: line 4: 3 fields, the header has 2"):
        Catalog.from_file(path)


def test_a_csv_row_with_too_few_fields_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('id,title,price\na,"two\nlines",3\nb,B\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"c\.csv: line 4: 2 fields, the header has 3"):
        Catalog.from_file(path)


def test_csv_validation_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,price\na,1\n\nb,cheap\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"c\.csv: line 4: record 2: price"):
        Catalog.from_file(path)


@pytest.mark.parametrize("name", ["c.json", "c.jsonl", "c.csv"])
def test_bytes_that_are_not_utf8_name_the_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    body = {"c.json": b'[\n{"id": "a"},\n{"id": "\xff"}\n]', "c.csv": b"id\na\n\xff\n"}
    path.write_bytes(body.get(name, b'{"id": "a"}\n{"id": "\xe9"}\n'))
    line = {"c.json": 3, "c.csv": 3}.get(name, 2)
    with pytest.raises(DataError, match=rf"{name}:{line}: not UTF-8"):
        Catalog.from_file(path)


def test_a_gzip_catalog_loads_and_a_broken_one_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(gzip.compress(b"".join(b'{"id": "p%d"}\n' % i for i in range(500))))
    assert len(Catalog.from_file(path)) == 500
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DataError, match=r"c\.jsonl\.gz:\d+: .*truncated"):
        Catalog.from_file(path)
    path.write_text('{"id": "a"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"c\.jsonl\.gz:1: corrupt gzip"):
        Catalog.from_file(path)


def test_a_missing_catalog_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        Catalog.from_file(tmp_path / "absent.json")

"""The product catalog: products by id, with the indexes built once at load."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from personalize._models import Product
from personalize._textfile import read_text
from personalize.errors import DataError

__all__ = ["Catalog"]

_CSV_LIST_FIELDS = ("tags", "complements")


class Catalog:
    """An immutable set of products, indexed by id, category and brand.

    Nothing in a catalog can be changed after it is built: :attr:`ids` and
    :attr:`categories` are read-only views, :attr:`products` is a tuple, and a product is
    a frozen model.

    Args:
        products: The products; ids must be unique.

    Raises:
        DataError: Two products share an id.
    """

    __slots__ = (
        "_by_brand",
        "_by_category",
        "_by_id",
        "_categories",
        "_facts",
        "_ids",
        "_out_of_stock",
        "_products",
    )

    def __init__(self, products: Iterable[Product] = ()) -> None:
        self._products: tuple[Product, ...] = tuple(products)
        by_id: dict[str, Product] = {}
        by_category: dict[str, list[str]] = {}
        by_brand: dict[str, list[str]] = {}
        for product in self._products:
            if product.id in by_id:
                raise DataError(f"duplicate product id {product.id!r}")
            by_id[product.id] = product
            for level in product.category:
                by_category.setdefault(level, []).append(product.id)
            if product.brand is not None:
                by_brand.setdefault(product.brand, []).append(product.id)
        self._by_id = by_id
        self._by_category = {k: tuple(v) for k, v in by_category.items()}
        self._by_brand = {k: tuple(v) for k, v in by_brand.items()}
        self._ids: Mapping[str, Product] = MappingProxyType(self._by_id)
        self._categories: Mapping[str, tuple[str, ...]] = MappingProxyType(self._by_category)
        self._facts: dict[str, dict[str, Any]] = {}
        self._out_of_stock = frozenset(p.id for p in self._products if not p.in_stock)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], *, source: str = "") -> Catalog:
        """Build a catalog from plain mappings, naming the record of any invalid one.

        Raises:
            DataError: A record is invalid; the message gives its number and field.
        """
        return cls._from_placed(
            ((f"record {number}", record) for number, record in enumerate(records, start=1)),
            source=source,
        )

    @classmethod
    def _from_placed(
        cls, records: Iterable[tuple[str, Mapping[str, Any]]], *, source: str
    ) -> Catalog:
        """Build from ``(where, record)`` pairs; every invalid record is reported at once."""
        products = []
        problems = []
        for where, record in records:
            try:
                products.append(Product.model_validate(record))
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join(str(p) for p in err["loc"]) or "<record>"
                    problems.append(f"{source}{where}: {field}: {err['msg']}")
        if problems:
            raise DataError("invalid catalog:\n  " + "\n  ".join(problems))
        return cls(products)

    @classmethod
    def from_file(cls, path: str | Path) -> Catalog:
        """Read a catalog from a ``.json`` (a list, or ``{"products": [...]}``), ``.jsonl``
        or ``.csv`` file, each optionally gzip-compressed (``.csv.gz`` ...).

        The file is UTF-8, with or without a byte-order mark. In CSV, ``category`` may be
        ``a > b``, and ``tags``/``complements`` ``|``-separated; ``attributes.<name>``
        columns become attributes.

        Raises:
            DataError: The file cannot be read (missing, not UTF-8, a truncated or
                non-gzip ``.gz``), cannot be parsed (invalid JSON, a CSV row with more or
                fewer fields than the header), or a record is invalid; the message names
                the file and the line.
        """
        path = Path(path)
        text = read_text(path)
        name = path.name.lower().removesuffix(".gz")
        label = f"{path.name}: "
        if name.endswith(".jsonl"):
            return cls._from_placed(_jsonl_records(text, label), source=label)
        if name.endswith(".csv"):
            return cls._from_placed(_csv_records(text, label), source=label)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{label}line {exc.lineno}: invalid JSON: {exc.msg}") from exc
        except RecursionError:
            raise DataError(f"{label}invalid JSON: nested too deeply") from None
        if isinstance(data, dict) and "products" in data:
            data = data["products"]
        if not isinstance(data, list):
            raise DataError(f"{label}expected a list of products or {{'products': [...]}}")
        return cls.from_records(data, source=label)

    # -- access -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._products)

    def __iter__(self) -> Iterator[Product]:
        return iter(self._products)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._by_id

    def __getitem__(self, product_id: str) -> Product:
        """The product with this id.

        Raises:
            KeyError: No product has this id.
        """
        return self._by_id[product_id]

    def __repr__(self) -> str:
        return (
            f"Catalog({_count(len(self._products), 'product')}, "
            f"{_count(len(self._by_category), 'category', 'categories')}, "
            f"{_count(len(self._by_brand), 'brand')})"
        )

    def get(self, product_id: str) -> Product | None:
        """The product with this id, or ``None``."""
        return self._by_id.get(product_id)

    @property
    def products(self) -> tuple[Product, ...]:
        """Every product, in catalog order."""
        return self._products

    @property
    def ids(self) -> Mapping[str, Product]:
        """Product id to product, in catalog order (a read-only view)."""
        return self._ids

    def in_category(self, category: str) -> tuple[str, ...]:
        """Ids of the products under ``category`` (at any level of their path)."""
        return self._by_category.get(category, ())

    def by_brand(self, brand: str) -> tuple[str, ...]:
        """Ids of the products of ``brand``."""
        return self._by_brand.get(brand, ())

    @property
    def out_of_stock(self) -> frozenset[str]:
        """Ids of the products that cannot be bought now."""
        return self._out_of_stock

    @property
    def categories(self) -> Mapping[str, tuple[str, ...]]:
        """Every category (any level) to the ids of its products (a read-only view)."""
        return self._categories

    def facts(self, product_id: str) -> dict[str, Any] | None:
        """The product's fact mapping for ``where:`` selectors, built once and cached."""
        cached = self._facts.get(product_id)
        if cached is None:
            product = self._by_id.get(product_id)
            if product is None:
                return None
            cached = self._facts[product_id] = product.facts()
        return cached


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _jsonl_records(text: str, label: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    number = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{label}line {lineno}: invalid JSON: {exc.msg}") from exc
        except RecursionError:
            raise DataError(f"{label}line {lineno}: invalid JSON: nested too deeply") from None
        if not isinstance(record, dict):
            raise DataError(f"{label}line {lineno}: expected an object")
        number += 1
        yield f"line {lineno}: record {number}", record


def _csv_records(text: str, label: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The rows as records; a row whose field count differs from the header's is an error."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return
        number = 0
        for row in reader:
            if not row:  # a blank line
                continue
            if len(row) != len(header):
                raise DataError(
                    f"{label}line {reader.line_num}: {len(row)} fields, the header has "
                    f"{len(header)}"
                )
            number += 1
            yield f"line {reader.line_num}: record {number}", _csv_record(header, row)
    except csv.Error as exc:
        raise DataError(f"{label}line {reader.line_num}: invalid CSV: {exc}") from None


def _csv_record(header: list[str], row: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for key, value in zip(header, row, strict=True):
        if value == "":
            continue
        if key.startswith("attributes."):
            attributes[key.removeprefix("attributes.")] = value
        elif key == "in_stock":
            record[key] = value.strip().lower() in {"1", "true", "yes", "y"}
        else:
            record[key] = value
    if attributes:
        record["attributes"] = attributes
    return record

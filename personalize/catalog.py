"""The product catalog: products by id, with the indexes built once at load."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from personalize._models import Product
from personalize.errors import DataError

__all__ = ["Catalog"]

_CSV_LIST_FIELDS = ("tags", "complements")


class Catalog:
    """An immutable set of products, indexed by id, category and brand.

    Args:
        products: The products; ids must be unique.

    Raises:
        DataError: Two products share an id.
    """

    __slots__ = ("_by_brand", "_by_category", "_by_id", "_facts", "_out_of_stock", "_products")

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
        self._facts: dict[str, dict[str, Any]] = {}
        self._out_of_stock = frozenset(p.id for p in self._products if not p.in_stock)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], *, source: str = "") -> Catalog:
        """Build a catalog from plain mappings, naming the record of any invalid one.

        Raises:
            DataError: A record is invalid; the message gives its number and field.
        """
        products = []
        problems = []
        for number, record in enumerate(records, start=1):
            try:
                products.append(Product.model_validate(record))
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join(str(p) for p in err["loc"]) or "<record>"
                    problems.append(f"{source}record {number}: {field}: {err['msg']}")
        if problems:
            raise DataError("invalid catalog:\n  " + "\n  ".join(problems))
        return cls(products)

    @classmethod
    def from_file(cls, path: str | Path) -> Catalog:
        """Read a catalog from a ``.json`` (a list, or ``{"products": [...]}``), ``.jsonl``
        or ``.csv`` file.

        In CSV, ``category`` may be ``a > b``, and ``tags``/``complements`` ``|``-separated;
        ``attributes.<name>`` columns become attributes.

        Raises:
            DataError: The file cannot be parsed, or a record is invalid.
        """
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        suffix = path.suffix.lower()
        label = f"{path.name}: "
        if suffix == ".jsonl":
            return cls.from_records(_jsonl_records(text, label), source=label)
        if suffix == ".csv":
            return cls.from_records(_csv_records(text), source=label)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{label}line {exc.lineno}: invalid JSON: {exc.msg}") from exc
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

    def get(self, product_id: str) -> Product | None:
        """The product with this id, or ``None``."""
        return self._by_id.get(product_id)

    @property
    def ids(self) -> Mapping[str, Product]:
        """Product id to product."""
        return self._by_id

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
        """Every category (any level) to the ids of its products."""
        return self._by_category

    def facts(self, product_id: str) -> dict[str, Any] | None:
        """The product's fact mapping for ``where:`` selectors, built once and cached."""
        cached = self._facts.get(product_id)
        if cached is None:
            product = self._by_id.get(product_id)
            if product is None:
                return None
            cached = self._facts[product_id] = product.facts()
        return cached


def _jsonl_records(text: str, label: str) -> Iterator[Mapping[str, Any]]:
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{label}line {lineno}: invalid JSON: {exc.msg}") from exc
        if not isinstance(record, dict):
            raise DataError(f"{label}line {lineno}: expected an object")
        yield record


def _csv_records(text: str) -> Iterator[Mapping[str, Any]]:
    for row in csv.DictReader(io.StringIO(text)):
        record: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        for key, value in row.items():
            if key is None or value is None or value == "":
                continue
            if key.startswith("attributes."):
                attributes[key.removeprefix("attributes.")] = value
            elif key == "in_stock":
                record[key] = value.strip().lower() in {"1", "true", "yes", "y"}
            else:
                record[key] = value
        if attributes:
            record["attributes"] = attributes
        yield record

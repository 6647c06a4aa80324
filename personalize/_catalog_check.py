"""Check a configuration's references to products against a catalog.

A configuration can be valid on its own and still name things the store does not have: a
pinned product id with a typo never shows, and ``boost: {where: {category: outwear}}``
boosts nothing. :func:`check_catalog` finds these before they go live (``personalize check
CONFIG --catalog FILE`` calls it): product ids in ``pin`` and ``exclude`` actions, and the
categories, brands, tags and ids named in the ``where:`` selectors of the built-in actions.
Each unknown name is a :class:`~personalize.errors.Problem` with its path and the closest
name the catalog has.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from personalize.catalog import Catalog
from personalize.config import PersonalizerConfig
from personalize.errors import Problem

__all__ = ["check_catalog"]

#: Built-in actions whose body may hold a ``where:`` product selector.
_SELECTOR_ACTIONS = frozenset({"boost", "bury", "filter", "exclude"})
#: Built-in actions whose body lists product ids under ``products``.
_PRODUCT_ACTIONS = frozenset({"pin", "exclude"})
#: Product fields whose values name catalog things, and what to call them in a message.
_FIELDS = {"category": "category", "brand": "brand", "tags": "tag", "id": "product id"}
#: Operators whose operand is a value (or list of values) of the field.
_VALUE_OPERATORS = frozenset({"$eq", "$ne", "$in", "$nin", "$all"})
#: Operators whose operand is itself a condition on the same field.
_NESTED_OPERATORS = frozenset({"$not", "$elemMatch"})
_LOGIC = frozenset({"$and", "$or", "$nor"})


def check_catalog(config: PersonalizerConfig, catalog: Catalog) -> list[Problem]:
    """Every product, category, brand and tag the rules name that ``catalog`` lacks.

    Args:
        config: A loaded configuration (see :func:`~personalize.load_config`).
        catalog: The store's products.

    Returns:
        One problem per unknown name, in file order, each with its path (such as
        ``rules[2].then[0].boost.where.category``) and a "did you mean" when a close name
        exists. Empty when every reference resolves.
    """
    known: dict[str, Collection[str]] = {
        "category": catalog.categories.keys(),
        "brand": {p.brand for p in catalog if p.brand is not None},
        "tags": {tag for p in catalog for tag in p.tags},
        "id": catalog.ids.keys(),
    }
    problems: list[Problem] = []
    for i, rule in enumerate(config.rules):
        for j, action in enumerate(rule.then):
            for kind, body in action.items():
                if not isinstance(body, Mapping):
                    continue
                path = f"rules[{i}].then[{j}].{kind}"
                refs: list[tuple[str, str, Any]] = []
                if kind in _PRODUCT_ACTIONS:
                    refs += _listed("id", body.get("products"), f"{path}.products")
                if kind in _SELECTOR_ACTIONS and isinstance(body.get("where"), Mapping):
                    refs += _selector(body["where"], f"{path}.where")
                problems += [
                    _unknown(field, value, where, known[field])
                    for field, where, value in refs
                    if isinstance(value, str) and value not in known[field]
                ]
    return problems


def _unknown(field: str, value: str, path: str, choices: Collection[str]) -> Problem:
    close = difflib.get_close_matches(value, list(choices), n=1)
    message = f"unknown {_FIELDS[field]} {value!r}: the catalog has none"
    return Problem(path, message, close[0] if close else None)


def _selector(condition: Mapping[str, Any], path: str) -> Iterator[tuple[str, str, Any]]:
    """The (field, path, value) references of a ``where:`` selector, through its logic."""
    for key, value in condition.items():
        here = f"{path}.{key}"
        if key in _LOGIC and isinstance(value, list):
            for n, part in enumerate(value):
                if isinstance(part, Mapping):
                    yield from _selector(part, f"{here}[{n}]")
        elif key == "$not" and isinstance(value, Mapping):
            yield from _selector(value, here)
        elif key in _FIELDS:
            yield from _values(key, value, here)


def _values(field: str, value: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """The values a field's condition compares with (``x``, ``[x, y]``, ``{$in: [...]}`` ...)."""
    if isinstance(value, Mapping):
        for op, operand in value.items():
            if op in _VALUE_OPERATORS or op in _NESTED_OPERATORS:
                yield from _values(field, operand, f"{path}.{op}")
    elif isinstance(value, list):
        yield from _listed(field, value, path)
    else:
        yield field, path, value


def _listed(field: str, values: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(values, list):
        for n, value in enumerate(values):
            yield field, f"{path}[{n}]", value

"""The fields of a saved index's document, each checked to be what a build writes.

The file's checksum catches accidental damage, not a document rewritten with a valid one
(by hand, by another tool, by someone hostile). So every field the ranking reads is checked
for its type and range here -- ids are strings (and the items distinct), popularity,
trending, repurchase rates and country scores lie in [0, 1], similarities are finite and
not negative, neighbour rows are best first without repeats or the product itself,
``built_at`` has a time zone -- and anything else is a ``ValueError``, which
:meth:`~personalize.ranking.InteractionIndex.load` reports as a ``DataError``.
"""

from __future__ import annotations

import math
from array import array
from datetime import datetime
from typing import Any

import numpy as np

__all__ = [
    "check_range",
    "check_rows",
    "country_lists",
    "id_lists",
    "ids",
    "items",
    "mapping",
    "time",
]


def mapping(value: Any, what: str) -> dict[str, Any]:
    """``value`` if it is a JSON object."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a mapping")
    return value


def ids(value: Any, what: str) -> tuple[str, ...]:
    """``value`` as a tuple if it is a list of strings."""
    if not isinstance(value, list) or not all(isinstance(pid, str) for pid in value):
        raise ValueError(f"{what} is not a list of product ids")
    return tuple(value)


def items(value: Any) -> list[str]:
    """The index's items: distinct product ids."""
    names = list(ids(value, "items"))
    if len(set(names)) != len(names):
        raise ValueError("items hold a product id twice")
    return names


def id_lists(value: Any, what: str) -> dict[str, tuple[str, ...]]:
    """A mapping of names to lists of product ids (category members, complements ...)."""
    return {key: ids(found, f"{what}[{key!r}]") for key, found in mapping(value, what).items()}


def country_lists(value: Any) -> dict[str, tuple[tuple[str, ...], tuple[float, ...]]]:
    """Each country's best sellers and their scores in [0, 1], as long as each other."""
    out: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {}
    for country, entry in mapping(value, "country_top").items():
        where = f"country_top[{country!r}]"
        if not isinstance(entry, list) or len(entry) != 2:
            raise ValueError(f"{where} is not a pair of ids and scores")
        found, scores = ids(entry[0], where), entry[1]
        if not isinstance(scores, list) or len(scores) != len(found):
            raise ValueError(f"{where} has not one score per product")
        if not all(_fraction(score) for score in scores):
            raise ValueError(f"{where} has a score that is not a number in [0, 1]")
        out[country] = (found, tuple(map(float, scores)))
    return out


def _fraction(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0.0 <= value <= 1.0
    )


def check_range(values: array[Any], what: str, top: float | None) -> None:
    """Every value of a float column is finite, at least 0 and (when given) at most ``top``."""
    column = np.frombuffer(values, dtype=np.float32) if len(values) else np.zeros(0)
    ok = np.isfinite(column) & (column >= 0.0)
    if top is not None:
        ok &= column <= top
    if not bool(ok.all()):
        bounds = f"in [0, {top:g}]" if top is not None else "finite and at least 0"
        raise ValueError(f"{what}: a value is not {bounds}")


def check_rows(indptr: array[int], indices: array[int], data: array[float]) -> None:
    """Each neighbour row (offsets checked already) is what a build writes: best first,
    each neighbour once, never the product itself."""
    if not len(indices):
        return
    starts = np.frombuffer(indptr, dtype=np.int64)
    row = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    cols = np.frombuffer(indices, dtype=np.int32).astype(np.int64)
    sims = np.frombuffer(data, dtype=np.float32)
    if bool((cols == row).any()):
        raise ValueError("a product is its own neighbour")
    same_row = row[1:] == row[:-1]
    if bool((same_row & (sims[1:] > sims[:-1])).any()):
        raise ValueError("a neighbour row is not best first")
    keys = np.sort(row * (len(starts) - 1) + cols)
    if bool((keys[1:] == keys[:-1]).any()):
        raise ValueError("a neighbour row holds a product twice")


def time(value: Any) -> datetime | None:
    """``built_at``: ``None`` or an ISO time with a zone (the build's times are aware)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("built_at is not an ISO time")
    at = datetime.fromisoformat(value)
    if at.utcoffset() is None:
        raise ValueError(f"built_at {value[:40]!r} has no time zone")
    return at

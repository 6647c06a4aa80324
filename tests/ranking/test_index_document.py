"""A saved index whose checksum holds but whose document is wrong is refused, not loaded.

The checksum catches accidental damage; a file rewritten with a valid checksum (by hand, by
another tool, by someone hostile) must still be checked field by field: every value the
ranking reads is of the type and range the build produces, or the load is a ``DataError``.
"""

from __future__ import annotations

import base64
import copy
import math
import tempfile
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ranking_helpers import shop_index

from personalize import DataError
from personalize.ranking import InteractionIndex
from personalize.ranking._format import decode, encode

_INDEX = shop_index()


def _saved(index: InteractionIndex) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "index.pz"
        index.save(path)
        document: dict[str, Any] = decode(path.read_bytes(), "shop")
        return document


_DOC = _saved(_INDEX)
_N = len(_DOC["items"])


def _floats(values: list[float]) -> dict[str, str]:
    return {"type": "f", "b64": base64.b64encode(array("f", values).tobytes()).decode()}


def _similarities(value: float) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        count = len(base64.b64decode(doc["co_purchase"]["data"]["b64"])) // 4
        doc["co_purchase"]["data"] = _floats([value] * count)

    return change


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc.__setitem__(key, value)


def _set_in(key: str, inner: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc[key].__setitem__(inner, value)


_RowChange = Callable[[int, list[int], list[float]], None]


def _row_change(change: _RowChange) -> Callable[[dict[str, Any]], None]:
    """A change to the first co-purchase row with two neighbours or more."""

    def edit(doc: dict[str, Any]) -> None:
        csr = doc["co_purchase"]
        indptr = array("q", base64.b64decode(csr["indptr"]["b64"]))
        indices = array("i", base64.b64decode(csr["indices"]["b64"]))
        data = array("f", base64.b64decode(csr["data"]["b64"]))
        row = next(r for r in range(len(indptr) - 1) if indptr[r + 1] - indptr[r] >= 2)
        start, end = indptr[row], indptr[row + 1]
        cols, sims = indices[start:end].tolist(), data[start:end].tolist()
        change(row, cols, sims)
        indices[start:end] = array("i", cols)
        data[start:end] = array("f", sims)
        csr["indices"]["b64"] = base64.b64encode(indices.tobytes()).decode()
        csr["data"]["b64"] = base64.b64encode(data.tobytes()).decode()

    return edit


def _worst_first(row: int, cols: list[int], sims: list[float]) -> None:
    sims.reverse()
    sims[0] = sims[-1] / 2


def _repeated(row: int, cols: list[int], sims: list[float]) -> None:
    cols[1] = cols[0]


def _itself(row: int, cols: list[int], sims: list[float]) -> None:
    cols[0] = row


HOSTILE: dict[str, Callable[[dict[str, Any]], None]] = {
    "a neighbour row worst first": _row_change(_worst_first),
    "a neighbour listed twice": _row_change(_repeated),
    "a product its own neighbour": _row_change(_itself),
    "items as one string": _set("items", "x" * _N),
    "items as numbers": _set("items", list(range(_N))),
    "a duplicate item": lambda doc: doc["items"].__setitem__(1, doc["items"][0]),
    "popularity NaN": _set("popularity", _floats([math.nan] * _N)),
    "popularity infinite": _set("popularity", _floats([math.inf] * _N)),
    "popularity negative": _set("popularity", _floats([-1.0] * _N)),
    "popularity above 1": _set("popularity", _floats([7.0] * _N)),
    "trending NaN": _set("trending", _floats([math.nan] * _N)),
    "repurchase rate NaN": _set("repurchase", _floats([math.nan] * _N)),
    "similarity NaN": _similarities(math.nan),
    "similarity negative": _similarities(-1.0),
    "built_at without a zone": _set("built_at", "2026-03-01T12:00:00"),
    "category members as one string": _set_in("category_top", "coffee", "beans"),
    "brand members as numbers": _set_in("brand_top", "brewit", [1, 2]),
    "complements as one string": _set_in("complements", "grinder", "beans"),
    "country scores NaN": _set_in("country_top", "DE", [["beans"], [math.nan]]),
    "country scores as text": _set_in("country_top", "DE", [["beans"], ["1"]]),
    "country ids as one string": _set_in("country_top", "DE", ["be", [1.0, 0.5]]),
    "country entry of three parts": _set_in("country_top", "DE", [["beans"], [1.0], []]),
    "stats as a list of pairs": _set("stats", [["events", 1]]),
}


def _load(doc: dict[str, Any], path: Path) -> InteractionIndex:
    path.write_bytes(encode(doc))
    return InteractionIndex.load(path)


@pytest.mark.parametrize("change", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_rewritten_document_with_wrong_values_is_a_data_error(
    change: Callable[[dict[str, Any]], None], tmp_path: Path
) -> None:
    doc = copy.deepcopy(_DOC)
    change(doc)
    with pytest.raises(DataError, match="inconsistent interaction index"):
        _load(doc, tmp_path / "index.pz")


def test_the_unchanged_document_loads(tmp_path: Path) -> None:
    loaded = _load(copy.deepcopy(_DOC), tmp_path / "index.pz")
    assert loaded.items == _INDEX.items
    assert loaded.top(5, country="DE") == _INDEX.top(5, country="DE")


@settings(max_examples=40, deadline=None)
@given(
    field=st.sampled_from(["popularity", "trending", "repurchase"]),
    at=st.integers(0, _N - 1),
    value=st.sampled_from([math.nan, math.inf, -math.inf, -1e-3, 1.5, 3e38]),
)
def test_one_out_of_range_value_in_a_column_is_refused(
    field: str, at: int, value: float, tmp_path_factory: pytest.TempPathFactory
) -> None:
    doc = copy.deepcopy(_DOC)
    column = array("f", base64.b64decode(doc[field]["b64"]))
    column[at] = value
    doc[field] = _floats(column.tolist())
    with pytest.raises(DataError, match="inconsistent interaction index"):
        _load(doc, tmp_path_factory.mktemp("index") / "index.pz")

"""The fast paths of the build give what the plain ones would: same order, same bytes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalize._models import Event
from personalize.config import IndexConfig
from personalize.indexing import build_index_from_files
from personalize.ranking import InteractionIndex, _cooccurrence
from personalize.ranking._format import _json_pieces, decode, encode
from tests.indexing.events import event_logs, write_events


@given(
    keys=st.lists(st.integers(0, 50), max_size=300)
    | st.lists(st.integers(0, 2**62), max_size=50)  # too wide to pack: the fallback
)
def test_packed_sort_orders_like_a_stable_argsort(keys: list[int]) -> None:
    key = np.array(keys, dtype=np.int64)
    expected = np.argsort(key, kind="stable")
    got_keys, got_lines = _cooccurrence.sorted_with_lines(key.copy())
    assert got_lines.tolist() == expected.tolist()
    assert got_keys.tolist() == key[expected].tolist()


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    events=event_logs(), chunk_rows=st.integers(1, 7), suffix=st.sampled_from([".csv", ".parquet"])
)
def test_an_index_read_in_small_chunks_equals_the_in_process_index(
    tmp_path_factory: pytest.TempPathFactory, events: list[Event], chunk_rows: int, suffix: str
) -> None:
    folder = tmp_path_factory.mktemp("chunks")
    path = write_events(folder / f"events{suffix}", events)
    config = IndexConfig(max_items_per_customer=None, chunk_rows=chunk_rows, max_neighbours=2)
    streamed = build_index_from_files([path], config=config)
    streamed.save(folder / "a.idx")
    InteractionIndex.build(events, max_neighbours=2).save(folder / "b.idx")
    assert (folder / "a.idx").read_bytes() == (folder / "b.idx").read_bytes()


def test_the_saved_json_is_the_one_shot_json() -> None:
    doc = {"a": [1, 2.5, "é"], "b": {"c": None, "d": "x" * 1000}, "e": {}}
    assert "".join(_json_pieces(doc)) == json.dumps(doc, separators=(",", ":"))
    assert decode(encode(doc), "x") == doc


@pytest.mark.parametrize("workers", [1, 3])
def test_neighbours_do_not_depend_on_the_threads(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(7)
    basket = rng.integers(0, 300, 4000)
    item = np.minimum(rng.zipf(1.5, 4000), 120) - 1
    weight = rng.choice([1.0, 0.5, 0.25], 4000)
    monkeypatch.setattr(_cooccurrence, "_BLOCK_ENTRIES", 500)
    expected = _cooccurrence.neighbours(basket, item, weight, 120, 5)
    monkeypatch.setattr(_cooccurrence, "_WORKERS", workers)
    assert _cooccurrence.neighbours(basket, item, weight, 120, 5) == expected

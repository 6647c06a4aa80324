"""Event logs in JSON Lines: writing, reading back, and errors that name the line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from personalize import Event
from personalize.errors import DataError
from personalize.metrics import iter_events, kpis_by, read_events, write_events

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)

EVENTS = [
    Event(type="page_view", at=T0, session_id="s1", page="/", variant="control"),
    Event(
        type="purchase",
        at=T0 + timedelta(minutes=5),
        session_id="s1",
        product_id="p1",
        price=19.5,
        quantity=2,
        order_id="o1",
        variant="control",
        experiments={"weights-v2": "control"},
    ),
]


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    assert write_events(path, EVENTS) == 2
    assert read_events(path) == EVENTS


def test_lines_are_compact_json_with_defaults_left_out(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    write_events(path, EVENTS[:1])
    line = path.read_text(encoding="utf-8").splitlines()[0]
    assert json.loads(line) == {
        "type": "page_view",
        "at": "2026-01-05T10:00:00Z",
        "session_id": "s1",
        "page": "/",
        "variant": "control",
    }


def test_gzip_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    write_events(path, EVENTS)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert list(iter_events(path)) == EVENTS


def test_mappings_are_validated_when_written(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    write_events(path, [{"type": "view", "at": "2026-01-05T10:00:00+01:00", "session_id": "s"}])
    (event,) = read_events(path)
    assert event.at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with pytest.raises(DataError, match="event 0"):
        write_events(path, [{"type": "view"}])


def test_blank_lines_are_skipped_and_bad_lines_named(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = EVENTS[0].model_dump_json()
    path.write_text(f'{good}\n\n{good}\n{{"type": "view"}}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"events\.jsonl:4: invalid event \(at: Field required\)"):
        read_events(path)
    path.write_text(f"{good}\n\n{good}\n", encoding="utf-8")
    assert len(read_events(path)) == 2


def test_a_written_log_feeds_the_kpis(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    write_events(path, EVENTS)
    row = kpis_by(iter_events(path))["control"]
    assert row.revenue == pytest.approx(39.0)  # 19.5 * 2
    assert row.average_time_on_site == pytest.approx(300.0)

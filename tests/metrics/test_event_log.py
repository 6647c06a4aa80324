"""Event logs in JSON Lines: writing, reading back, and errors that name the line."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
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


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", math.nan), ("quantity", math.inf), ("price", math.nan), ("price", -math.inf)],
)
def test_a_number_json_cannot_hold_is_refused_and_the_log_kept(
    tmp_path: Path, field: str, value: float
) -> None:
    # JSON has no NaN or infinity: written as null, such an event would never read back
    # (a null quantity is invalid) or would read back changed (a null price).
    path = tmp_path / "events.jsonl"
    write_events(path, EVENTS)
    bad = EVENTS[0].model_copy(update={field: value})
    with pytest.raises(DataError, match=rf"event 1: {field} is .*not a finite number"):
        write_events(path, [EVENTS[0], bad])
    assert read_events(path) == EVENTS


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


def test_a_failed_write_leaves_the_previous_log_whole(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    write_events(path, EVENTS)
    before = path.read_bytes()

    def interrupted() -> Iterator[Event]:
        yield EVENTS[0]
        raise KeyboardInterrupt  # the writer dies half way through

    with pytest.raises(KeyboardInterrupt):
        write_events(path, interrupted())
    assert path.read_bytes() == before
    assert read_events(path) == EVENTS
    assert [p.name for p in tmp_path.iterdir()] == ["events.jsonl"]


def test_a_failed_gzip_write_leaves_the_previous_log_whole(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    write_events(path, EVENTS)
    before = path.read_bytes()
    with pytest.raises(DataError, match="event 1"):
        write_events(path, [EVENTS[0], {"type": "view"}])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["events.jsonl.gz"]


def test_a_gzip_log_is_byte_for_byte_reproducible(tmp_path: Path) -> None:
    write_events(tmp_path / "a.jsonl.gz", EVENTS)
    write_events(tmp_path / "b.jsonl.gz", EVENTS)
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


def test_a_truncated_gzip_log_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    write_events(path, EVENTS * 50)
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DataError, match=r"events\.jsonl\.gz:\d+: .*truncated"):
        read_events(path)


def test_a_gz_log_that_is_not_gzip_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    path.write_text(EVENTS[0].model_dump_json() + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"events\.jsonl\.gz:1: corrupt gzip data"):
        read_events(path)


def test_a_corrupt_gzip_log_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    write_events(path, EVENTS * 50)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"events\.jsonl\.gz:\d+: "):
        read_events(path)


def test_a_line_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = EVENTS[0].model_dump_json().encode()
    path.write_bytes(good + b"\n" + good.replace(b"page_view", b"page_\xe9view") + b"\n")
    with pytest.raises(DataError, match=r"events\.jsonl:2: not UTF-8"):
        read_events(path)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + EVENTS[0].model_dump_json().encode() + b"\n")
    assert read_events(path) == EVENTS[:1]


def test_a_missing_log_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"absent\.jsonl: cannot read"):
        read_events(tmp_path / "absent.jsonl")


@pytest.mark.parametrize("field", ["product_id", "session_id", "page"])
def test_text_utf8_cannot_hold_is_refused_and_the_log_kept(tmp_path: Path, field: str) -> None:
    # A lone surrogate (a broken emoji from a request) cannot be written as UTF-8: the
    # serializer's PydanticSerializationError escaped instead of the documented DataError.
    path = tmp_path / "events.jsonl"
    write_events(path, EVENTS)
    bad = EVENTS[0].model_copy(update={field: "p\ud83dx"})
    with pytest.raises(DataError, match=r"event 1: .*not valid Unicode"):
        write_events(path, [EVENTS[0], bad])
    assert read_events(path) == EVENTS

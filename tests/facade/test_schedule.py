"""Active windows: whole-day dates, inclusive ``until``, visitor/store/named zones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from personalize.config import ActiveWindow
from personalize.errors import Problem
from personalize.schedule import compile_window


def _window(**kwargs: object) -> tuple[object, list[Problem]]:
    problems: list[Problem] = []
    window = compile_window(
        ActiveWindow.model_validate(kwargs),
        store_zone="America/Toronto",
        path="p",
        problems=problems,
    )
    return window, problems


def test_until_date_is_inclusive_to_midnight() -> None:
    window, problems = _window(**{"from": "2026-11-01", "until": "2026-11-30", "timezone": "UTC"})
    assert problems == []
    assert window.is_open(datetime(2026, 11, 30, 23, 59, tzinfo=UTC))  # type: ignore[attr-defined]
    assert not window.is_open(datetime(2026, 12, 1, 0, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    assert not window.is_open(datetime(2026, 10, 31, 23, 59, tzinfo=UTC))  # type: ignore[attr-defined]
    assert window.is_open(datetime(2026, 11, 1, 0, 0, tzinfo=UTC))  # type: ignore[attr-defined]


def test_visitor_zone_uses_the_visitors_local_time() -> None:
    window, _ = _window(**{"from": date(2026, 12, 1)})
    now = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # already 1 December in Sydney
    sydney = now.astimezone(ZoneInfo("Australia/Sydney"))
    toronto = now.astimezone(ZoneInfo("America/Toronto"))
    assert window.is_open(now, sydney)  # type: ignore[attr-defined]
    assert not window.is_open(now, toronto)  # type: ignore[attr-defined]


def test_store_zone_ignores_the_visitor() -> None:
    window, _ = _window(**{"from": "2026-12-01", "timezone": "store"})
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # still 30 November in Toronto
    sydney = now.astimezone(ZoneInfo("Australia/Sydney"))
    assert not window.is_open(now, sydney)  # type: ignore[attr-defined]
    assert window.is_open(datetime(2026, 12, 1, 6, 0, tzinfo=UTC), sydney)  # type: ignore[attr-defined]


def test_instant_with_offset_is_absolute() -> None:
    window, _ = _window(until="2026-12-01T12:00:00+00:00")
    tokyo = ZoneInfo("Asia/Tokyo")
    now = datetime(2026, 12, 1, 11, 59, tzinfo=UTC)
    assert window.is_open(now, now.astimezone(tokyo))  # type: ignore[attr-defined]
    assert not window.is_open(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))  # type: ignore[attr-defined]


def test_unknown_zone_and_reversed_bounds_are_problems() -> None:
    _, problems = _window(**{"from": "2026-12-02", "until": "2026-12-01", "timezone": "Mars/Base"})
    assert [p.path for p in problems] == ["p.timezone", "p"]
    assert "unknown time zone" in problems[0].message

"""Active windows: whole-day dates, inclusive ``until``, visitor/store/named zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize import Personalizer
from personalize.config import ActiveWindow
from personalize.errors import ConfigError, Problem
from personalize.schedule import Window, compile_window, visitor_zone

TORONTO = ZoneInfo("America/Toronto")
SYDNEY = ZoneInfo("Australia/Sydney")
KIRITIMATI = "Pacific/Kiritimati"  # UTC+14


def _window(**kwargs: Any) -> tuple[Window, list[Problem]]:
    problems: list[Problem] = []
    active = ActiveWindow.model_validate(kwargs)
    window = compile_window(active, store=TORONTO, path="p", problems=problems)
    assert window is not None
    return window, problems


def test_until_date_is_inclusive_to_midnight() -> None:
    window, problems = _window(**{"from": "2026-11-01", "until": "2026-11-30", "timezone": "UTC"})
    assert problems == []
    assert window.is_open(datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    assert not window.is_open(datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    assert not window.is_open(datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    assert window.is_open(datetime(2026, 11, 1, 0, 0, tzinfo=UTC))


def test_visitor_zone_uses_the_visitors_local_time() -> None:
    window, _ = _window(**{"from": date(2026, 12, 1)})
    now = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # already 1 December in Sydney
    assert window.is_open(now, SYDNEY)
    assert not window.is_open(now, TORONTO)
    # a visitor of unknown zone is read in the store's (Toronto): still 30 November
    assert not window.is_open(now)


def test_store_zone_ignores_the_visitor() -> None:
    window, _ = _window(**{"from": "2026-12-01", "timezone": "store"})
    assert not window.is_open(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), SYDNEY)
    assert window.is_open(datetime(2026, 12, 1, 6, 0, tzinfo=UTC), SYDNEY)


def test_instant_with_offset_is_absolute_and_inclusive() -> None:
    window, _ = _window(until="2026-12-01T12:00:00+00:00")
    tokyo = ZoneInfo("Asia/Tokyo")
    assert window.is_open(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), tokyo)
    assert not window.is_open(datetime(2026, 12, 1, 12, 0, 1, tzinfo=UTC), tokyo)


def test_unknown_zone_and_reversed_bounds_are_problems() -> None:
    _, problems = _window(**{"from": "2026-12-02", "until": "2026-12-01", "timezone": "Mars/Base"})
    assert [p.path for p in problems] == ["p.timezone", "p.until"]
    assert "unknown time zone" in problems[0].message


def test_visitor_zone_is_read_from_the_time_facts() -> None:
    local = datetime(2026, 1, 1, 9, 0, tzinfo=SYDNEY)
    assert visitor_zone({"time": {"local": local}}) is SYDNEY
    assert visitor_zone({"time": {"timezone": "America/Toronto"}}) == TORONTO
    assert visitor_zone({"time": {"timezone": "Nowhere/Land"}}) is None
    assert visitor_zone({}) is None


@pytest.mark.parametrize("name", ["America", "Europe", "Etc", "zone.tab", "", "../UTC"])
@pytest.mark.parametrize("section", ["rules", "offers"])
def test_a_zone_name_that_is_a_folder_or_a_data_file_is_a_problem(section: str, name: str) -> None:
    # before: "America" (a folder of zones) raised IsADirectoryError out of the load
    config = {section: [{"id": "x", "active": {"timezone": name}}]}
    with pytest.raises(ConfigError) as caught:
        Personalizer(config, autoload_plugins=False)
    assert [p.path for p in caught.value.problems] == [f"{section}[0].active.timezone"]
    assert visitor_zone({"time": {"timezone": name}}) is None


@pytest.mark.parametrize("bound", ["from", "until"])
def test_a_wall_clock_bound_in_the_repeated_hour_is_passed_once(bound: str) -> None:
    # Toronto falls back at 06:00 UTC on 1 November 2026: 01:00-02:00 comes twice. Before:
    # the wall clock was compared, so on the second 01:00-01:30 a window that had opened
    # at the first 01:30 closed again, and one that had ended reopened for half an hour.
    window, _ = _window(**{bound: "2026-11-01T01:30:00", "timezone": "store"})
    moments = [datetime(2026, 11, 1, 5, m, tzinfo=UTC) for m in (0, 29, 31, 59)]
    moments += [datetime(2026, 11, 1, 6, m, tzinfo=UTC) for m in (0, 15, 31)]
    moments.append(datetime(2026, 11, 1, 7, 0, tzinfo=UTC))
    opened = [window.is_open(now) for now in moments]
    after = [False, False, True, True, True, True, True, True]
    assert opened == (after if bound == "from" else [not o for o in after])


def test_a_wall_clock_bound_in_the_skipped_hour_is_reached_when_the_clock_jumps() -> None:
    # Toronto springs forward at 07:00 UTC on 8 March 2026: 02:00-03:00 never shows.
    window, _ = _window(**{"from": "2026-03-08T02:30:00", "timezone": "store"})
    assert not window.is_open(datetime(2026, 3, 8, 6, 59, tzinfo=UTC))
    assert window.is_open(datetime(2026, 3, 8, 7, 0, tzinfo=UTC))


def test_a_visitor_window_in_the_repeated_hour_stays_open_for_a_visitor_there() -> None:
    window, _ = _window(**{"from": "2026-11-01T01:30:00"})
    second_pass = datetime(2026, 11, 1, 6, 10, tzinfo=UTC)  # 01:10 EST, after 01:30 EDT
    assert window.is_open(second_pass, TORONTO)
    assert window.is_open(second_pass.astimezone(TORONTO), TORONTO)  # now in the same zone


@pytest.mark.parametrize(
    "text", ["2026-12-01T00:00:00Z", "2026-12-01T00:00:00-10:00", "2026-12-01 00:00"]
)
def test_a_midnight_date_time_written_as_text_stays_a_date_time(text: str) -> None:
    # before: pydantic read "...T00:00:00Z" (a JSON file's only way to write it) as the
    # date 2026-12-01, so `until` covered the whole day and the offset was dropped
    active = ActiveWindow.model_validate({"from": text, "until": text})
    assert isinstance(active.start, datetime)
    assert isinstance(active.until, datetime)
    assert active.until == datetime.fromisoformat(text)
    window, _ = _window(until=text, timezone="UTC")
    moment = datetime.fromisoformat(text)
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    assert window.is_open(moment)
    assert not window.is_open(moment + timedelta(seconds=1))


def test_a_date_written_as_text_still_covers_its_day() -> None:
    active = ActiveWindow.model_validate({"from": "2026-12-01", "until": "2026-12-01"})
    assert type(active.start) is date
    assert type(active.until) is date


@pytest.mark.parametrize(
    ("active", "reversed_"),
    [
        # instants in different offsets: compared as instants, not as wall clocks
        ({"from": "2026-12-01T10:00:00+14:00", "until": "2026-12-01T01:00:00-10:00"}, False),
        ({"from": "2026-12-01T10:00:00+00:00", "until": "2026-12-01T12:00:00+14:00"}, True),
        # a wall-clock bound against an instant: read in the window's zone ...
        ({"from": "2026-12-01T23:00", "until": "2026-12-01T12:00Z", "timezone": KIRITIMATI}, False),
        ({"from": "2026-12-01T10:00:00+14:00", "until": "2026-11-30", "timezone": "UTC"}, False),
        ({"from": "2026-12-01T10:00:00Z", "until": "2026-11-30", "timezone": "UTC"}, True),
        # ... or, in the visitor's own zone, the zone where the window is longest
        ({"from": "2026-12-01T10:00:00+14:00", "until": "2026-11-30"}, False),
        ({"from": "2026-12-02T13:00:00Z", "until": "2026-12-01"}, True),
        ({"from": "2026-12-01T10:00:00", "until": "2026-11-30T21:00:00Z"}, False),
    ],
)  # fmt: skip
def test_reversed_bounds_are_judged_by_the_moments_they_name(
    active: dict[str, Any], reversed_: bool
) -> None:
    # before: the bounds' wall clocks were compared whatever their offsets, so a valid
    # window across offsets failed to load and a reversed one loaded without a word
    _, problems = _window(**active)
    assert [p.path for p in problems] == (["p.until"] if reversed_ else [])


def _transitions(zone: ZoneInfo) -> list[datetime]:
    """The instants of 2026 at which ``zone``'s offset changes (to the hour)."""
    found, t = [], datetime(2026, 1, 1, tzinfo=UTC)
    while t.year == 2026:
        if (t + timedelta(hours=1)).astimezone(zone).utcoffset() != t.astimezone(zone).utcoffset():
            found.append(t + timedelta(hours=1))
        t += timedelta(hours=1)
    return found


# Toronto and Sydney (an hour), Lord Howe (half an hour), Troll (two hours)
_CHANGES = [
    (zone, change)
    for name in ("America/Toronto", "Australia/Sydney", "Australia/Lord_Howe", "Antarctica/Troll")
    for zone in [ZoneInfo(name)]
    for change in _transitions(zone)
]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(_CHANGES),
    st.integers(-180, 180),
    st.sampled_from(["from", "until"]),
    st.lists(st.integers(-300, 300), min_size=2, max_size=30),
)
def test_a_window_opens_or_closes_once_across_a_clock_change(
    change: tuple[ZoneInfo, datetime], minutes: int, bound: str, offsets: list[int]
) -> None:
    zone, at = change
    wall = (at.astimezone(zone) + timedelta(minutes=minutes)).replace(tzinfo=None)
    window = Window(
        start=wall if bound == "from" else None, end=wall if bound == "until" else None, zone=zone
    )
    states = [window.is_open(at + timedelta(minutes=m)) for m in sorted(offsets)]
    # open from some moment on (a start) or until some moment (an end): never back
    assert states == sorted(states, reverse=bound == "until")

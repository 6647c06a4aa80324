"""The hash and the bucket ranges, checked against GrowthBook's published cases."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize.experiments import (
    bucket,
    bucket_from,
    bucket_ranges,
    choose_variant,
    fnv1a32,
    fnv1a32_from,
    hash_unit,
    in_range,
)

#: In the shared data as ``tests/conftest.py`` finds it; without it the parametrized cases
#: collect empty and ``test_growthbook_cases_were_found`` skips (or fails in CI).
CASES_FILE = (
    Path(
        os.environ.get("PERSONALIZE_SHARED_DATA")
        or Path(__file__).resolve().parents[2].parent / "shared" / "data"
    )
    / "peers/growthbook-cases.json"
)


def _cases(section: str) -> list[Any]:
    if not CASES_FILE.is_file():
        return []
    cases: list[Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"))[section]
    return cases


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0x811C9DC5), ("a", 0xE40C292C), ("foobar", 0xBF9CF968)],
)
def test_fnv1a32_matches_the_reference_vectors(text: str, expected: int) -> None:
    # Vectors from the FNV reference (Fowler/Noll/Vo test suite, 32-bit FNV-1a).
    assert fnv1a32(text) == expected


@pytest.mark.parametrize("case", _cases("hash"), ids=lambda c: f"{c[0]!r}-{c[1]!r}-v{c[2]}")
def test_hash_matches_growthbook(case: list[Any]) -> None:
    seed, value, version, expected = case
    got = hash_unit(seed, value, version)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-9)


def test_bucket_is_hash_version_2() -> None:
    assert bucket("seed", "a") == hash_unit("seed", "a", 2) == pytest.approx(0.0505)


def _growthbook_weights(count: int, weights: list[float] | None) -> list[float]:
    """GrowthBook replaces missing or invalid weights by equal ones.

    (Our configuration normalizes relative weights instead, before calling bucket_ranges;
    this adapter reproduces GrowthBook's fallback so its cases can test the layout.)
    """
    if weights is None or len(weights) != count or not 0.99 <= sum(weights) <= 1.01:
        return [1 / count] * count
    return weights


@pytest.mark.parametrize("case", _cases("getBucketRange"), ids=lambda c: str(c[0]))
def test_bucket_ranges_match_growthbook(case: list[Any]) -> None:
    _name, (count, coverage, weights), expected = case
    ranges = bucket_ranges(_growthbook_weights(count, weights), coverage)
    assert len(ranges) == len(expected)
    for (start, end), (want_start, want_end) in zip(ranges, expected, strict=True):
        assert start == pytest.approx(want_start, abs=1e-6)
        assert end == pytest.approx(want_end, abs=1e-6)


@pytest.mark.parametrize("case", _cases("chooseVariation"), ids=lambda c: str(c[0]))
def test_choose_variant_matches_growthbook(case: list[Any]) -> None:
    _name, n, ranges, expected = case
    assert choose_variant(n, [tuple(r) for r in ranges]) == expected


@pytest.mark.parametrize("case", _cases("inNamespace"), ids=lambda c: str(c[0]))
def test_namespace_membership_matches_growthbook(case: list[Any]) -> None:
    _name, user, (namespace, start, end), expected = case
    assert in_range(user, namespace, start, end) is expected


def test_growthbook_cases_were_found(shared_data: Path) -> None:
    # Guards against the parametrized tests above silently collecting nothing.
    assert CASES_FILE.resolve() == (shared_data / "peers/growthbook-cases.json").resolve()
    assert len(_cases("hash")) >= 10


def test_bucket_stays_in_the_unit_interval() -> None:
    values = [bucket("exp", f"user-{i}") for i in range(5000)]
    assert min(values) >= 0.0
    assert max(values) < 1.0


def test_raising_traffic_only_widens_ranges() -> None:
    low = bucket_ranges([0.2, 0.3, 0.5], 0.3)
    high = bucket_ranges([0.2, 0.3, 0.5], 0.8)
    for (s1, e1), (s2, e2) in zip(low, high, strict=True):
        assert s1 == s2
        assert e1 <= e2


def test_a_pre_hashed_seed_gives_the_same_bucket() -> None:
    for i in range(500):
        seed, value = f"exp-{i % 7}", f"user-{i}"
        assert fnv1a32_from(fnv1a32(seed), value) == fnv1a32(seed + value)
        assert bucket_from(fnv1a32(seed), value) == bucket(seed, value)


#: growthbook 4.0.0's ``growthbook.core.gbhash(seed, value, version)`` (its fnv1a32 reads
#: UTF-16 code units, like the JS SDK's ``charCodeAt`` loop); before, ours hashed code points
#: and disagreed on every value with a character beyond U+FFFF.
@pytest.mark.parametrize(
    ("value", "version", "expected"),
    [
        ("\U0001f600", 2, 0.4346),
        ("\U0001f600", 1, 0.429),
        ("user-\U0001f600-x", 2, 0.243),
        ("user-\U0001f600-x", 1, 0.396),
        ("\u00e9", 2, 0.8663),
        ("u1", 2, 0.1932),
    ],
)
def test_a_character_beyond_the_bmp_hashes_as_its_surrogates_like_growthbook(
    value: str, version: int, expected: float
) -> None:
    assert hash_unit("seed", value, version) == expected


def _surrogates(text: str) -> list[int]:
    units: list[int] = []
    for char in text:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            units += [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]
        else:
            units.append(code)
    return units


@given(st.text(), st.text())
def test_the_hash_steps_over_utf16_code_units(seed: str, text: str) -> None:
    h = 0x811C9DC5
    for unit in _surrogates(seed + text):
        h = ((h ^ unit) * 0x01000193) & 0xFFFFFFFF
    assert fnv1a32(seed + text) == h == fnv1a32_from(fnv1a32(seed), text)

"""Tests that need ``../shared`` skip with the reason when it is absent, and fail in CI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

NEEDS_SHARED_DATA = """
def test_needs_the_shared_data(shared_data):
    assert shared_data.is_dir()
"""


@pytest.fixture
def suite(
    pytester: pytest.Pytester, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A test run with the project's conftest and one test that needs the shared data.

    The inner run loads a Hypothesis profile; this run's own is restored afterwards.
    """
    profile = settings.get_current_profile_name()
    pytester.makeconftest((repo_root / "tests" / "conftest.py").read_text(encoding="utf-8"))
    pytester.makepyfile(NEEDS_SHARED_DATA)
    missing = pytester.path / "no-shared-data"
    monkeypatch.setenv("PERSONALIZE_SHARED_DATA", str(missing))
    monkeypatch.delenv("CI", raising=False)
    yield missing
    settings.load_profile(profile)


def test_without_shared_data_the_test_skips_with_the_reason(
    pytester: pytest.Pytester, suite: Path
) -> None:
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([f"*shared data not found at {suite}*PERSONALIZE_SHARED_DATA*"])


@pytest.mark.parametrize("ci", ["true", "1"])
def test_in_ci_missing_shared_data_is_a_failure(
    pytester: pytest.Pytester, suite: Path, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    monkeypatch.setenv("CI", ci)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*shared data not found*required when CI is set*"])
    assert result.ret != 0


def test_with_shared_data_the_test_runs(
    pytester: pytest.Pytester, suite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.mkdir()
    monkeypatch.setenv("CI", "true")
    pytester.runpytest().assert_outcomes(passed=1)

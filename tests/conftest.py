"""Shared fixtures: where the shared data lives, and the Hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester", "tests.redis_server"]

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The shared data beside the repository (``PERSONALIZE_SHARED_DATA`` points elsewhere).
SHARED_DATA = Path(
    os.environ.get("PERSONALIZE_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data"
)


def in_ci() -> bool:
    """Whether the tests run in CI (``CI`` set, and not to ``0``, ``false`` or ``no``)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile("ci" if in_ci() else "dev")


def require_shared_data(path: Path) -> Path:
    """``path`` if the shared data is there; else skip the test, or fail it in CI.

    A developer without ``../shared`` still runs everything else; CI, which must test
    against the real data, fails instead of silently skipping.
    """
    if path.is_dir():
        return path
    reason = (
        f"shared data not found at {path}: put the project's shared data beside the"
        " repository (see 'Data and licences' in README.md) or set PERSONALIZE_SHARED_DATA"
    )
    if in_ci():
        pytest.fail(f"{reason} (required when CI is set)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's shared data folder (``../shared/data`` beside the repo)."""
    return require_shared_data(SHARED_DATA)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT

"""Every example script runs and prints what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=script.parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert "Traceback" not in done.stderr


def test_quickstart_output(repo_root: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(repo_root / "examples/quickstart.py")],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert "Products:" in done.stdout
    assert "NO/Oslo" in done.stdout
    assert '"products": [' in done.stdout


def test_conditions_output(repo_root: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(repo_root / "examples/conditions.py")],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert lines[:4] == ["True", "False", "True", "True"]
    assert "did you mean geo.country?" in done.stdout

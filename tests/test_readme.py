"""The README's "Use" snippet runs as written, from the repository root."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


def _section(readme: str, heading: str) -> str:
    after = readme.split(f"\n## {heading}\n", 1)[1]
    return after.split("\n## ", 1)[0]


def _python_block(section: str) -> str:
    blocks = re.findall(r"^```python\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, "the Use section holds one python block"
    return str(blocks[0])


@pytest.fixture(scope="module")
def use_snippet(repo_root: Path) -> str:
    return _python_block(_section((repo_root / "README.md").read_text(encoding="utf-8"), "Use"))


def test_the_use_snippet_runs_as_written(use_snippet: str, repo_root: Path) -> None:
    path = os.pathsep.join(p for p in (str(repo_root), os.environ.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-c", use_snippet],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert done.returncode == 0, done.stderr
    assert "Decision for placement 'home' (user u42, session s1)" in done.stdout
    assert "GB/London (mmdb" in done.stdout
    assert "Products:" in done.stdout
    assert done.stderr == ""

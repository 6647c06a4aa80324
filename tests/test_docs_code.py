"""The python code blocks of the docs run.

Every fenced ``python`` block in ``docs/`` runs, in a fresh namespace with the repository
root as working directory, unless the line before it is ``<!-- no-run -->`` (signatures and
sketches of internal APIs). Blocks see ``PZ_SECRET`` set, as the web guides ask.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
NO_RUN = "<!-- no-run -->"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(page: Path) -> list[tuple[int, str, bool]]:
    """``(line, code, runnable)`` for each python block of ``page``."""
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in _BLOCK.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        line = text.count("\n", 0, match.start()) + 2
        blocks.append((line, match.group(1), before != NO_RUN))
    return blocks


BLOCKS = [
    pytest.param(page, line, code, id=f"{page.relative_to(DOCS)}:{line}")
    for page in sorted(DOCS.rglob("*.md"))
    for line, code, runnable in python_blocks(page)
    if runnable
]


def test_the_docs_have_runnable_blocks() -> None:
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize(("page", "line", "code"), BLOCKS)
def test_docs_code_block_runs(
    page: Path, line: int, code: str, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo_root)
    monkeypatch.setenv("PZ_SECRET", "docs-test-secret-0123456789")
    monkeypatch.setenv("PZ_COOKIE_SECURE", "0")
    # Line numbers in a traceback point into the page.
    compiled = compile("\n" * (line - 1) + code, str(page), "exec")
    exec(compiled, {"__name__": "__docs__"})

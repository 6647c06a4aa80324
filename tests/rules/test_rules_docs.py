"""Every operator of the language is documented in docs/rules.md."""

from __future__ import annotations

import re
from pathlib import Path

from personalize.plugins import RESERVED_OPERATORS, Registry


def test_every_builtin_operator_is_documented(repo_root: Path) -> None:
    text = (repo_root / "docs" / "rules.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"\| `(\$[A-Za-z]+)` \|", text))
    operators = set(Registry.with_builtins().operators) | RESERVED_OPERATORS
    assert operators - documented == set()
    assert documented - operators == set()


def test_every_builtin_action_is_documented(repo_root: Path) -> None:
    text = (repo_root / "docs" / "rules.md").read_text(encoding="utf-8")
    for action in Registry.with_builtins().actions:
        assert f"- {action}: " in text

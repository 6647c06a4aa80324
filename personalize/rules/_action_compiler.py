"""What a rule action's ``build`` receives to compile its product selectors."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from personalize.errors import Problem
from personalize.rules._actions import Predicate
from personalize.rules._compiler import ConditionCompiler
from personalize.rules._scope import suggest

__all__ = ["ActionCompiler"]


class ActionCompiler:
    """What an action's ``build`` receives: compiles its selectors, records its problems.

    Attributes:
        path: The action's place, e.g. ``rules[2].then[0].boost``.
        known_weights: The ranking weights ``set_weights`` may name.
    """

    def __init__(
        self, compiler: ConditionCompiler, path: str, known_weights: Collection[str]
    ) -> None:
        self._compiler = compiler
        self.path = path
        self.known_weights = frozenset(known_weights)
        self.needs_now = False

    def compile_selector(self, condition: Mapping[str, Any], field: str = "where") -> Predicate:
        """Compile a product selector found at ``<path>.<field>``."""
        compiled = self._compiler.compile_full(condition, f"{self.path}.{field}", selector=True)
        self.needs_now = self.needs_now or compiled.needs_now
        return compiled.predicate

    def problem(self, field: str, message: str, choices: Collection[str] = ()) -> None:
        """Record a problem at ``<path>.<field>``, suggesting the closest of ``choices``."""
        self._compiler.problems.append(
            Problem(f"{self.path}.{field}", message, suggest(field, choices))
        )

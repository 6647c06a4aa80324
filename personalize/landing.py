"""Landing choices: the first landing rule whose condition holds picks the page.

A plugin operator that raises in a landing condition makes that condition false; the
error goes to the ``report`` of the :class:`~personalize.rules.Evaluation` passed to
:meth:`CompiledLanding.choose` (the facade's error channel).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from personalize.config import LandingRule
from personalize.rules import Evaluation

__all__ = ["CompiledLanding", "LandingChoice", "compile_landing"]


@dataclass(frozen=True, slots=True)
class LandingChoice:
    """Where to send the visitor.

    Attributes:
        page: The page path or URL.
        rule_id: The landing rule that chose it (``landing[i]`` when it has no id).
        default: True when no conditional rule matched and the default was used.
    """

    page: str
    rule_id: str
    default: bool = False


@dataclass(frozen=True, slots=True)
class _Entry:
    rule_id: str
    when: Callable[..., bool]
    page: str
    unconditional: bool


class CompiledLanding:
    """The landing rules of a configuration, compiled once."""

    __slots__ = ("_entries",)

    def __init__(self, entries: Sequence[_Entry]) -> None:
        self._entries = tuple(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def choose(
        self,
        facts: Mapping[str, Any],
        trace: list[str] | None = None,
        *,
        evaluation: Evaluation | None = None,
    ) -> LandingChoice | None:
        """The first entry whose condition holds, in file order; ``None`` with no rules.

        Args:
            facts: The request's facts.
            trace: When given, one line per rule that was tried is appended.
            evaluation: The request time and the reporter of plugin errors.
        """
        for entry in self._entries:
            matched = entry.when(facts, evaluation)
            if trace is not None:
                trace.append(f"landing {entry.rule_id}: {'matched' if matched else 'no match'}")
            if matched:
                return LandingChoice(entry.page, entry.rule_id, default=entry.unconditional)
        return None


def compile_landing(
    rules: Sequence[LandingRule],
    compile_condition: Callable[[Mapping[str, Any], str], Callable[..., bool]],
) -> CompiledLanding:
    """Compile landing rules with the configuration's condition compiler.

    Args:
        rules: The ``landing:`` section.
        compile_condition: ``(condition, path) -> pred(facts, evaluation=None)``; it
            records its own problems.
    """
    entries = [
        _Entry(
            rule_id=rule.id or f"landing[{i}]",
            when=compile_condition(rule.when, f"landing[{i}].when"),
            page=rule.page,
            unconditional=not rule.when,
        )
        for i, rule in enumerate(rules)
    ]
    return CompiledLanding(entries)

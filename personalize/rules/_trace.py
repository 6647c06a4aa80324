"""The trace of one evaluation: every condition's result and, for a false one, why.

Explaining a false condition walks its tree again, so it is done lazily, when the trace is
read (:attr:`TraceEntry.failure`, :meth:`Trace.render`): the request path only records
results. The facts are read as they are at that moment; the facade does not change them
after evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from personalize.rules._nodes import Failure

__all__ = ["Trace", "TraceEntry"]

_UNSET: Any = object()


class TraceEntry:
    """One recorded step.

    Attributes:
        kind: ``segment``, ``rule``, ``error`` (a plugin raised) or another caller's kind.
        id: The segment or rule id (for an error, what raised).
        result: Whether the condition held (``False`` for skipped rules and errors).
        skipped: Why the condition was not evaluated (``disabled``, ``placement``,
            ``inactive``), or ``None``.
        error: The exception, for ``error`` entries.
    """

    __slots__ = ("_explain", "_failure", "error", "id", "kind", "result", "skipped")

    def __init__(
        self,
        kind: str,
        id: str,
        result: bool,
        *,
        skipped: str | None = None,
        error: Exception | None = None,
        explain: Callable[[], Failure | None] | None = None,
    ) -> None:
        self.kind = kind
        self.id = id
        self.result = result
        self.skipped = skipped
        self.error = error
        self._explain = explain
        self._failure: Failure | None = _UNSET

    @property
    def failure(self) -> Failure | None:
        """For a false condition: the sub-condition that failed, its path and the value."""
        if self._failure is _UNSET:
            self._failure = self._explain() if self._explain is not None else None
        return self._failure

    def __repr__(self) -> str:
        return f"TraceEntry({self.kind!r}, {self.id!r}, {self.result!r})"

    def render(self) -> str:
        """One line for :meth:`Trace.render`."""
        if self.kind == "error":
            return f"error   {self.id}: {self.error!r} (treated as false)"
        head = f"{self.kind:<7} {self.id}: "
        if self.skipped is not None:
            return head + f"skipped ({self.skipped})"
        if self.result:
            return head + "true"
        failure = self.failure
        return head + "false" + (f" -- {failure}" if failure is not None else "")


class Trace:
    """Every step of an evaluation, in order."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: list[TraceEntry] = []

    def add(self, entry: TraceEntry) -> None:
        """Append an entry."""
        self._entries.append(entry)

    def error(self, exc: Exception, label: str) -> None:
        """Record that a plugin raised (``label`` names the call)."""
        self._entries.append(TraceEntry("error", label, False, error=exc))

    @property
    def entries(self) -> tuple[TraceEntry, ...]:
        """The entries, in the order they were recorded."""
        return tuple(self._entries)

    @property
    def errors(self) -> tuple[TraceEntry, ...]:
        """The plugin errors."""
        return tuple(e for e in self._entries if e.kind == "error")

    def result(self, kind: str, id: str) -> bool | None:
        """The result recorded for ``kind``/``id``, or ``None``."""
        for entry in self._entries:
            if entry.kind == kind and entry.id == id:
                return entry.result
        return None

    def render(self) -> str:
        """A human-readable account, one line per step (used by ``explain()``)."""
        return "\n".join(entry.render() for entry in self._entries)

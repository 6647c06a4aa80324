"""The trace of one evaluation: every condition's result and, for a false one, why.

Explaining a false condition walks its tree again, so it is done lazily, when the trace is
read (:attr:`TraceEntry.failure`, :meth:`Trace.render`): the request path only records
results, as plain tuples (:meth:`Trace.note`) that become :class:`TraceEntry` objects when
the trace is first read. The facts are read as they are at that moment; the facade does not
change them after evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

from personalize.rules._nodes import CondNode, Evaluation, Failure

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


#: A step recorded by :meth:`Trace.note`: kind, id, result, the condition, why skipped.
_Note = tuple[str, str, bool, CondNode | None, str | None]
#: Steps recorded by :meth:`Trace.defer`: produced only when the trace is read.
_Steps = Callable[[], "list[TraceEntry | _Note]"]


class Trace:
    """Every step of an evaluation, in order.

    Args:
        facts: The facts the noted conditions were evaluated on (for explanations).
        now: The evaluation's time (for explanations of relative dates).
    """

    __slots__ = ("_ev", "_facts", "_items")

    def __init__(self, facts: Any = None, now: Any = None) -> None:
        self._items: list[TraceEntry | _Note | _Steps] = []
        self._facts = facts
        self._ev = Evaluation(now, None)

    def add(self, entry: TraceEntry) -> None:
        """Append an entry."""
        self._items.append(entry)

    def note(
        self,
        kind: str,
        id: str,
        result: bool,
        condition: CondNode | None = None,
        skipped: str | None = None,
    ) -> None:
        """Record a step cheaply; a false ``condition`` is explained only when read."""
        self._items.append((kind, id, result, condition, skipped))

    def error(self, exc: Exception, label: str) -> None:
        """Record that a plugin raised (``label`` names the call)."""
        self._items.append(TraceEntry("error", label, False, error=exc))

    def defer(self, steps: _Steps) -> None:
        """Record the steps ``steps()`` returns, in this place, when the trace is first read.

        An evaluation that can say what it did after the fact (the rules, from the ones
        that fired) records nothing per step while the request runs.
        """
        self._items.append(steps)

    def _expand(self) -> list[TraceEntry | _Note]:
        items = self._items
        if any(callable(item) for item in items):
            flat: list[TraceEntry | _Note] = []
            for item in items:
                if callable(item):
                    flat.extend(item())
                else:
                    flat.append(item)
            items[:] = flat
        return cast(list[TraceEntry | _Note], items)  # no callables left

    @property
    def entries(self) -> tuple[TraceEntry, ...]:
        """The entries, in the order they were recorded."""
        items = self._expand()
        for i, item in enumerate(items):
            if isinstance(item, tuple):
                items[i] = self._entry(item)
        return tuple(item for item in items if isinstance(item, TraceEntry))

    def _entry(self, note: _Note) -> TraceEntry:
        kind, id, result, condition, skipped = note
        explain = None
        if condition is not None:
            explain = partial(condition.explain, self._facts, self._ev)
        return TraceEntry(kind, id, result, skipped=skipped, explain=explain)

    @property
    def errors(self) -> tuple[TraceEntry, ...]:
        """The plugin errors."""
        return tuple(
            item for item in self._expand() if isinstance(item, TraceEntry) and item.kind == "error"
        )

    def result(self, kind: str, id: str) -> bool | None:
        """The result recorded for ``kind``/``id``, or ``None``."""
        for item in self._expand():
            if isinstance(item, tuple):
                if item[0] == kind and item[1] == id:
                    return item[2]
            elif item.kind == kind and item.id == id:
                return item.result
        return None

    def render(self) -> str:
        """A human-readable account, one line per step (used by ``explain()``)."""
        return "\n".join(entry.render() for entry in self.entries)

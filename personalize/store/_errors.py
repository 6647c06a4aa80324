"""Exceptions of the store, below :class:`~personalize.errors.PersonalizeError`::

PersonalizeError
 +-- StoreUnavailable           the backend did not answer in time (Redis down or slow);
 |                              the facade catches it, serves no history and says so
 +-- EventError (also ValueError)  appended events are invalid; lists every problem
"""

from __future__ import annotations

from collections.abc import Iterable

from personalize.errors import PersonalizeError, Problem

__all__ = ["EventError", "StoreUnavailable"]


class StoreUnavailable(PersonalizeError):
    """The store's backend did not answer within its timeout, or refused the connection.

    ``history()`` raises it; the caller serves an empty history and records the message.
    """


class EventError(PersonalizeError, ValueError):
    """Appended events are invalid; nothing of the batch was stored.

    Attributes:
        problems: Every problem, each with its path (``events[3].price``).
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        head = f"{count} invalid event field{'s' if count != 1 else ''}"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))

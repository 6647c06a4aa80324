"""Exceptions raised by personalize.

Every exception the SDK raises on purpose derives from one root::

    PersonalizeError
     +-- ConfigError (also ValueError)      a configuration, catalog or data file is invalid;
     |                                       carries every problem, each with its path
     +-- PluginError                        a plugin failed validation when it registered
     +-- DataError (also ValueError)        a data file (catalog, events) cannot be read

Request and history data never raise: ``Personalizer.personalize`` degrades to defaults
and records what went wrong in the trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ConfigError", "DataError", "PersonalizeError", "PluginError", "Problem"]


class PersonalizeError(Exception):
    """Root of every exception that personalize raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found while loading configuration or data.

    Attributes:
        path: Where the problem is, e.g. ``rules[3].when.geo.contry``.
        message: What is wrong.
        suggestion: A close valid alternative, when one is known.
    """

    path: str
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        if self.suggestion:
            text += f"; did you mean {self.suggestion}?"
        return text


class ConfigError(PersonalizeError, ValueError):
    """A configuration is invalid. Lists every problem found, each with its path.

    Attributes:
        problems: Every problem found, in the order found.
    """

    def __init__(self, problems: Iterable[Problem] | str, *, source: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(path="", message=problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        super().__init__(self._render())

    @property
    def path(self) -> str:
        """The path of the first problem (``""`` when it concerns the whole file)."""
        return self.problems[0].path if self.problems else ""

    def _render(self) -> str:
        where = f" in {self.source}" if self.source else ""
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''}{where}"
        return head + ":\n" + "\n".join(f"  - {p}" for p in self.problems)


class DataError(PersonalizeError, ValueError):
    """A data file (catalog, event log) cannot be read; the message names the record."""


class PluginError(PersonalizeError):
    """A plugin is invalid; the message names the plugin and what is wrong with it."""

"""The fact paths a condition may read, and the small helpers of checking it."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from typing import Any

__all__ = ["Scope", "is_operator_object", "suggest", "walk_strings"]


class Scope:
    """The fact paths one kind of condition may read, with their kinds."""

    def __init__(self, schema: Mapping[str, str] | None, open_paths: Collection[str]) -> None:
        self.schema = dict(schema) if schema is not None else None
        opened = set(open_paths)
        if self.schema is not None:
            for path, kind in self.schema.items():
                if kind in {"object", "any"} and not any(
                    other.startswith(path + ".") for other in self.schema
                ):
                    opened.add(path)
        self.open = frozenset(opened)

    def kind(self, dotted: str) -> str | None:
        """The kind of ``dotted``: ``any`` when unchecked, ``None`` when unknown."""
        if self.schema is None:
            return "any"
        if dotted in self.schema:
            return self.schema[dotted]
        parts = dotted.split(".")
        for i in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:i]) in self.open:
                return "any"
        return None

    def suggest(self, dotted: str) -> str | None:
        choices = list(self.schema or ())
        close = difflib.get_close_matches(dotted, choices, n=1, cutoff=0.6)
        return close[0] if close else None


def suggest(word: str, choices: Collection[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def is_operator_object(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(isinstance(k, str) and k.startswith("$") for k in value)
    )


def walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from walk_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from walk_strings(item)

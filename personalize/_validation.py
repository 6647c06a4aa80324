"""From pydantic's validation errors to problems with paths in the configuration document."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import ValidationError

from personalize.errors import Problem

__all__ = ["DUPLICATE_ID", "document_problems", "format_path", "problems_from_validation"]

#: The error type of the model's own duplicate-id check; a loaded document reports
#: duplicates at their paths through :func:`document_problems` instead.
DUPLICATE_ID = "duplicate_id"

#: The sections whose items carry a unique id, and the name of that id.
_ID_FIELDS = (("rules", "id"), ("offers", "id"), ("landing", "id"), ("experiments", "key"))


def format_path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """Render a location tuple as ``rules[3].when.geo.contry``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


#: Error types that only say an input was not of a union member's type.
_TYPE_MISMATCH = frozenset(
    {
        "model_type",
        "model_attributes_type",
        "list_type",
        "dict_type",
        "date_type",
        "date_parsing",
        "date_from_datetime_parsing",
        "date_from_datetime_inexact",
        "datetime_type",
        "datetime_parsing",
        "datetime_from_date_parsing",
    }
)


def _has(node: Any, step: int | str) -> bool:
    if isinstance(node, Mapping):
        return step in node
    return isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)


def _walk(
    data: Any, loc: tuple[int | str, ...], missing: bool
) -> tuple[tuple[int | str, ...], int | None]:
    """Follow ``loc`` through ``data``: the steps that name real keys or indexes, and where
    the first union-member tag (a step naming nothing in the data) was, if any. The last step
    of a ``missing`` error names the missing key, never a tag."""
    path: list[int | str] = []
    tag_at: int | None = None
    node = data
    last = len(loc) - 1
    for i, step in enumerate(loc):
        if _has(node, step):
            node = node[step]
        elif not (missing and i == last):
            if tag_at is None:
                tag_at = len(path)  # pydantic names the union member it tried here
            continue
        path.append(step)
    return tuple(path), tag_at


def problems_from_validation(exc: ValidationError, data: Any) -> list[Problem]:
    """Turn pydantic's errors into problems with document paths.

    A field typed as a union (a cap or a list of caps, a date or a date-time) makes pydantic
    report one error per member it tried, with the member's name in the location. Here
    member names never appear in a path; the members that merely did not fit the input's
    type are left out when another member got further, and merged into one problem when
    none did.
    """
    rows = []
    for err in exc.errors():
        if err["type"] == DUPLICATE_ID:
            continue
        loc = tuple(err["loc"])
        path, tag_at = _walk(data, loc, err["type"] == "missing")
        tag = loc[tag_at] if tag_at is not None else None
        rows.append((path, tag_at, tag, err))
    deeper = {
        (path[:at], tag)
        for path, at, tag, err in rows
        if at is not None and err["type"] not in _TYPE_MISMATCH
    }
    messages: dict[str, list[str]] = {}
    for path, tag_at, tag, err in rows:
        if tag_at is not None and err["type"] in _TYPE_MISMATCH:
            union = path[:tag_at]
            if any(u == union and t != tag for u, t in deeper):
                continue
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        found = messages.setdefault(format_path(path), [])
        if message not in found:
            found.append(message)
    return [
        Problem(path=where, message=found[0] if len(found) == 1 else "; or ".join(found))
        for where, found in messages.items()
    ]


def _duplicates(items: Any, prefix: str, field: str, what: str) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, item in enumerate(items if isinstance(items, list) else ()):
        value = item.get(field) if isinstance(item, Mapping) else None
        if not isinstance(value, str):
            continue
        if value in seen:
            problems.append(Problem(f"{prefix}[{i}].{field}", f"duplicate {what} {value!r}"))
        seen.add(value)
    return problems


def document_problems(data: Mapping[str, Any]) -> list[Problem]:
    """The checks of a raw document that need no registry, run whether or not its structure
    is valid: duplicate ids (each duplicate at its own path) and the store's time zone."""
    problems: list[Problem] = []
    for section, field in _ID_FIELDS:
        problems += _duplicates(data.get(section), section, field, field)
    experiments = data.get("experiments")
    for i, exp in enumerate(experiments if isinstance(experiments, list) else ()):
        if isinstance(exp, Mapping):
            variants = exp.get("variants")
            problems += _duplicates(variants, f"experiments[{i}].variants", "key", "variant key")
    settings = data.get("settings")
    zone = settings.get("timezone") if isinstance(settings, Mapping) else None
    if isinstance(zone, str) and _zone(zone) is None:
        problems.append(
            Problem("settings.timezone", f"unknown time zone {zone!r}", _suggest_zone(zone))
        )
    return problems


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _suggest_zone(name: str) -> str | None:
    close = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.6)
    return close[0] if close else None

"""Variant overrides: a dotted path into the configuration, and the value to put there.

A variant changes any part of the configuration with ``overrides``::

    ranking.weights.co_purchase: 3.0        # one key of a mapping
    ranking.exclude_purchased: false        # one field of a section
    rules.cold-weather-boost.enabled: false # an item of a list, addressed by its id
    offers.comeback10.value.percent: 15
    settings.max_offers: 1
    landing: [{page: /}]                    # a whole section

Segments walk the document: a field of a section, a key of a mapping, or the ``id`` of an
item in ``rules``, ``offers`` or ``landing`` (ids may contain dots; the longest matching id
wins). The result is validated again as a whole, so a wrong value is caught like a wrong
path: at load time, as a :class:`~personalize.errors.ConfigError` whose problems carry the
override's path (``experiments[0].variants[1].overrides.ranking.weights.co_purchse``).
``experiments`` and ``version`` cannot be overridden.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from personalize.config import DEFAULT_WEIGHTS, PersonalizerConfig, format_path
from personalize.errors import ConfigError, Problem

__all__ = ["apply_overrides", "override_locations", "unknown_weights"]

_LOCKED = frozenset({"experiments", "version"})


def apply_overrides(
    config: PersonalizerConfig,
    overrides: Mapping[str, Any] | Iterable[tuple[str, Any]],
    *,
    path: str = "overrides",
    known_weights: Collection[str] = (),
) -> PersonalizerConfig:
    """A copy of ``config`` with each override applied, in order, and validated again.

    Args:
        config: The base configuration (left unchanged).
        overrides: Dotted path to new value, as a mapping or as ``(path, value)`` pairs;
            later pairs win where paths overlap.
        path: Where the overrides sit in the file, prefixed to every problem's path.
        known_weights: Ranking weights that may be named besides the built-in ones (the
            scorers plugins registered).

    Returns:
        A new, validated :class:`PersonalizerConfig`.

    Raises:
        ConfigError: Every unknown path and every invalid value, each with its path.
    """
    pairs = list(overrides.items()) if isinstance(overrides, Mapping) else list(overrides)
    if not pairs:
        return config
    data = config.model_dump(by_alias=True)
    problems: list[Problem] = []
    applied: list[tuple[tuple[str | int, ...], str]] = []
    current: PersonalizerConfig = config
    done: list[str] = []
    for dotted, value in pairs:
        where = f"{path}.{dotted}"
        if any(dotted.startswith(earlier + ".") for earlier in done):
            # An earlier pair replaced what this one goes into (a whole list, say): walk
            # what it put there, so an item is found by its id where it now is.
            try:
                current = PersonalizerConfig.model_validate(data)
            except ValidationError:
                current = config  # reported below; the walk then checks every id
        done.append(dotted)
        try:
            loc = _assign(current, data, dotted, value, known_weights)
        except _BadPath as exc:
            problems.append(Problem(where, exc.message, exc.suggestion))
        else:
            applied.append((loc, where))
            if loc == ("ranking", "weights"):
                problems.extend(unknown_weights(value, known_weights, where))
    try:
        result = PersonalizerConfig.model_validate(data)
    except ValidationError as exc:
        problems.extend(_locate(exc, applied, path))
    if problems:
        raise ConfigError(problems)
    return result


def override_locations(
    config: PersonalizerConfig,
    overrides: Mapping[str, Any],
    *,
    known_weights: Collection[str] = (),
) -> list[tuple[str, str]]:
    """Where each valid override lands in ``config``, as a path of the configuration
    (``landing``, ``offers[2].value.percent``), with the override's dotted path.

    Lets a problem found in a variant's configuration be named after the override that
    put it there.
    """
    data = config.model_dump(by_alias=True)
    found: list[tuple[str, str]] = []
    for dotted, value in overrides.items():
        try:
            loc = _assign(config, data, dotted, value, known_weights)
        except _BadPath:
            continue
        found.append((format_path(loc), dotted))
    return found


class _BadPath(Exception):
    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return close[0] if close else None


def _item_id(item: Any) -> str | None:
    for attr in ("id", "key"):
        value = getattr(item, attr, None)
        if isinstance(value, str):
            return value
    return None


def _data_id(item: Any) -> str | None:
    if isinstance(item, BaseModel):
        return _item_id(item)
    if isinstance(item, Mapping):
        for attr in ("id", "key"):
            if isinstance(item.get(attr), str):
                return str(item[attr])
    return None


def unknown_weights(weights: Any, known: Collection[str], path: str) -> list[Problem]:
    """A problem for each name in a ``ranking.weights`` mapping that is no known weight."""
    if not isinstance(weights, Mapping):
        return []
    names = {*DEFAULT_WEIGHTS, *known}
    return [
        Problem(f"{path}.{name}", "unknown ranking weight", _suggest(str(name), names))
        for name in weights
        if name not in names
    ]


def _assign(
    config: PersonalizerConfig,
    data: dict[str, Any],
    dotted: str,
    value: Any,
    known_weights: Collection[str] = (),
) -> tuple[str | int, ...]:
    """Put ``value`` at ``dotted`` inside ``data`` (the dump of ``config``); return its loc."""
    parts = dotted.split(".")
    if not dotted or any(not part for part in parts):
        raise _BadPath("an override path needs dot-separated names")
    if parts[0] in _LOCKED:
        raise _BadPath(f"a variant cannot override {parts[0]!r}")
    obj: Any = config
    node: Any = data
    loc: list[str | int] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        last = i == len(parts) - 1
        if isinstance(obj, BaseModel):
            fields = type(obj).model_fields
            names = {(f.alias or name): name for name, f in fields.items()} | {
                name: name for name in fields
            }
            if part not in names:
                raise _BadPath(f"unknown field {part!r}", _suggest(part, names))
            name = names[part]
            key = fields[name].alias or name
            if last:
                node[key] = value
            obj = getattr(obj, name)
            if obj is None and not last:
                obj = {}
                node[key] = {}
            loc.append(key)
            node = node[key]
            i += 1
        elif isinstance(obj, dict):
            if (loc and loc[-1] == "when") or (len(loc) == 2 and loc[0] == "segments"):
                raise _BadPath(f"replace the whole condition at {format_path(loc)}")
            if loc == ["ranking", "weights"]:
                known = {*DEFAULT_WEIGHTS, *known_weights, *config.ranking.weights}
                if part not in known:
                    raise _BadPath(f"unknown ranking feature {part!r}", _suggest(part, known))
            if last:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise _BadPath(f"{format_path([*loc, part])} holds a value, not a mapping")
            obj = obj.get(part, {})
            loc.append(part)
            node = node[part]
            i += 1
        elif isinstance(obj, list) and all(isinstance(x, BaseModel) for x in obj):
            ids = {_item_id(x): index for index, x in enumerate(obj)}
            ids.pop(None, None)
            found = None
            for j in range(len(parts), i, -1):
                candidate = ".".join(parts[i:j])
                if candidate in ids:
                    found = candidate, j
                    break
            if found is None:
                raise _BadPath(f"no item with id {part!r}", _suggest(part, [k for k in ids if k]))
            item_id, j = found
            index = ids[item_id]
            if not (
                isinstance(node, list) and index < len(node) and _data_id(node[index]) == item_id
            ):
                raise _BadPath(f"item {item_id!r} was replaced by an earlier override")
            if j == len(parts):
                node[index] = value
            obj = obj[index]
            loc.append(index)
            node = node[index]
            i = j
        else:
            kind = "a list" if isinstance(obj, list) else type(obj).__name__
            raise _BadPath(f"cannot go inside {kind} at {format_path(loc) or 'the top'}")
    return tuple(loc)


def _locate(
    exc: ValidationError, applied: list[tuple[tuple[str | int, ...], str]], path: str
) -> list[Problem]:
    """Name each validation error after the override that caused it."""
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not str(p).startswith("function-"))
        where = path
        best = -1
        for prefix, override_path in applied:
            if loc[: len(prefix)] == prefix and len(prefix) > best:
                where, best = override_path, len(prefix)
        rest = loc[best:] if best >= 0 else loc
        detail = f" (at {format_path(rest)})" if rest else ""
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(Problem(where, message + detail))
    return problems

"""Reading a configuration document from a file, within limits.

A configuration file is text the SDK does not control, so reading it is bounded:

* at most :data:`MAX_FILE_BYTES` bytes, in UTF-8;
* YAML without anchors and aliases (``&a`` / ``*a``): a few hundred bytes of nested
  aliases otherwise expand into gigabytes once the document is walked ("billion laughs");
* at most :data:`MAX_DEPTH` levels of nested mappings and lists, in every format and for
  mappings passed directly;
* no NUL characters in keys;
* not empty: a file with nothing in it (or only comments) is an error unless it says
  ``{}``, so that a truncated file never loads as "no rules".

Every breach is a :class:`~personalize.errors.ConfigError` naming the file and, where it
can, the line or the path in the document.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from personalize._validation import format_path
from personalize.errors import ConfigError, Problem

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "nesting_problems", "read_document"]

#: The largest configuration file read, in bytes.
MAX_FILE_BYTES = 16 * 1024 * 1024
#: The deepest nesting of mappings and lists a configuration may have.
MAX_DEPTH = 64


class _Refused(yaml.YAMLError):
    def __init__(self, message: str, mark: Any) -> None:
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        super().__init__(message + where)


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors and aliases and bounds the nesting depth."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise _Refused("aliases (*name) are not allowed", event.start_mark)
        if getattr(event, "anchor", None) is not None:
            raise _Refused("anchors (&name) are not allowed", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _problem(message: str, name: str) -> ConfigError:
    return ConfigError([Problem("", message)], source=name)


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _problem(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line}, column {column}", name
        ) from None


def _parse(text: str, suffix: str, name: str) -> Any:
    try:
        if suffix == ".json":
            return json.loads(text)
        if suffix == ".toml":
            return tomllib.loads(text)
        return yaml.load(text, Loader=_BoundedLoader)  # a SafeLoader subclass
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise _problem(f"cannot parse {name}: {exc}", name) from None
    except RecursionError:
        message = f"cannot parse {name}: nested more than {MAX_DEPTH} levels deep"
        raise _problem(message, name) from None


def read_document(source: str | Path) -> tuple[Any, str]:
    """The parsed document of a ``.yaml``/``.yml``, ``.json`` or ``.toml`` file, and its name.

    Raises:
        ConfigError: The file is missing, unreadable, too large, not UTF-8, empty, not
            parseable, or uses YAML anchors or aliases.
    """
    path = Path(source)
    name = path.name
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _problem(f"no such file: {path}", name) from None
    except OSError as exc:
        raise _problem(f"cannot read {path}: {exc.strerror or exc}", name) from None
    if len(raw) > MAX_FILE_BYTES:
        raise _problem(f"the file is larger than {MAX_FILE_BYTES} bytes", name)
    text = _decode(raw, name)
    empty = _problem("the file is empty; write {} for an empty configuration", name)
    if not text.strip():
        raise empty
    data = _parse(text, path.suffix.lower(), name)
    if data is None or (data == {} and "{" not in text):  # only comments
        raise empty
    return data, name


def nesting_problems(data: Any) -> list[Problem]:
    """Where ``data`` nests deeper than :data:`MAX_DEPTH` or has a key with a NUL in it.

    The walk is iterative, so a mapping nested a million levels deep is reported, not a
    :class:`RecursionError`. Each too-deep branch is reported once, at the level where it
    crosses the limit.
    """
    problems: list[Problem] = []
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(data, ())]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, Mapping):
            items: Any = node.items()
        elif isinstance(node, list | tuple):
            items = enumerate(node)
        else:
            continue
        if len(loc) >= MAX_DEPTH:
            problems.append(Problem(format_path(loc), f"nested more than {MAX_DEPTH} levels deep"))
            continue
        for key, child in items:
            step = key if isinstance(key, int | str) else str(key)
            if isinstance(key, str) and "\0" in key:
                shown = format_path((*loc, key.replace("\0", "\\0")))
                problems.append(Problem(shown, "a name must not contain a NUL character"))
                continue
            stack.append((child, (*loc, step)))
    problems.reverse()
    return problems

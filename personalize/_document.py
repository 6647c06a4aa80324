"""Reading a configuration document from a file, within limits.

A configuration file is text the SDK does not control, so reading it is bounded:

* at most :data:`MAX_FILE_BYTES` bytes, in UTF-8;
* YAML without anchors and aliases (``&a`` / ``*a``): a few hundred bytes of nested
  aliases otherwise expand into gigabytes once the document is walked ("billion laughs");
* at most :data:`MAX_DEPTH` levels of nested mappings and lists, in every format and for
  mappings passed directly;
* at most :data:`MAX_YAML_NODES` values (scalars, mappings and lists) in a YAML file:
  composing a YAML node costs a thousand times what a byte of JSON does, so the byte limit
  alone would let a 16 MB YAML file take minutes and gigabytes (libyaml's parser is used
  when PyYAML has it, a few times faster than PyYAML's own);
* no key twice in one mapping (YAML and JSON; TOML refuses it itself): the parsers keep
  the last value and silently drop the first, such as a whole first ``rules:`` section;
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
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from personalize._validation import format_path
from personalize.errors import ConfigError, Problem

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_YAML_NODES",
    "nesting_problems",
    "read_document",
]

#: The largest configuration file read, in bytes.
MAX_FILE_BYTES = 16 * 1024 * 1024
#: The deepest nesting of mappings and lists a configuration may have.
MAX_DEPTH = 64
#: The most values (scalars, mappings, lists) a YAML file may have: some 20 times those of
#: the 200-rule benchmark configuration. Write larger, generated ones as JSON.
MAX_YAML_NODES = 100_000


class _Refused(yaml.YAMLError):
    def __init__(self, message: str, mark: Any) -> None:
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        super().__init__(message + where)


class _Bounds:
    """What the bounded loaders add to PyYAML's composer: anchors and aliases are refused,
    the depth and the number of nodes are bounded, and every key given twice in a mapping
    is recorded in :attr:`duplicates` with its path and lines."""

    def _start(self) -> None:
        self.depth = 0
        self.nodes = 0
        self.path: list[int | str] = []
        self.duplicates: list[tuple[int, Problem]] = []  # (line, problem)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, yaml.AliasEvent):
            raise _Refused("aliases (*name) are not allowed", event.start_mark)
        if getattr(event, "anchor", None) is not None:
            raise _Refused("anchors (&name) are not allowed", event.start_mark)
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            message = f"more than {MAX_YAML_NODES} values in a YAML file; write it as JSON"
            raise _Refused(message, event.start_mark)
        step = _step(parent, index)
        if step is not None:
            self.path.append(step)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            node = super().compose_node(parent, index)  # type: ignore[misc]
            if isinstance(node, yaml.MappingNode):
                self._note_duplicates(node)
            return node
        finally:
            self.depth -= 1
            if step is not None:
                self.path.pop()

    def _note_duplicates(self, node: yaml.MappingNode) -> None:
        lines: dict[tuple[str, Any], int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            line = key.start_mark.line + 1
            first = lines.get((key.tag, key.value))
            if first is None:
                lines[(key.tag, key.value)] = line
                continue
            where = format_path((*self.path, key.value))
            where_ = f"line {line}" if first == line else f"lines {first} and {line}"
            message = f"this key is given twice ({where_}); give it once"
            self.duplicates.append((line, Problem(where, message)))


def _first(item: tuple[int, Problem]) -> int:
    return item[0]


def _step(parent: Any, index: Any) -> int | str | None:
    """The path step of the node composed under ``parent`` at ``index``: a list position,
    a mapping's key, or ``None`` for the document and for a mapping's keys themselves."""
    if parent is None or index is None:
        return None
    if isinstance(index, int):
        return index
    return index.value if isinstance(index, yaml.ScalarNode) else "?"


class _PythonLoader(_Bounds, yaml.SafeLoader):
    """The bounded loader on PyYAML's own parser."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._start()


_Loader: Any = _PythonLoader
if yaml.__with_libyaml__:  # pragma: no branch - the wheels ship libyaml
    from yaml._yaml import CParser

    class _LibyamlLoader(_Bounds, Composer, CParser, SafeConstructor, Resolver):
        """The bounded loader on libyaml's parser: the same composer, constructor and
        resolver as :class:`_PythonLoader`, only the events come from C."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._start()

    _Loader = _LibyamlLoader


def _load_yaml(text: str, problems: list[Problem]) -> Any:
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        if exc.problem and "maximum nesting depth" in exc.problem:  # libyaml's own limit
            too_deep = f"nested more than {MAX_DEPTH} levels deep"
            raise _Refused(too_deep, exc.problem_mark) from None
        raise
    finally:
        problems.extend(problem for _, problem in sorted(loader.duplicates, key=_first))
        loader.dispose()


def _load_json(text: str, problems: list[Problem]) -> Any:
    twice: dict[int, tuple[dict[str, Any], list[str]]] = {}

    def mapping(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        built: dict[str, Any] = {}
        for key, value in pairs:
            if key in built:  # the mapping is kept alive in ``twice``: its id stays its own
                twice.setdefault(id(built), (built, []))[1].append(key)
            built[key] = value
        return built

    data = json.loads(text, object_pairs_hook=mapping)
    if twice:
        for node, loc in _nodes(data):
            found = twice.get(id(node))
            if found is not None and found[0] is node:
                for key in found[1]:
                    where = format_path((*loc, key))
                    problems.append(Problem(where, "this key is given twice; give it once"))
    return data


def _nodes(data: Any) -> list[tuple[Any, tuple[int | str, ...]]]:
    """Every mapping of ``data`` with its location, in document order (iteratively)."""
    found: list[tuple[Any, tuple[int | str, ...]]] = []
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(data, ())]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, dict):
            found.append((node, loc))
            stack.extend((child, (*loc, key)) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((child, (*loc, i)) for i, child in reversed(list(enumerate(node))))
    return found


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


def _parse(text: str, suffix: str, name: str, problems: list[Problem]) -> Any:
    try:
        if suffix == ".json":
            return _load_json(text, problems)
        if suffix == ".toml":
            return tomllib.loads(text)
        return _load_yaml(text, problems)  # safe: SafeConstructor only
    except (ValueError, yaml.YAMLError) as exc:  # ValueError: also an int of 4301+ digits
        raise _problem(f"cannot parse {name}: {exc}", name) from None
    except RecursionError:
        message = f"cannot parse {name}: nested more than {MAX_DEPTH} levels deep"
        raise _problem(message, name) from None


def read_document(source: str | Path, problems: list[Problem] | None = None) -> tuple[Any, str]:
    """The parsed document of a ``.yaml``/``.yml``, ``.json`` or ``.toml`` file, and its name.

    Args:
        source: The file.
        problems: Where keys given twice in one mapping are reported, so that they join
            the document's other problems; without it they are raised.

    Raises:
        ConfigError: The file is missing, unreadable, too large, not UTF-8, empty, not
            parseable, uses YAML anchors or aliases or has too many YAML values (or, with
            no ``problems`` list, gives a key twice in one mapping).
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
    twice: list[Problem] = []
    data = _parse(text, path.suffix.lower(), name, twice)
    if data is None or (data == {} and "{" not in text):  # only comments
        raise empty
    if problems is not None:
        problems.extend(twice)
    elif twice:
        raise ConfigError(twice, source=name)
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

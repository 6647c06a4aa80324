"""The command line's inputs, read so that every user mistake is one clear message.

The commands read their files through these helpers; what goes wrong becomes a
:class:`UsageError` naming the file and, where it can, the line and the field. The command
line prints it on stderr and exits with status 2 (``personalize.cli`` documents the codes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

__all__ = ["UsageError", "describe_os_error", "read_json_object", "require_file", "validated"]

_M = TypeVar("_M", bound=BaseModel)


class UsageError(Exception):
    """A mistake in how a command was called or in a file it was given (exit status 2)."""


def require_file(path: str | Path, what: str) -> Path:
    """``path`` if it is a readable file, else a :class:`UsageError` saying what is wrong.

    Args:
        path: The file named on the command line.
        what: What the file is, for the message (``configuration``, ``catalog`` ...).
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{what} not found: {path}")
    if path.is_dir():
        raise UsageError(f"{what} is a directory, not a file: {path}")
    return path


def read_json_object(path: str | Path, what: str) -> dict[str, Any]:
    """The JSON object in the file at ``path``.

    Raises:
        UsageError: The file is missing, not UTF-8, not JSON, or not a JSON object.
    """
    path = require_file(path, what)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}: line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object, not {type(data).__name__}")
    return data


def validated(model: type[_M], data: Any, where: str) -> _M:
    """``data`` validated as ``model``; every field error is named in one message.

    Args:
        model: The pydantic model (``Request``, ``History`` ...).
        data: The parsed value.
        where: Where the value came from, for the message (``request.json: request``).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"{where}: " + "; ".join(_errors(exc.errors()))) from None


def describe_os_error(exc: OSError) -> str:
    """``cannot read missing.json: No such file or directory``, and the like."""
    name = exc.filename if exc.filename is not None else ""
    reason = exc.strerror or str(exc)
    return f"cannot use {name}: {reason}" if name else reason


def _errors(errors: Iterable[Mapping[str, Any]]) -> list[str]:
    out = []
    for err in errors:
        field = ".".join(str(part) for part in err["loc"])
        out.append(f"{field}: {err['msg']}" if field else str(err["msg"]))
    return out

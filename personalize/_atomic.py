"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Everything the SDK saves (interaction indexes, event logs) goes through :func:`atomic_binary`
or :func:`atomic_text`: the data goes to a temporary file in the target's directory, which
is flushed and ``fsync``-ed, then renamed over the target with :func:`os.replace` (atomic on
POSIX and Windows); on POSIX the directory is ``fsync``-ed too, so the rename survives a
power cut. If writing fails -- an exception from the caller, a full disk -- the temporary
file is removed and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

__all__ = ["atomic_binary", "atomic_text"]


@contextlib.contextmanager
def atomic_binary(path: str | Path) -> Iterator[BinaryIO]:
    """Open a binary file that replaces ``path`` atomically when the block ends.

    Args:
        path: The file to write; it is replaced only if the ``with`` block completes.

    Yields:
        A binary file object for the temporary file.
    """
    target = Path(path)
    tmp, fd = _create_temporary(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _keep_mode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_directory(target.parent)


@contextlib.contextmanager
def atomic_text(path: str | Path, *, compress: bool = False) -> Iterator[TextIO]:
    """Open a UTF-8 text file (gzip-compressed if ``compress``) that replaces ``path``
    atomically when the block ends; lines end in ``\\n`` on every platform.

    Args:
        path: The file to write; it is replaced only if the ``with`` block completes.
        compress: Write gzip (with a zero timestamp, so equal content gives equal bytes).

    Yields:
        A text file object.
    """
    with atomic_binary(path) as raw:
        layer: BinaryIO | gzip.GzipFile = raw
        if compress:
            layer = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0)
        text = io.TextIOWrapper(layer, encoding="utf-8", newline="\n")
        try:
            yield text
        except BaseException:
            with contextlib.suppress(Exception):
                _release(text, layer, compress)
            raise
        _release(text, layer, compress)


def _release(text: io.TextIOWrapper, layer: BinaryIO | gzip.GzipFile, compress: bool) -> None:
    """Flush the text and gzip layers into the raw file without closing it."""
    text.detach()
    if compress:
        layer.close()  # writes the gzip trailer; a GzipFile leaves its fileobj open


def _create_temporary(target: Path) -> tuple[Path, int]:
    """A new file beside ``target`` (same file system, so the rename is atomic)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:  # pragma: no cover - 1 in 4 billion
            continue


def _keep_mode(target: Path, tmp: Path) -> None:
    """Give the new file the permissions of the one it replaces, as an overwrite would."""
    with contextlib.suppress(OSError):
        os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); best effort where directories cannot be synced."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

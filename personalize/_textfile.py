"""Reading data files (catalogs, event logs) as UTF-8 text, line by line.

Every way the bytes can be unreadable becomes a :class:`~personalize.errors.DataError`
that names the file and the line: a missing file, a ``.gz`` file that is not gzip or ends
early, a byte that is not UTF-8. Lines are decoded one by one, so the line of a bad byte
is exact. A UTF-8 byte-order mark at the start of the file is legitimate and skipped.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from personalize.errors import DataError

__all__ = ["iter_lines", "read_text"]

_BOM = b"\xef\xbb\xbf"


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """The number (from 1) and text (with its line ending) of each line of ``path``.

    A path ending in ``.gz`` is decompressed.

    Raises:
        DataError: The file cannot be read, is not gzip or is truncated (for ``.gz``),
            or holds a byte that is not UTF-8; the message names the file and line.
    """
    number = 0
    try:
        with _open(path) as handle:
            for number, raw in enumerate(handle, start=1):
                line = raw.removeprefix(_BOM) if number == 1 else raw
                try:
                    yield number, line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise DataError(
                        f"{path.name}:{number}: not UTF-8 text (byte {exc.start + 1} of the line)"
                    ) from None
    except EOFError:
        raise DataError(
            f"{path.name}:{number + 1}: the gzip stream ends early (truncated file)"
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{path.name}:{number + 1}: corrupt gzip data ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path.name}: cannot read: {exc}") from None


def read_text(path: Path) -> str:
    """The whole text of ``path`` (see :func:`iter_lines` for what is checked)."""
    return "".join(line for _, line in iter_lines(path))


def _open(path: Path) -> BinaryIO | gzip.GzipFile:
    if path.suffix.lower() == ".gz":
        return gzip.GzipFile(path, "rb")
    return path.open("rb")

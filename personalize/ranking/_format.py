"""The file format of a saved interaction index: a checked header, then gzip JSON.

Layout (integers big-endian)::

    offset  size  field
         0     8  magic  b"PZINDEX\\n"
         8     4  format version (2)
        12     8  length of the payload (gzip bytes)
        20     8  length of the JSON once decompressed
        28    32  SHA-256 of bytes 8..28 followed by the payload
        60     -  payload: the index document as gzip-compressed UTF-8 JSON

The digest covers the version, both lengths and the payload, so any change to a saved
file -- a flipped bit, a changed byte, a truncation, a rewritten payload -- is caught
before anything is decompressed or parsed, and reported as a
:class:`~personalize.errors.DataError`. Version 1 files (bare gzip JSON, without a
checksum) are refused with a request to rebuild.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from personalize._atomic import atomic_binary
from personalize.errors import DataError

__all__ = ["MAGIC", "VERSION", "decode", "encode", "read_document", "write_document"]

MAGIC = b"PZINDEX\n"
VERSION = 2
_FIELDS = struct.Struct(">IQQ")  # version, payload length, JSON length
_DIGEST = hashlib.sha256().digest_size
_HEADER = len(MAGIC) + _FIELDS.size + _DIGEST
_GZIP_MAGIC = b"\x1f\x8b"
#: Deflate expands a byte to at most 1032 (a 258-byte match in 2 bits): a longer JSON
#: length in a header is a lie, and would overflow the decompressor's limit.
_MAX_INFLATION = 1032


def encode(doc: dict[str, Any]) -> bytes:
    """The bytes of a saved index holding ``doc`` (deterministic for equal documents)."""
    header, payload = _encoded(doc)
    return header + b"".join(payload)


def _encoded(doc: dict[str, Any]) -> tuple[bytes, list[bytes]]:
    """The header and the payload (in pieces) of a saved index holding ``doc``.

    The JSON is made and compressed a top-level field at a time, so the whole text never
    exists at once; Huffman coding only, since most of it is base64 of arrays, where
    searching for repeated strings finds little: as small as gzip's level 6, and several
    times faster.
    """
    deflate = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS, 9, zlib.Z_HUFFMAN_ONLY)
    payload: list[bytes] = []
    raw_size = 0
    for text in _json_pieces(doc):
        raw = text.encode("utf-8")
        raw_size += len(raw)
        payload.append(deflate.compress(raw))
        del raw
    payload.append(deflate.flush())
    fields = _FIELDS.pack(VERSION, sum(map(len, payload)), raw_size)
    digest = hashlib.sha256(fields)
    for piece in payload:
        digest.update(piece)
    return MAGIC + fields + digest.digest(), payload


def _json_pieces(doc: dict[str, Any]) -> Iterator[str]:
    """``json.dumps(doc, separators=(",", ":"))``, a top-level field at a time."""
    yield "{"
    for n, (key, value) in enumerate(doc.items()):
        yield ("," if n else "") + json.dumps(str(key)) + ":"
        yield json.dumps(value, separators=(",", ":"))
    yield "}"


def decode(data: bytes, source: str) -> Any:
    """The document inside the bytes of a saved index, after checking them end to end.

    Raises:
        DataError: The bytes are not a saved index, are of another version, or are
            corrupt (truncated, altered); the message says which.
    """
    if not data.startswith(MAGIC):
        if data.startswith(_GZIP_MAGIC):
            raise DataError(
                f"{source}: interaction index of format version 1 (no checksum); this "
                f"release reads version {VERSION} only: rebuild and save it again"
            )
        raise DataError(f"{source}: not a saved interaction index")
    if len(data) < _HEADER:
        raise DataError(f"{source}: corrupt interaction index: truncated header")
    fields = data[len(MAGIC) : len(MAGIC) + _FIELDS.size]
    version, payload_size, raw_size = _FIELDS.unpack(fields)
    if version != VERSION:
        raise DataError(
            f"{source}: interaction index of format version {version}; this release "
            f"reads version {VERSION} only"
        )
    payload = data[_HEADER:]
    if len(payload) != payload_size:
        raise DataError(
            f"{source}: corrupt interaction index: {len(payload)} payload bytes, "
            f"the header says {payload_size} (truncated or extended)"
        )
    if hashlib.sha256(fields + payload).digest() != data[_HEADER - _DIGEST : _HEADER]:
        raise DataError(f"{source}: corrupt interaction index: checksum mismatch")
    if raw_size > _MAX_INFLATION * payload_size:
        raise DataError(
            f"{source}: corrupt interaction index: the header says {raw_size} bytes of "
            f"JSON, more than {payload_size} payload bytes can hold"
        )
    try:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        raw = inflater.decompress(payload, raw_size + 1)
        if len(raw) != raw_size or not inflater.eof:
            raise ValueError(f"{len(raw)} bytes of JSON, the header says {raw_size}")
        return json.loads(raw)
    except (zlib.error, ValueError, RecursionError) as exc:
        raise DataError(f"{source}: corrupt interaction index: {exc}") from exc


def write_document(path: str | Path, doc: dict[str, Any]) -> None:
    """Save ``doc`` to ``path`` atomically (the old file stays whole if this fails)."""
    header, payload = _encoded(doc)
    with atomic_binary(path) as handle:
        handle.write(header)
        for piece in payload:
            handle.write(piece)


def read_document(path: str | Path) -> Any:
    """The document of the saved index at ``path``, checked.

    Raises:
        DataError: The file cannot be read, or is not a saved index of this version, or
            is corrupt.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the interaction index: {exc}") from exc
    return decode(data, str(path))

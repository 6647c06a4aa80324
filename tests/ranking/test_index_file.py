"""The saved interaction index: atomic saves, format version, checksum, every corruption."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import signal
import struct
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from ranking_helpers import shop_index

from personalize import DataError
from personalize.ranking import InteractionIndex
from personalize.ranking._format import MAGIC, decode, encode

CASES = 300


def _outcome(path: Path) -> str:
    try:
        InteractionIndex.load(path)
    except DataError:
        return "DataError"
    except Exception as exc:  # the test counts what escapes
        return type(exc).__name__
    return "loaded silently"


def _flip_bit(data: bytes, rng: random.Random) -> bytes:
    changed = bytearray(data)
    changed[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(changed)


def _change_byte(data: bytes, rng: random.Random) -> bytes:
    changed = bytearray(data)
    at = rng.randrange(len(data))
    changed[at] = (changed[at] + rng.randrange(1, 256)) % 256
    return bytes(changed)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def _rewrite_payload(data: bytes, rng: random.Random) -> bytes:
    """Change one byte of the JSON and re-gzip it: the gzip framing stays valid."""
    start = data.index(b"\x1f\x8b")
    body = _change_byte(gzip.decompress(data[start:]), rng)
    return data[:start] + gzip.compress(body, mtime=0)


@pytest.mark.parametrize(
    "corrupt", [_flip_bit, _change_byte, _truncate, _rewrite_payload], ids=lambda f: f.__name__
)
def test_every_corrupted_file_raises_data_error(
    tmp_path: Path, corrupt: Callable[[bytes, random.Random], bytes]
) -> None:
    good = tmp_path / "good.idx"
    shop_index().save(good)
    data = good.read_bytes()
    rng = random.Random(8)
    bad = tmp_path / "bad.idx"
    outcomes: Counter[str] = Counter()
    for _ in range(CASES):
        bad.write_bytes(corrupt(data, rng))
        outcomes[_outcome(bad)] += 1
    assert outcomes == {"DataError": CASES}


def test_a_flipped_bit_in_the_payload_is_a_checksum_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "index.idx"
    shop_index().save(path)
    data = bytearray(path.read_bytes())
    data[-40] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="checksum mismatch"):
        InteractionIndex.load(path)


def test_a_truncated_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "index.idx"
    shop_index().save(path)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match="truncated"):
        InteractionIndex.load(path)


def test_another_format_version_names_the_supported_one(tmp_path: Path) -> None:
    path = tmp_path / "index.idx"
    shop_index().save(path)
    data = bytearray(path.read_bytes())
    data[len(MAGIC) + 3] = 7
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="format version 7; this release reads version 2"):
        InteractionIndex.load(path)


def test_a_version_1_file_is_refused_with_a_request_to_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "old.gz"
    doc = decode(encode({"format": "personalize-interaction-index", "version": 1}), "x")
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    with pytest.raises(DataError, match=r"version 1 .*rebuild"):
        InteractionIndex.load(path)


def test_a_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        InteractionIndex.load(tmp_path / "absent.idx")


def test_saving_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "index.idx"
    path.write_bytes(b"old")
    path.chmod(0o640)
    shop_index().save(path)
    assert InteractionIndex.load(path).items == shop_index().items
    assert [p.name for p in tmp_path.iterdir()] == ["index.idx"]
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_save_that_fills_the_disk_leaves_the_old_index_whole(tmp_path: Path) -> None:
    import resource

    path = tmp_path / "index.idx"
    small = shop_index(max_neighbours=1)
    small.save(path)
    before = path.read_bytes()
    big = shop_index()
    big.save(tmp_path / "big.idx")
    size = (tmp_path / "big.idx").stat().st_size
    (tmp_path / "big.idx").unlink()
    assert size > len(before), "the test needs an index bigger than the saved one"
    limit = (len(before) + size) // 2  # the bigger index does not fit: EFBIG, like a full disk
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        with pytest.raises(OSError, match="too large"):
            big.save(path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert path.read_bytes() == before
    assert InteractionIndex.load(path).items == small.items
    assert [p.name for p in tmp_path.iterdir()] == ["index.idx"]


def test_a_save_that_fails_while_serializing_leaves_the_old_index_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "index.idx"
    shop_index().save(path)
    before = path.read_bytes()
    broken = shop_index()
    broken.stats["unserializable"] = object()
    with pytest.raises(TypeError):
        broken.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["index.idx"]


@pytest.mark.parametrize("claimed", [2**63 - 1, 2**64 - 1, 10**12])
def test_a_header_claiming_more_json_than_the_payload_can_hold_is_refused(
    claimed: int, tmp_path: Path
) -> None:
    """The checksum holds (the header was rewritten with it): the length is still checked."""
    path = tmp_path / "index.idx"
    shop_index().save(path)
    payload = path.read_bytes()[60:]
    fields = struct.pack(">IQQ", 2, len(payload), claimed)
    digest = hashlib.sha256(fields + payload).digest()
    path.write_bytes(MAGIC + fields + digest + payload)
    with pytest.raises(DataError, match=r"more than \d+ payload bytes can hold"):
        InteractionIndex.load(path)

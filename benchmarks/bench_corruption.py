"""What loading a corrupted interaction index raises: counts per kind of corruption.

Two indexes are saved -- the 12-product shop of the ranking tests and a 300-item index from
3,000 random purchases -- and each is corrupted 300 times per kind (seed 8):

* ``file bit flip``: one random bit of the file flipped;
* ``file byte change``: one random byte of the file changed;
* ``truncation``: the file cut at a random point;
* ``payload byte change``: one byte of the decompressed JSON changed and the JSON gzipped
  again in place, so the gzip framing and CRC are valid (only an end-to-end checksum sees it).

Every load should raise ``DataError``; anything else (``zlib.error``, a silent load) is a
defect. Run::

    python benchmarks/bench_corruption.py
"""

from __future__ import annotations

import gzip
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ranking"))

from ranking_helpers import shop_index

from personalize import Event
from personalize.errors import DataError
from personalize.ranking import InteractionIndex

CASES = 300


def random_index() -> InteractionIndex:
    rng = random.Random(1)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    events = [
        Event(
            type="purchase",
            product_id=f"p{rng.randrange(300)}",
            order_id=f"o{i // 3}",
            customer_id=f"c{i // 7}",
            at=now - timedelta(days=rng.random() * 300),
            price=1.0,
        )
        for i in range(3000)
    ]
    return InteractionIndex.build(
        events, customer_country={f"c{i}": "GB" for i in range(0, 500, 2)}
    )


def outcome(path: Path) -> str:
    try:
        InteractionIndex.load(path)
    except DataError:
        return "DataError"
    except Exception as exc:  # counted: anything but DataError is a defect
        return f"{type(exc).__module__}.{type(exc).__name__}"
    return "loaded silently"


def corruptions(raw: bytes, rng: random.Random) -> dict[str, Callable[[], bytes]]:
    start = raw.index(b"\x1f\x8b")  # where the gzip payload begins (after any header)
    payload = gzip.decompress(raw[start:])

    def change(data: bytes) -> bytes:
        changed = bytearray(data)
        at = rng.randrange(len(data))
        changed[at] = (changed[at] + rng.randrange(1, 256)) % 256
        return bytes(changed)

    def flip() -> bytes:
        changed = bytearray(raw)
        changed[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        return bytes(changed)

    return {
        "file bit flip": flip,
        "file byte change": lambda: change(raw),
        "truncation": lambda: raw[: rng.randrange(len(raw))],
        "payload byte change": lambda: raw[:start] + gzip.compress(change(payload), mtime=0),
    }


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    for name, index in (("shop, 12 products", shop_index()), ("300 items", random_index())):
        good, bad = folder / "good.idx", folder / "bad.idx"
        index.save(good)
        raw = good.read_bytes()
        print(f"{name}: {len(raw):,} bytes")
        for kind, corrupt in corruptions(raw, random.Random(8)).items():
            counts: Counter[str] = Counter()
            for _ in range(CASES):
                bad.write_bytes(corrupt())
                counts[outcome(bad)] += 1
            print(f"  {kind:20s} {dict(counts.most_common())}")


if __name__ == "__main__":
    main()

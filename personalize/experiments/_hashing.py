"""Stable hashing and bucket ranges: the arithmetic behind experiment assignment.

Assignment must give the same answer in every process, on every machine and in every
release, so it never touches Python's ``hash()`` (salted per process for strings). It uses
32-bit FNV-1a over the text's UTF-16 code units (JavaScript's ``charCodeAt``: a character
beyond U+FFFF, such as an emoji, is its two surrogates), in the two-round form GrowthBook's
SDKs call hashing version 2, so a visitor lands in the same bucket here and in those SDKs:

    bucket(seed, value) = (fnv1a32(str(fnv1a32(seed + value))) mod 10000) / 10000

The second round spreads out values that differ only in their last characters (``user1``,
``user2`` ...), which plain FNV-1a clusters. Version 1 (``fnv1a32(value + seed) mod 1000``)
is kept for namespaces, where GrowthBook uses it.

A variant owns a half-open range ``[start, end)`` of the unit interval; ranges are laid out
left to right in variant order, each as wide as ``traffic * share`` and starting where the
full-traffic range would start (see :func:`bucket_ranges`). A visitor in no range is not
enrolled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "bucket",
    "bucket_from",
    "bucket_ranges",
    "bucket_shares",
    "choose_variant",
    "fnv1a32",
    "fnv1a32_from",
    "hash_unit",
    "in_range",
]

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MASK = 0xFFFFFFFF
_BMP_MAX = "\uffff"
#: Version-2 buckets are ``k / 10000`` for ``k`` in ``0 .. 9999``.
_BUCKETS = 10000


def fnv1a32(text: str) -> int:
    """The 32-bit FNV-1a hash of ``text``, one step per UTF-16 code unit.

    Args:
        text: Any string; each character contributes ``ord(char)``, or, beyond U+FFFF,
            its two surrogates (as JavaScript's ``charCodeAt`` reads it).

    Returns:
        An unsigned 32-bit integer.
    """
    return fnv1a32_from(_FNV_OFFSET, text)


def fnv1a32_from(state: int, text: str) -> int:
    """Continue an FNV-1a hash from ``state``: ``fnv1a32(a + b) == fnv1a32_from(fnv1a32(a), b)``.

    Lets a compiled experiment hash its seed once, at load.
    """
    h = state
    if text.isascii() or max(text) <= _BMP_MAX:
        for char in text:
            h = ((h ^ ord(char)) * _FNV_PRIME) & _MASK
        return h
    units = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(units), 2):
        h = ((h ^ (units[i] | units[i + 1] << 8)) * _FNV_PRIME) & _MASK
    return h


def bucket_from(seed_state: int, value: str) -> float:
    """:func:`bucket` with the seed already hashed: ``bucket_from(fnv1a32(seed), value)``."""
    return (fnv1a32(str(fnv1a32_from(seed_state, value))) % 10000) / 10000


def bucket(seed: str, value: str) -> float:
    """Where ``value`` falls in the unit interval for an experiment seeded with ``seed``.

    Args:
        seed: The experiment's seed (its key unless configured).
        value: The hash attribute's value (a user or session id).

    Returns:
        A number in ``[0, 1)`` with a resolution of 1/10000; the same inputs always give
        the same number.
    """
    return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000


def hash_unit(seed: str, value: str, version: int) -> float | None:
    """GrowthBook's ``hash(seed, value, version)``: version 1, version 2, else ``None``.

    Args:
        seed: The seed.
        value: The hashed value.
        version: 1 (``fnv1a32(value + seed) mod 1000``) or 2 (:func:`bucket`).

    Returns:
        A number in ``[0, 1)``, or ``None`` for an unknown version.
    """
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    if version == 2:
        return bucket(seed, value)
    return None


def bucket_ranges(shares: Sequence[float], traffic: float = 1.0) -> tuple[tuple[float, float], ...]:
    """The range of the unit interval each variant owns.

    Variant ``i`` owns ``[c_i, c_i + traffic * shares[i])`` where ``c_i`` is the sum of the
    shares before it. Raising ``traffic`` only widens ranges, so nobody enrolled at a lower
    traffic changes variant when traffic ramps up.

    Args:
        shares: Each variant's share of the experiment; they should sum to 1.
        traffic: The enrolled fraction, clamped to ``[0, 1]``.

    Returns:
        One ``(start, end)`` pair per variant.
    """
    traffic = min(max(traffic, 0.0), 1.0)
    ranges = []
    cumulative = 0.0
    for share in shares:
        start = cumulative
        cumulative += share
        ranges.append((start, start + traffic * share))
    return tuple(ranges)


def _buckets_below(x: float) -> int:
    """How many buckets ``k / 10000`` are below ``x`` (as :func:`choose_variant` compares)."""
    k = min(max(math.ceil(x * _BUCKETS), 0), _BUCKETS)
    while k > 0 and (k - 1) / _BUCKETS >= x:
        k -= 1
    while k < _BUCKETS and k / _BUCKETS < x:
        k += 1
    return k


def bucket_shares(ranges: Sequence[tuple[float, float]]) -> tuple[float, ...] | None:
    """Each range's share of the enrolled buckets: the split assignment really makes.

    A range holds a whole number of the 10,000 buckets, so at low traffic the split is not
    quite the weights' (1% traffic over weights 1:2 holds 34 and 66 buckets, not 33.3 and
    66.7): an SRM check against the weights would flag a large experiment that is fine.

    Args:
        ranges: From :func:`bucket_ranges`.

    Returns:
        One share per range, summing to 1; ``None`` when no range holds a bucket.
    """
    counts = [_buckets_below(end) - _buckets_below(start) for start, end in ranges]
    total = sum(counts)
    return tuple(count / total for count in counts) if total else None


def choose_variant(n: float, ranges: Sequence[tuple[float, float]]) -> int:
    """The index of the first range holding ``n`` (``start <= n < end``), or ``-1``."""
    for index, (start, end) in enumerate(ranges):
        if start <= n < end:
            return index
    return -1


def in_range(value: str, namespace: str, start: float, end: float) -> bool:
    """Whether ``value`` falls in ``[start, end)`` of a namespace (version-1 hash of ``__id``).

    Experiments that share a namespace and own disjoint ranges of it never enroll the same
    visitor.
    """
    n = hash_unit("__" + namespace, value, 1)
    return n is not None and start <= n < end

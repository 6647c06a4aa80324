"""Co-occurrence neighbours: cosine top-K over a basket x item matrix, a block at a time.

``X.T @ X`` is computed a block of item rows at a time (SciPy), each row's top K picked by
a partition before anything is sorted, so the cost follows the products and the memory
stays bounded by the block size. Every sum has one defined order, so another engine (the
Spark build) gives the very same bits.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["cells", "neighbours", "neighbours_of", "sorted_with_lines"]

Ints = Any  # a NumPy array of int32 or int64

try:  # SciPy's own sparse product, called without its sizing pass (see _product)
    from scipy.sparse._sparsetools import csr_matmat as _csr_matmat
except ImportError:  # pragma: no cover
    _csr_matmat = None

#: Upper bound on the co-occurrence entries computed at once (one block of item rows).
_BLOCK_ENTRIES = 1_000_000
#: Threads computing blocks at once (the build targets two cores).
_WORKERS = 2


def neighbours(
    basket: Ints, item: Ints, weight: NDArray[np.float64], n_items: int, k: int
) -> tuple[array[int], array[int], array[float]]:
    """Cosine top-K neighbours of weighted (basket, item) lines: :func:`neighbours_of`
    their :func:`cells`."""
    if basket.size == 0 or n_items == 0:
        return array("q", [0] * (n_items + 1)), array("i"), array("f")
    return neighbours_of(cells(basket, item, weight, n_items), n_items, k)


def neighbours_of(
    x: sp.csr_matrix, n_items: int, k: int
) -> tuple[array[int], array[int], array[float]]:
    """Cosine top-K neighbours over a basket x item matrix ``x`` of ``log1p(sum of weights)``.

    Every number has one defined order of summation, so other engines (Spark) can give
    the very same bits: a cell sums its lines in input order; ``X.T @ X`` sums over
    baskets in ascending order; a cosine is ``(d_i * co_ij) * d_j`` with ``d = 1 / norm``.
    Neighbours are ranked by similarity, then by item position (ties included). The
    product is computed a block of item rows at a time, at most ``_BLOCK_ENTRIES``
    products each, so memory stays bounded whatever the catalog; each row's top K is
    selected (:func:`_top_k`) before anything is sorted.
    """
    indptr = array("q", [0])
    indices, data = array("i"), array("f")
    # The diagonal of X.T @ X, summed in ascending basket order like the product itself.
    norms = np.sqrt(np.bincount(x.indices, weights=x.data * x.data, minlength=n_items))
    norms[norms == 0] = 1.0
    inverse = 1.0 / norms
    del norms
    xt = x.T.tocsr()
    xt.sort_indices()
    work = _cumulative_work(xt, np.diff(x.indptr))

    def block(start: int, end: int) -> tuple[NDArray[np.int64], Ints, NDArray[np.float64]]:
        products = int(work[end - 1] - (work[start - 1] if start else 0))
        return _top_k(*_cosine_rows(_product(xt[start:end], x, products), start, inverse), k)

    # Blocks run on _WORKERS threads (SciPy's product and NumPy's large operations let
    # go of the GIL) and are collected in order; at most _WORKERS of them are in flight.
    with ThreadPoolExecutor(_WORKERS) as pool:
        pending: deque[Future[tuple[NDArray[np.int64], Ints, NDArray[np.float64]]]] = deque()
        for start, end in _blocks(work, n_items):
            pending.append(pool.submit(block, start, end))
            while len(pending) >= _WORKERS or (pending and end == n_items):
                counts, cols, vals = pending.popleft().result()
                indices.frombytes(cols.astype(np.int32, copy=False).tobytes())
                data.frombytes(vals.astype(np.float32).tobytes())
                indptr.extend((indptr[-1] + np.cumsum(counts)).tolist())
    return indptr, indices, data


def _blocks(work: NDArray[np.int64], n_items: int) -> Iterator[tuple[int, int]]:
    """Consecutive item ranges ``[start, end)`` of at most ``_BLOCK_ENTRIES`` products
    each (or a single item, when it alone has more)."""
    start = 0
    while start < n_items:
        base = work[start - 1] if start else 0
        end = int(np.searchsorted(work, base + _BLOCK_ENTRIES, side="right"))
        end = min(max(end, start + 1), n_items)
        yield start, end
        start = end


def _product(a: sp.csr_matrix, b: sp.csr_matrix, products: int) -> sp.csr_matrix:
    """``a @ b`` as SciPy computes it, without its first pass that sizes the result: the
    number of ``products`` bounds the entries (fallback: ``a @ b``)."""
    if _csr_matmat is None or a.indices.dtype != b.indices.dtype:  # pragma: no cover
        return a @ b
    kind = a.indices.dtype
    indptr = np.empty(a.shape[0] + 1, dtype=kind)
    indices = np.empty(products, dtype=kind)
    data = np.empty(products)
    left = (a.indptr.astype(kind, copy=False), a.indices, a.data)
    right = (b.indptr.astype(kind, copy=False), b.indices, b.data)
    _csr_matmat(a.shape[0], b.shape[1], *left, *right, indptr, indices, data)
    size = int(indptr[-1])
    return sp.csr_matrix((data[:size], indices[:size], indptr), shape=(a.shape[0], b.shape[1]))


def _cosine_rows(
    co: sp.csr_matrix, start: int, inverse: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
    """Rows ``start``.. of ``X.T @ X`` as cosines: entries per row, their columns (in no
    particular order) and values, the diagonal set to zero (zero is no neighbour)."""
    counts = np.diff(co.indptr).astype(np.int64)
    rows = np.repeat(np.arange(start, start + co.shape[0], dtype=np.int32), counts)
    cols = co.indices
    scaled = co.data  # (d_i * co_ij) * d_j, in place: a product does not depend on order
    scaled *= inverse[rows]
    scaled *= inverse[cols]
    scaled[cols == rows] = 0.0
    return counts, cols, scaled


def _top_k(
    counts: NDArray[np.int64], cols: NDArray[np.int32], vals: NDArray[np.float64], k: int
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
    """Each row's ``k`` best positive entries, by value descending then column ascending.

    Rows are consecutive runs of ``counts`` entries, in any order within a row. A row with
    more than ``k`` entries is first cut at its k-th largest value (a partition, not a
    sort); only the entries at or above the cut are sorted, row by row, and the first
    ``k`` kept, so ties at the cut go to the lower columns.
    """
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    cut = np.zeros(counts.size)
    bounds = offsets.tolist()
    for row in np.flatnonzero(counts > k).tolist():
        values = vals[bounds[row] : bounds[row + 1]]
        cut[row] = np.partition(values, values.size - k)[values.size - k]
    chosen = np.flatnonzero(vals >= np.repeat(cut, counts))
    chosen = chosen[vals[chosen] > 0]
    cols, vals = cols[chosen], vals[chosen]
    counts = np.bincount(np.searchsorted(offsets, chosen, side="right") - 1, minlength=counts.size)
    del chosen
    offsets[1:] = np.cumsum(counts)
    order = np.arange(vals.size, dtype=np.int64)
    for positions, valid in _padded_rows(offsets, counts, np.flatnonzero(counts > 1)):
        gathered = positions[valid]
        by_column = np.where(valid, cols[positions], 0)
        by_value = np.where(valid, -vals[positions], np.inf)  # padding sorts last
        ranked = np.lexsort((by_column, by_value), axis=-1)
        order[gathered] = np.take_along_axis(positions, ranked, axis=-1)[valid]
    kept = np.minimum(counts, k)
    first = (
        np.repeat(offsets[:-1], kept)
        + np.arange(int(kept.sum()))
        - np.repeat(np.cumsum(kept) - kept, kept)
    )
    order = order[first]
    return kept, cols[order], vals[order]


def _padded_rows(
    offsets: NDArray[np.int64], counts: NDArray[np.int64], rows: NDArray[np.int64]
) -> Iterable[tuple[NDArray[np.int64], NDArray[np.bool_]]]:
    """``rows`` as 2-D blocks of their entries' positions, rows of similar length together
    (lengths within a factor of two), each with the mask of its real (not padding) cells."""
    if rows.size == 0:
        return
    band = np.ceil(np.log2(counts[rows])).astype(np.int64)
    for level in np.unique(band).tolist():
        chosen = rows[band == level]
        width = np.arange(int(counts[chosen].max()))
        valid = width < counts[chosen][:, None]
        yield np.where(valid, offsets[chosen][:, None] + width, 0), valid


def cells(basket: Ints, item: Ints, weight: NDArray[np.float64], n_items: int) -> sp.csr_matrix:
    """The basket x item matrix of weighted lines (at least one): ``log1p`` of each cell's
    weights, summed in input order."""
    key, line = sorted_with_lines(basket.astype(np.int64) * n_items + item)
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    weight = weight[line]
    del line
    cell = np.cumsum(first)
    cell -= 1
    sums = np.bincount(cell, weights=weight)
    del cell, weight
    key = key[first]
    del first
    rows = key // n_items
    n_baskets = int(rows[-1]) + 1
    indptr = np.zeros(n_baskets + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_baskets), out=indptr[1:])
    del rows
    cols = (key % n_items).astype(np.int32)
    del key
    return sp.csr_matrix((np.log1p(sums), cols, indptr), shape=(n_baskets, n_items))


def sorted_with_lines(key: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
    """``key`` sorted, and the line (index) each sorted key came from, equal keys in line
    order: a stable argsort, done as a plain sort of key and line packed in one integer
    when both fit in 63 bits (several times faster). ``key``, non-negative, is consumed
    (its memory reused)."""
    if key.size == 0:
        return key, np.zeros(0, dtype=np.intp)
    shift = int(key.size - 1).bit_length()
    if int(key.max()) < 1 << (63 - shift):
        packed = key
        packed <<= shift
        packed |= np.arange(key.size, dtype=np.int64)
        packed.sort()
        line = (packed & ((1 << shift) - 1)).astype(np.intp)
        packed >>= shift
        return packed, line
    line = np.argsort(key, kind="stable")
    return key[line], line


def _cumulative_work(xt: sp.csr_matrix, basket_size: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per item, the products rows up to its own take in ``X.T @ X`` (its baskets' sizes)."""
    running = np.zeros(xt.indices.size + 1, dtype=np.int64)
    np.cumsum(basket_size.astype(np.int32)[xt.indices], out=running[1:])
    return np.asarray(running[xt.indptr[1:]], dtype=np.int64)

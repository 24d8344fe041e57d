"""Exact k-nearest-neighbour search, chunked so that no ``Q × M`` distance matrix is ever held.

One core for every k-NN in the library: the RMIS protocols (cosine distance, :mod:`fisher.eval.rmis`), the detector's
memory banks (Euclidean distance between unit vectors, :mod:`fisher_asd.detector`) and :class:`fisher.search.index.ExactIndex`.

Queries are processed in blocks of ``query_block`` rows and the bank in blocks of ``bank_block`` rows; a running
top-``k`` (distance, index) per query is merged block by block, so memory is ``O(query_block · (bank_block + k))``
whatever the bank size. Neighbours are sorted by (distance, bank index); among rows tied exactly at the k-th
distance, which one is kept is unspecified (the distances, hence every score, are not affected). ``dtype=np.float64`` (default) gives reference
numerics; ``np.float32`` is the large-bank path: the ``q·b`` block products run as float32 GEMMs and, once a query
holds ``k`` candidates, only entries that can beat its current ``k``-th best are looked at (one vectorised threshold
test per block instead of a partition), so it runs near the machine's float32 matmul rate; the ``k`` chosen rows'
distances are then recomputed in float64 from the float32 vectors. Selection uses float32 scores, so at near-ties
(relative gaps ~1e-6) the float32 and float64 paths may keep different rows.

Metrics:

* ``"cosine"`` — ``1 - cos(q, b)`` clipped to [0, 2]; rows are L2-normalised first (an all-zero row has distance 1
  to everything, sklearn semantics).
* ``"l2"`` — ``sqrt(max(0, |q|² + |b|² - 2 q·b))`` on the vectors as given (exact duplicates are at distance 0).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fisher.search.knn32 import search_float32
from fisher.search.vectors import as_matrix, check_k, l2_normalize
from fisher.types import ArrayLike

__all__ = ["METRICS", "as_matrix", "check_k", "knn_search", "l2_normalize"]

METRICS = ("cosine", "l2")
QUERY_BLOCK = 1024
BANK_BLOCK = 8192


def _block_distances(q: np.ndarray, qq: np.ndarray, b: np.ndarray, bb: np.ndarray, metric: str) -> np.ndarray:
    if metric == "cosine":
        return np.clip(1.0 - q @ b.T, 0.0, 2.0)
    return np.sqrt(np.maximum(0.0, qq[:, None] + bb[None, :] - 2.0 * (q @ b.T)))


def knn_search(
    queries: ArrayLike,
    bank: ArrayLike,
    k: int,
    *,
    metric: str = "l2",
    exclude: tuple[np.ndarray, np.ndarray] | None = None,
    dtype: npt.DTypeLike = np.float64,
    query_block: int = QUERY_BLOCK,
    bank_block: int = BANK_BLOCK,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest bank rows of every query.

    Args:
        queries: ``[Q, D]``; bank: ``[M, D]`` with ``M >= k`` visible rows per query.
        metric: ``"l2"`` or ``"cosine"`` (see module docstring).
        exclude: optional ``(query_ids [Q], row_owners [M, P])``: bank row ``j`` is invisible to query ``i`` when
            ``query_ids[i]`` appears in ``row_owners[j]`` (leave-one-out; negative ids never match).
        dtype: compute dtype (``np.float64`` or ``np.float32``).
    Returns:
        ``(distances [Q, k], indices [Q, k])``, ascending distance per query (ties: lower bank index first).
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    k = check_k(k)
    q = as_matrix(queries, "queries", dtype=dtype)
    b = as_matrix(bank, "bank", q.shape[1], dtype=dtype)
    if b.shape[0] < k:
        raise ValueError(f"the memory bank has {b.shape[0]} rows, fewer than k = {k}")
    if exclude is not None:
        qid = np.asarray(exclude[0], dtype=np.int64).reshape(-1)
        owners = np.asarray(exclude[1], dtype=np.int64).reshape(b.shape[0], -1)
        if qid.shape[0] != q.shape[0]:
            raise ValueError(f"exclude has {qid.shape[0]} query ids for {q.shape[0]} queries")
    if q.dtype == np.float32:
        ex = (qid, owners) if exclude is not None else None
        return search_float32(q, b, k, metric=metric, exclude=ex, query_block=query_block, bank_block=bank_block)
    if metric == "cosine":
        q, b = l2_normalize(q), l2_normalize(b)
    qq = np.einsum("ij,ij->i", q, q)
    bb = np.einsum("ij,ij->i", b, b)
    dist = np.empty((q.shape[0], k), dtype=np.float64)
    index = np.empty((q.shape[0], k), dtype=np.int64)
    for qs in range(0, q.shape[0], query_block):
        qe = min(qs + query_block, q.shape[0])
        best_d = np.full((qe - qs, k), np.inf)
        best_i = np.full((qe - qs, k), -1, dtype=np.int64)
        for bs in range(0, b.shape[0], bank_block):
            be = min(bs + bank_block, b.shape[0])
            d = _block_distances(q[qs:qe], qq[qs:qe], b[bs:be], bb[bs:be], metric).astype(np.float64, copy=False)
            if exclude is not None:
                hit = (owners[bs:be][None, :, :] == qid[qs:qe, None, None]).any(axis=2)
                d[hit & (qid[qs:qe, None] >= 0)] = np.inf
            cand_d = np.concatenate([best_d, d], axis=1)
            cand_i = np.concatenate([best_i, np.broadcast_to(np.arange(bs, be), d.shape)], axis=1)
            if cand_d.shape[1] > k:
                part = np.argpartition(cand_d, k - 1, axis=1)[:, :k]
                cand_d = np.take_along_axis(cand_d, part, axis=1)
                cand_i = np.take_along_axis(cand_i, part, axis=1)
            order = np.lexsort((cand_i, cand_d), axis=1)
            best_d = np.take_along_axis(cand_d, order, axis=1)
            best_i = np.take_along_axis(cand_i, order, axis=1)
        if not np.isfinite(best_d).all():
            bad = int((~np.isfinite(best_d).all(axis=1)).sum())
            raise ValueError(
                f"{bad} query(ies) see fewer than k = {k} bank rows after leave-one-out exclusion; "
                "use a smaller k or more training clips"
            )
        dist[qs:qe], index[qs:qe] = best_d, best_i
    return dist, index

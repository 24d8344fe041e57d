"""The float32 path of :func:`fisher.search.knn.knn_search`: exact top-``k`` at close to the float32 matmul rate.

Per (query block, bank block) the only full-size work is the GEMM ``S = q·bᵀ`` (float32, written into a reused
buffer) and one vectorised threshold test on ``S``:

* the ranking key of bank row ``j`` for query ``i`` is ``key = |b_j|² - 2 S_ij`` (``l2``: squared distance minus the
  constant ``|q_i|²``; ``cosine``: the rows are unit-normalised and ``|b_j|²`` is taken as 1, so ``key = 1 - 2 cos``);
* while a query block holds fewer than ``k`` finite candidates per query, slices of :data:`SEED_COLUMNS` columns
  are merged densely (``argpartition``);
* afterwards an entry can only enter the top-``k`` if ``S_ij > (min_j |b_j|² - τ_i) / 2``, with ``τ_i`` the query's
  current ``k``-th key. ``np.flatnonzero`` of that test yields the few survivors (about ``k · ln(M / bank_block)``
  per query over a whole random bank), which are merged with a small ``lexsort``.

The ``k`` rows found are then re-scored in float64 from the float32 vectors (same formulas as the float64 path) and
sorted by (distance, index). Memory: ``O(query_block · bank_block)`` float32, never ``Q × M``.
"""

from __future__ import annotations

import numpy as np

from fisher.search.vectors import l2_normalize

__all__ = ["SEED_COLUMNS", "search_float32"]

SEED_COLUMNS = 1024  # bank columns merged densely (argpartition) before a query's k-th best is known


def _dense_merge(best_k, best_i, key, start):
    """Top-``k`` of the current best and a whole block of keys (unsorted)."""
    k = best_k.shape[1]
    cand_k = np.concatenate([best_k, key], axis=1)
    cand_i = np.concatenate([best_i, np.broadcast_to(np.arange(start, start + key.shape[1]), key.shape)], axis=1)
    part = np.argpartition(cand_k, k - 1, axis=1)[:, :k]
    return np.take_along_axis(cand_k, part, axis=1), np.take_along_axis(cand_i, part, axis=1)


def _sparse_merge(best_k, best_i, tau, rows, keys, ids) -> None:
    """Merge survivor entries ``(rows, keys, ids)`` into the per-query top-``k`` in place."""
    k = best_k.shape[1]
    urows = np.unique(rows)
    rid = np.concatenate([np.repeat(urows, k), rows])
    all_k = np.concatenate([best_k[urows].ravel(), keys])
    all_i = np.concatenate([best_i[urows].ravel(), ids])
    order = np.lexsort((all_i, all_k, rid))
    starts = np.searchsorted(rid[order], urows)
    take = order[(starts[:, None] + np.arange(k)).ravel()]
    best_k[urows] = all_k[take].reshape(-1, k)
    best_i[urows] = all_i[take].reshape(-1, k)
    tau[urows] = best_k[urows, -1]


def _rescore(q: np.ndarray, b: np.ndarray, idx: np.ndarray, metric: str) -> np.ndarray:
    """Float64 distances ``[n, k]`` of queries ``q [n, D]`` to bank rows ``b[idx]``."""
    qv = q.astype(np.float64)
    bv = b[idx.ravel()].astype(np.float64)
    if metric == "cosine":
        qv, bv = l2_normalize(qv), l2_normalize(bv)
        bv = bv.reshape(*idx.shape, -1)
        return np.clip(1.0 - np.einsum("nd,nkd->nk", qv, bv), 0.0, 2.0)
    bv = bv.reshape(*idx.shape, -1)
    qq = np.einsum("nd,nd->n", qv, qv)
    bb = np.einsum("nkd,nkd->nk", bv, bv)
    return np.sqrt(np.maximum(0.0, qq[:, None] + bb - 2.0 * np.einsum("nd,nkd->nk", qv, bv)))


def search_float32(
    q: np.ndarray,
    b: np.ndarray,
    k: int,
    *,
    metric: str,
    exclude: tuple[np.ndarray, np.ndarray] | None,
    query_block: int,
    bank_block: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``(distances float64 [Q, k], indices int64 [Q, k])`` for validated float32 ``q [Q, D]``, ``b [M, D]``."""
    if metric == "cosine":
        qs, bs = l2_normalize(q), l2_normalize(b)
        bnorm = np.ones(b.shape[0], dtype=np.float32)
    else:
        qs, bs = q, b
        bnorm = np.einsum("ij,ij->i", b, b)
    n_q, n_b = q.shape[0], b.shape[0]
    dist = np.empty((n_q, k), dtype=np.float64)
    index = np.empty((n_q, k), dtype=np.int64)
    buf = np.empty((min(query_block, n_q), min(bank_block, n_b)), dtype=np.float32)
    for q0 in range(0, n_q, query_block):
        q1 = min(q0 + query_block, n_q)
        best_k = np.full((q1 - q0, k), np.inf, dtype=np.float32)
        best_i = np.full((q1 - q0, k), -1, dtype=np.int64)
        tau = np.full(q1 - q0, np.inf, dtype=np.float32)
        for b0 in range(0, n_b, bank_block):
            b1 = min(b0 + bank_block, n_b)
            s = buf if buf.shape == (q1 - q0, b1 - b0) else np.empty((q1 - q0, b1 - b0), dtype=np.float32)
            np.matmul(qs[q0:q1], bs[b0:b1].T, out=s)
            if exclude is not None:
                qid, owners = exclude[0][q0:q1], exclude[1][b0:b1]
                hit = (owners[None, :, :] == qid[:, None, None]).any(axis=2) & (qid[:, None] >= 0)
                s[hit] = -np.inf
            c0, width = 0, b1 - b0
            while c0 < width and not np.isfinite(tau).all():  # fill: dense merge of a SEED_COLUMNS-wide slice
                c1 = min(width, c0 + SEED_COLUMNS)
                best_k, best_i = _dense_merge(
                    best_k, best_i, bnorm[b0 + c0 : b0 + c1][None, :] - 2.0 * s[:, c0:c1], b0 + c0
                )
                tau = best_k.max(axis=1)
                c0 = c1
            if c0 == width:
                continue
            rest = s[:, c0:] if c0 else s
            flat = np.flatnonzero(rest > (0.5 * (bnorm[b0 + c0 : b1].min() - tau))[:, None])
            if flat.size == 0:
                continue
            rows, cols = np.divmod(flat, width - c0)
            cols += c0
            keys = bnorm[b0 + cols] - 2.0 * s[rows, cols]
            keep = keys < tau[rows]
            if keep.any():
                _sparse_merge(best_k, best_i, tau, rows[keep], keys[keep], b0 + cols[keep])
        if not np.isfinite(best_k).all():
            bad = int((~np.isfinite(best_k).all(axis=1)).sum())
            raise ValueError(
                f"{bad} query(ies) see fewer than k = {k} bank rows after leave-one-out exclusion; "
                "use a smaller k or more training clips"
            )
        d = _rescore(q[q0:q1], b, best_i, metric)
        order = np.lexsort((best_i, d), axis=1)
        dist[q0:q1] = np.take_along_axis(d, order, axis=1)
        index[q0:q1] = np.take_along_axis(best_i, order, axis=1)
    return dist, index

"""Exact k-nearest-neighbour search under cosine distance, in float64 numpy, chunked over the queries.

Cosine distance = ``1 - cos(a, b)`` clipped to [0, 2] (sklearn ``metric="cosine"`` semantics; an all-zero vector has
distance 1 to everything). Queries are processed in blocks so that a block's distance matrix holds at most
``block_elements`` numbers (default 2**22 = 32 MiB), whatever the bank size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_embeddings", "cosine_knn", "knn_mean_distance", "l2_normalize"]

BLOCK_ELEMENTS = 2**22


def as_embeddings(x: Any, name: str = "embeddings", dim: int | None = None) -> np.ndarray:
    """Return ``x`` as a finite float64 ``[N, D]`` array (a torch tensor is accepted)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a numeric [N, D] array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D [N, D], got shape {arr.shape}")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} has dimension {arr.shape[1]}, expected {dim}")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows divided by their L2 norm (all-zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm == 0, 1.0, norm)


def cosine_knn(
    queries: Any, bank: Any, k: int, *, block_elements: int = BLOCK_ELEMENTS
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest bank rows of every query.

    Args:
        queries: ``[Q, D]``; bank: ``[M, D]`` with ``M >= k``.

    Returns:
        ``(distances [Q, k], indices [Q, k])``, ascending distance per row (equal distances: lower bank index
        first; which of several rows tied at the k-th distance is kept is unspecified).
    """
    q = l2_normalize(as_embeddings(queries, "queries"))
    b = l2_normalize(as_embeddings(bank, "bank", q.shape[1]))
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if b.shape[0] < k:
        raise ValueError(f"the memory bank has {b.shape[0]} rows, fewer than k = {k}")
    dist = np.empty((q.shape[0], k))
    idx = np.empty((q.shape[0], k), dtype=np.int64)
    step = max(1, int(block_elements) // max(1, b.shape[0]))
    for start in range(0, q.shape[0], step):
        d = np.clip(1.0 - q[start : start + step] @ b.T, 0.0, 2.0)
        if k < d.shape[1]:
            part = np.argpartition(d, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(d.shape[1]), d.shape)
        pd = np.take_along_axis(d, part, axis=1)
        order = np.lexsort((part, pd), axis=1)
        dist[start : start + step] = np.take_along_axis(pd, order, axis=1)
        idx[start : start + step] = np.take_along_axis(part, order, axis=1)
    return dist, idx


def knn_mean_distance(queries: Any, bank: Any, k: int = 1, *, block_elements: int = BLOCK_ELEMENTS) -> np.ndarray:
    """Mean of the ``k`` smallest cosine distances of each query to the bank, float64 ``[Q]`` (RMIS raw score)."""
    dist, _ = cosine_knn(queries, bank, k, block_elements=block_elements)
    return dist.mean(axis=1)

"""RMIS k-NN under cosine distance (float64), on the shared exact chunked search of :mod:`fisher.search.knn`.

Cosine distance = ``1 - cos(a, b)`` clipped to [0, 2] (sklearn ``metric="cosine"`` semantics; an all-zero vector has
distance 1 to everything).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fisher.search.knn import as_matrix, knn_search, l2_normalize
from fisher.types import ArrayLike

__all__ = ["as_embeddings", "cosine_knn", "knn_mean_distance", "l2_normalize"]


def as_embeddings(x: ArrayLike, name: str = "embeddings", dim: int | None = None) -> np.ndarray:
    """Return ``x`` as a finite float64 ``[N, D]`` array (a torch tensor is accepted)."""
    return as_matrix(x, name, dim)


def cosine_knn(queries: ArrayLike, bank: ArrayLike, k: int, **blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest bank rows of every query: ``(distances [Q, k], indices [Q, k])``, ascending.

    ``queries`` ``[Q, D]``, ``bank`` ``[M, D]`` with ``M >= k``; ``blocks``: ``query_block`` / ``bank_block``.
    """
    return knn_search(queries, bank, k, metric="cosine", **blocks)


def knn_mean_distance(
    queries: ArrayLike, bank: ArrayLike, k: int = 1, *, index: str | dict[str, Any] = "exact", **blocks: int
) -> np.ndarray:
    """Mean of the ``k`` smallest cosine distances of each query to the bank, float64 ``[Q]`` (RMIS raw score).

    ``index``: search backend spec of :func:`fisher.search.index.index_spec` (``"exact"`` = this module's float64 search).
    """
    if index == "exact":
        return cosine_knn(queries, bank, k, **blocks)[0].mean(axis=1)
    from fisher.search.index import build_index

    return build_index(bank, index, metric="cosine").search(queries, k)[0].mean(axis=1)

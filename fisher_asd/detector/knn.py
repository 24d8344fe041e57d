"""Detector k-NN scoring on unit vectors, on the shared exact chunked search of :mod:`fisher.search.knn`.

Distance: Euclidean distance between L2-normalised vectors (``= sqrt(2 - 2 cos)`` for exact unit vectors,
``asd.md`` §3.5), computed as ``sqrt(max(0, |q|² + |b|² - 2 q·b))`` in float64 from the stored vectors. With the
actual norms an exact duplicate (an oversampled copy) is at distance 0; ``2 - 2 cos`` on float32-rounded unit
vectors would leave ~5e-4 of rounding noise there. The anomaly score of a query is the mean of its ``k`` smallest
distances. Leave-one-out scoring passes ``exclude``: a query never sees the bank rows derived from its own clip.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fisher.search.knn import as_matrix, check_k, knn_search
from fisher.search.knn import l2_normalize as _l2_normalize
from fisher.types import ArrayLike

__all__ = ["as_matrix", "check_k", "knn_distances", "knn_score", "l2_normalize"]


def l2_normalize(x: ArrayLike) -> np.ndarray:
    """Rows of ``x`` divided by their L2 norm, float64 ``[N, D]``; an all-zero row raises ``ValueError``."""
    return _l2_normalize(as_matrix(x), zero="raise")


def knn_distances(
    queries: ArrayLike, bank: ArrayLike, k: int, *, exclude: tuple[np.ndarray, np.ndarray] | None = None, **blocks: int
) -> np.ndarray:
    """The ``k`` smallest distances of every query to the bank, ascending, float64 ``[Q, k]``.

    ``exclude``: optional ``(query_ids [Q], row_owners [M, P])`` for leave-one-out (see :func:`fisher.search.knn.knn_search`).
    """
    return knn_search(queries, bank, k, metric="l2", exclude=exclude, **blocks)[0]


def knn_score(queries: ArrayLike, bank: ArrayLike, k: int, **kwargs: Any) -> np.ndarray:
    """Mean of the ``k`` smallest distances per query, float64 ``[Q]`` (the raw anomaly score)."""
    return knn_distances(queries, bank, k, **kwargs).mean(axis=1)

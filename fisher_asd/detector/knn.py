"""Deprecated location (to be removed in 0.3): the detector's k-NN score lives with the memory bank,
:mod:`fisher_asd.detector.bank` (``knn_score``, ``knn_distances``, ``l2_normalize``)."""

import warnings

from fisher.search.knn import as_matrix, check_k

from .bank import knn_distances, knn_score, l2_normalize

__all__ = ["as_matrix", "check_k", "knn_distances", "knn_score", "l2_normalize"]

warnings.warn(
    "fisher_asd.detector.knn is deprecated: import knn_score / knn_distances / l2_normalize from "
    "fisher_asd.detector.bank",
    DeprecationWarning,
    stacklevel=2,
)

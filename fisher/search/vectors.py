"""Input checks shared by every k-NN and index: ``[N, D]`` matrices, ``k``, row L2 normalisation."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from fisher.types import ArrayLike

__all__ = ["as_matrix", "check_k", "l2_normalize"]


def as_matrix(
    x: ArrayLike, name: str = "embeddings", dim: int | None = None, dtype: npt.DTypeLike = np.float64
) -> np.ndarray:
    """``x`` (numpy, torch or nested lists) as a finite ``[N, D]`` array of ``dtype``."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a numeric [N, D] array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D [N, D], got shape {arr.shape}")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} has dimension {arr.shape[1]}, expected {dim}")
    arr = arr.astype(dtype, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def l2_normalize(x: np.ndarray, *, zero: str = "keep") -> np.ndarray:
    """Rows divided by their L2 norm. All-zero rows stay zero (``zero="keep"``) or raise (``zero="raise"``)."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    if zero == "raise" and (norm == 0).any():
        raise ValueError(f"{int((norm == 0).sum())} embedding(s) are all zero and cannot be L2-normalised")
    return x / np.where(norm == 0, 1.0, norm)


def check_k(k: Any) -> int:
    """``k`` as a positive int (``TypeError`` / ``ValueError`` otherwise)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be a positive int, got {type(k).__name__}: {k!r}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return int(k)

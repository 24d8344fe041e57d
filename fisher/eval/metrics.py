"""Ranking metrics and means used by the DCASE / RMIS evaluations (numpy only).

* :func:`roc_auc` - ROC-AUC with ties counted one half (Mann-Whitney).
* :func:`partial_auc` - pAUC at ``max_fpr`` with McClish standardisation, exactly as the DCASE evaluators report it
  (``sklearn.metrics.roc_auc_score(y, s, max_fpr=0.1)``): random ranking 0.5, perfect 1, perfectly inverted
  ``0.5 * (1 - 0.005 / 0.095) = 0.4737`` at ``max_fpr=0.1``.
* :func:`hmean` / :func:`amean` - harmonic / arithmetic means with the official epsilon floor option.

Labels are 1 (anomaly, positive) and 0 (normal); booleans and the strings ``"anomaly"`` / ``"normal"`` are accepted.
A metric is undefined when a class is missing (or the subset is empty): ``undefined="raise"`` (default) raises
``ValueError``, ``undefined="nan"`` returns NaN.
"""

from __future__ import annotations

import sys

import numpy as np

from fisher.types import ArrayLike

__all__ = ["EPS", "amean", "as_binary_labels", "as_scores", "hmean", "partial_auc", "roc_auc", "roc_curve"]

#: The floor the official DCASE evaluators apply before the harmonic mean (``sys.float_info.epsilon``).
EPS = sys.float_info.epsilon

_LABEL_WORDS = {"anomaly": 1, "normal": 0, "1": 1, "0": 0}


def as_binary_labels(labels: ArrayLike, name: str = "labels") -> np.ndarray:
    """Return ``labels`` as an int8 vector of 0/1 (accepts 0/1, bool or ``"normal"``/``"anomaly"``)."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind in "US" or arr.dtype == object:
        try:
            return np.array([_LABEL_WORDS[str(v).strip().lower()] for v in arr], dtype=np.int8)
        except KeyError as err:
            raise ValueError(f"{name}: unknown label {err.args[0]!r}; use 0/1 or 'normal'/'anomaly'") from None
    if arr.dtype.kind == "b":
        return arr.astype(np.int8)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be 0/1, bool or 'normal'/'anomaly', got dtype {arr.dtype}")
    if arr.size and not np.isin(arr, (0, 1)).all():
        bad = arr[~np.isin(arr, (0, 1))][0]
        raise ValueError(f"{name} must contain only 0 (normal) and 1 (anomaly), found {bad!r}")
    return arr.astype(np.int8)


def as_scores(scores: ArrayLike, n: int | None = None, name: str = "scores") -> np.ndarray:
    """Return ``scores`` as a finite float64 vector (optionally checking its length ``n``)."""
    arr = np.asarray(scores)
    if arr.dtype.kind not in "iuf" and arr.size:
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if n is not None and arr.size != n:
        raise ValueError(f"{name} has {arr.size} entries but labels have {n}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains {int((~np.isfinite(arr)).sum())} NaN or infinite value(s)")
    return arr


def _check(labels: ArrayLike, scores: ArrayLike, undefined: str) -> tuple[np.ndarray, np.ndarray] | None:
    if undefined not in ("raise", "nan"):
        raise ValueError(f"undefined must be 'raise' or 'nan', got {undefined!r}")
    y = as_binary_labels(labels)
    s = as_scores(scores, y.size)
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == y.size:
        if undefined == "nan":
            return None
        what = "no clips" if y.size == 0 else ("no anomalies" if n_pos == 0 else "no normal clips")
        raise ValueError(f"AUC is undefined: the subset has {what} (need both normal and anomalous clips)")
    return y, s


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    trap = getattr(np, "trapezoid", None) or np.trapz  # numpy >= 2 / numpy 1.x
    return float(trap(y, x))


def roc_curve(labels: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """ROC vertices ``(fpr, tpr)`` from (0, 0) to (1, 1), one vertex per distinct score (descending).

    Tied scores form one vertex, so a tied block of normals and anomalies is a diagonal segment. Vertices in the
    middle of a straight run are dropped (as ``sklearn.metrics.roc_curve`` does), which keeps areas bit-identical to
    the official evaluators' numbers.
    """
    checked = _check(labels, scores, "raise")
    assert checked is not None
    y, s = checked
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_block = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), y.size - 1]
    tps = np.cumsum(y_sorted, dtype=np.float64)[last_of_block]
    fps = (last_of_block + 1) - tps
    if tps.size > 2:
        bend = np.logical_or(np.diff(fps, 2) != 0, np.diff(tps, 2) != 0)
        keep = np.r_[True, bend, True]
        tps, fps = tps[keep], fps[keep]
    tpr = np.r_[0.0, tps] / tps[-1]
    fpr = np.r_[0.0, fps] / fps[-1]
    return fpr, tpr


def roc_auc(labels: ArrayLike, scores: ArrayLike, *, undefined: str = "raise") -> float:
    """ROC-AUC of ``scores`` for ``labels`` (anomaly = positive); ties count 1/2 (trapezoid over tied blocks).

    Args:
        labels: ``[N]`` 0/1 (or bool, or "normal"/"anomaly").
        scores: ``[N]`` anomaly scores (higher = more anomalous).
        undefined: ``"raise"`` or ``"nan"`` when one class is missing.
    """
    checked = _check(labels, scores, undefined)
    if checked is None:
        return float("nan")
    fpr, tpr = roc_curve(*checked)
    return _trapezoid(tpr, fpr)


def partial_auc(labels: ArrayLike, scores: ArrayLike, *, max_fpr: float = 0.1, undefined: str = "raise") -> float:
    """McClish-standardised partial AUC on ``FPR in [0, max_fpr]`` (the DCASE "pAUC").

    The raw area ``A`` under the ROC curve (tied blocks as diagonal segments, a vertex added at ``max_fpr`` by linear
    interpolation) is mapped to ``0.5 * (1 + (A - max_fpr**2 / 2) / (max_fpr - max_fpr**2 / 2))``.
    ``max_fpr=1`` returns the full AUC.
    """
    if not 0 < float(max_fpr) <= 1:
        raise ValueError(f"max_fpr must be in (0, 1], got {max_fpr!r}")
    checked = _check(labels, scores, undefined)
    if checked is None:
        return float("nan")
    fpr, tpr = roc_curve(*checked)
    if max_fpr == 1:
        return _trapezoid(tpr, fpr)
    stop = int(np.searchsorted(fpr, max_fpr, side="right"))
    tpr_at = np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1])
    area = _trapezoid(np.r_[tpr[:stop], tpr_at], np.r_[fpr[:stop], max_fpr])
    min_area = 0.5 * max_fpr**2
    return 0.5 * (1.0 + (area - min_area) / (max_fpr - min_area))


def _values(values: ArrayLike) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("cannot average an empty list of values")
    return arr


def amean(values: ArrayLike) -> float:
    """Arithmetic mean of ``values`` (NaN propagates)."""
    return float(np.mean(_values(values)))


def hmean(values: ArrayLike, *, floor: float | None = None) -> float:
    """Harmonic mean of non-negative ``values``.

    Args:
        values: numbers >= 0 (NaN propagates).
        floor: if given, every value is first raised to at least ``floor``; the official DCASE score uses
            ``floor=EPS`` (an AUC of 0 then gives ~1e-16 instead of 0). Without a floor a 0 gives 0.
    """
    arr = _values(values)
    if np.isnan(arr).any():
        return float("nan")
    if (arr < 0).any():
        raise ValueError(f"harmonic mean needs non-negative values, got {arr[arr < 0][0]!r}")
    if floor is not None:
        arr = np.maximum(arr, floor)
    if (arr == 0).any():
        return 0.0
    return float(1.0 / np.mean(1.0 / arr))

"""RMIS fault-diagnosis protocol: similarity-weighted k-NN on frozen embeddings with sealed random splits.

* Classifier: L2-normalised embeddings, the ``k = 5`` nearest train items by cosine similarity; class logit = sum of
  the similarities of that class's neighbours; prediction = argmax (ties -> lowest class index).
* Metric: macro accuracy = unweighted mean over classes of per-class accuracy.
* Sealed split: the split unit is the ``group`` (a recording / channel); groups in order of first appearance are
  shuffled exactly like ``sklearn.model_selection.train_test_split(groups, test_size=t, random_state=seed)`` (legacy
  ``numpy.random.RandomState(seed).permutation``; the test side gets ``ceil(t * n_groups)`` groups). If a class is
  missing on either side the split is redrawn with ``seed + 100`` (repeatedly).
* Runs: ``random_state = 111 + run`` for 10 runs. Score = mean macro accuracy; the RMIS-compatible score rounds every
  run to 0.01 % and the mean to 0.01 %.
* Multi-split-ratio curve: test fractions 0.05 ... 0.95, x = train fraction with anchors (0, 1/#classes) and
  (1, 1); area under the curve by Simpson's rule (or trapezoid) ×100.

Accuracies are in **percent** here (RMIS convention).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fisher.eval.rmis.distances import as_embeddings, cosine_knn
from fisher.types import ArrayLike

__all__ = [
    "FaultResult",
    "fault_diagnosis",
    "knn_classify",
    "knn_logits",
    "macro_accuracy",
    "sealed_split",
    "split_ratio_curve",
]

MAX_REDRAWS = 200


def _encode(
    labels: Sequence[Hashable] | np.ndarray, classes: Sequence[Hashable] | None = None
) -> tuple[np.ndarray, list]:
    labels = list(labels)
    order = list(dict.fromkeys(sorted(labels, key=str))) if classes is None else list(classes)
    index = {c: i for i, c in enumerate(order)}
    unknown = [lab for lab in labels if lab not in index]
    if unknown:
        raise ValueError(f"label {unknown[0]!r} is not among the classes {order}")
    return np.array([index[lab] for lab in labels], dtype=np.int64), order


def knn_logits(train: ArrayLike, train_labels: ArrayLike, test: ArrayLike, *, n_classes: int, k: int = 5) -> np.ndarray:
    """``[Q, n_classes]``: per class, the summed cosine similarity of the test item's ``k`` nearest train items of
    that class (``train_labels`` are indices in ``[0, n_classes)``)."""
    lab = np.asarray(train_labels, dtype=np.int64)
    dist, idx = cosine_knn(test, train, k)
    logits = np.zeros((dist.shape[0], n_classes))
    rows = np.repeat(np.arange(dist.shape[0]), dist.shape[1])
    np.add.at(logits, (rows, lab[idx].ravel()), (1.0 - dist).ravel())
    return logits


def knn_classify(
    train: ArrayLike, train_labels: ArrayLike, test: ArrayLike, *, n_classes: int, k: int = 5
) -> np.ndarray:
    """Predicted class index ``[Q]`` of each test embedding: argmax of :func:`knn_logits` (ties -> lowest index)."""
    return knn_logits(train, train_labels, test, n_classes=n_classes, k=k).argmax(axis=1)


def macro_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Unweighted mean over the classes present in ``y_true`` of the per-class accuracy (fraction)."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape or t.size == 0:
        raise ValueError("y_true and y_pred must be non-empty and of equal length")
    return float(np.mean([np.mean(p[t == c] == c) for c in np.unique(t)]))


def sealed_split(
    groups: Sequence[Hashable] | np.ndarray, labels: Sequence[Hashable] | np.ndarray, *, test_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """``(train_mask, test_mask, seed_used)`` over items; no group is split; every class on both sides."""
    if not 0 < float(test_size) < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    groups, labels = np.asarray(groups, dtype=object), np.asarray(labels)
    unique = list(dict.fromkeys(groups.tolist()))
    n = len(unique)
    n_test = math.ceil(float(test_size) * n)
    if n_test >= n:
        raise ValueError(f"test_size {test_size} leaves no train group out of {n}")
    gid = _index(groups, unique)
    classes = np.unique(labels)
    for attempt in range(MAX_REDRAWS):
        s = int(seed) + 100 * attempt
        perm = np.random.RandomState(s).permutation(n)
        test = np.isin(gid, perm[:n_test])
        if len(np.unique(labels[test])) == len(classes) == len(np.unique(labels[~test])):
            return ~test, test, s
    raise ValueError(f"no split with every class on both sides after {MAX_REDRAWS} draws (too few groups per class?)")


def _index(groups: np.ndarray, unique: list) -> np.ndarray:
    pos = {g: i for i, g in enumerate(unique)}
    return np.array([pos[g] for g in groups])


@dataclass
class FaultResult:
    """``accuracy``: macro accuracy per run (percent); ``seeds``: random states used; ``score``: mean (percent);
    ``rmis_score``: RMIS rounding (each run and the mean to 0.01); ``classes``: class order."""

    accuracy: np.ndarray
    seeds: list[int]
    score: float
    rmis_score: float
    classes: list


def _check_groups(groups: np.ndarray, y: np.ndarray) -> None:
    per_group: dict[Any, int] = {}
    for g, c in zip(groups.tolist(), y.tolist()):
        if per_group.setdefault(g, c) != c:
            raise ValueError(f"group {g!r} holds items of different classes; a group must have one label")
    counts = np.bincount(np.array(list(per_group.values())))
    if (counts[np.unique(y)] < 2).any():
        raise ValueError("every class needs at least 2 groups (one for train, one for test)")


def fault_diagnosis(
    embeddings: ArrayLike,
    labels: Sequence[Hashable] | np.ndarray,
    groups: Sequence[Hashable] | np.ndarray,
    *,
    test_size: float = 0.5,
    runs: int = 10,
    seed: int = 111,
    k: int = 5,
    classes: Sequence[Hashable] | None = None,
) -> FaultResult:
    """Run the sealed-split k-NN protocol. ``embeddings [N, D]``, ``labels`` / ``groups`` of length ``N``;
    ``classes`` fixes the class order (ties break to the lower index; default: sorted labels)."""
    emb = as_embeddings(embeddings)
    y, order = _encode(labels, classes)
    grp = np.asarray(list(groups), dtype=object)
    if y.size != emb.shape[0] or grp.size != emb.shape[0]:
        raise ValueError("embeddings, labels and groups must have the same length")
    _check_groups(grp, y)
    accs, seeds = [], []
    for run in range(int(runs)):
        train, test, used = sealed_split(grp, y, test_size=test_size, seed=seed + run)
        pred = knn_classify(emb[train], y[train], emb[test], n_classes=len(order), k=k)
        accs.append(100.0 * macro_accuracy(y[test], pred))
        seeds.append(used)
    acc = np.array(accs)
    rmis = float(np.round(np.mean(np.round(acc, 2)), 2))
    return FaultResult(acc, seeds, float(acc.mean()), rmis, order)


def split_ratio_curve(
    embeddings: ArrayLike,
    labels: Sequence[Hashable] | np.ndarray,
    groups: Sequence[Hashable] | np.ndarray,
    *,
    test_sizes: Sequence[float] | None = None,
    runs: int = 10,
    seed: int = 111,
    k: int = 5,
    classes: Sequence[Hashable] | None = None,
    method: str = "simpson",
    rounding: bool = False,
) -> dict[str, Any]:
    """Mean macro accuracy per train fraction and the area under that curve (percent).

    Returns:
        ``{"train_fraction": [..], "accuracy": [..] (percent), "area": float}``; x includes the anchors 0 and 1.
    """
    if method not in ("simpson", "trapezoid"):
        raise ValueError(f"method must be 'simpson' or 'trapezoid', got {method!r}")
    sizes = np.round(np.arange(0.05, 0.951, 0.05), 2) if test_sizes is None else np.asarray(test_sizes, float)
    y_lab = list(labels)
    n_classes = len(classes) if classes is not None else len(set(y_lab))
    points = []
    for t in sizes:
        res = fault_diagnosis(embeddings, y_lab, groups, test_size=float(t), runs=runs, seed=seed, k=k, classes=classes)
        acc = float(np.round(np.mean(np.round(res.accuracy, 2)), 2)) if rounding else res.score
        points.append((1.0 - float(t), acc))
    points.sort()
    x = np.array([0.0] + [p[0] for p in points] + [1.0])
    yv = np.array([100.0 / n_classes] + [p[1] for p in points] + [100.0]) / 100.0
    from scipy.integrate import simpson, trapezoid

    area = (simpson(yv, x=x) if method == "simpson" else trapezoid(yv, x=x)) * 100.0
    return {"train_fraction": x.tolist(), "accuracy": (yv * 100).tolist(), "area": float(area)}

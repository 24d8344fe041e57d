"""Rank normalisation of anomaly scores: transductive (over the test clips, as published) and inductive.

Transductive (``rank_normalize``)
    Within each group (e.g. one (machine, domain)), score ``s_i`` becomes ``r_i / (n - 1)`` with ``r_i`` its 0-based
    rank among the ``n`` scores of the group: 0 for the lowest, 1 for the highest. Ties: ``"average"`` (default)
    gives tied scores the mean of their ranks, so ties stay ties and the AUC within the group is unchanged;
    ``"ordinal"`` breaks ties by position (first seen = lower rank). A group of one clip gets 0.5.

Inductive (``ecdf_rank``)
    A clip is ranked against a fixed reference set — the leave-one-out scores of the training clips — with the
    mid-distribution function ``(#{ref < s} + 0.5 · #{ref == s}) / n_ref``, in [0, 1]. It needs no other test clip,
    so a single clip can be scored online and gives the same value alone and in a batch. Clips above every
    training score all map to 1.0 (the scale saturates; the raw distance breaks no ties).

For a training clip, ranking its leave-one-out score against the *other* training clips with the inductive formula
equals the transductive average rank over the training set, so both modes define training scores the same way.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from fisher.types import ArrayLike

__all__ = ["TIES", "ecdf_rank", "group_ids", "rank_normalize"]

TIES = ("average", "ordinal")


def _scores(x: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def group_ids(groups: Sequence[Hashable] | np.ndarray | None, n: int) -> np.ndarray:
    """Integer group index per item (``None`` = one group); groups may be any hashable labels."""
    if groups is None:
        return np.zeros(n, dtype=np.int64)
    labels = list(groups)
    if len(labels) != n:
        raise ValueError(f"groups has {len(labels)} entries for {n} scores")
    index: dict[Any, int] = {}
    return np.array([index.setdefault(g, len(index)) for g in labels], dtype=np.int64)


def _ranks(s: np.ndarray, ties: str) -> np.ndarray:
    """0-based ranks of ``s``."""
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size)
    ranks[order] = np.arange(s.size, dtype=np.float64)
    if ties == "ordinal":
        return ranks
    sorted_s = s[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s) != 0) + 1]
    ends = np.r_[starts[1:], s.size]
    mean_rank = (starts + ends - 1) / 2.0
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def rank_normalize(
    scores: ArrayLike, groups: Sequence[Hashable] | np.ndarray | None = None, *, ties: str = "average"
) -> np.ndarray:
    """Transductive rank normalisation to [0, 1] within each group, float64 ``[N]``.

    Args:
        scores: ``[N]`` raw anomaly scores.
        groups: optional ``[N]`` group labels (e.g. ``"fan/source"``); ``None`` normalises over all scores.
        ties: ``"average"`` or ``"ordinal"``.
    """
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    s = _scores(scores, "scores")
    gid = group_ids(groups, s.size)
    out = np.empty(s.size)
    for g in np.unique(gid):
        members = np.flatnonzero(gid == g)
        if members.size == 1:
            out[members] = 0.5
        else:
            out[members] = _ranks(s[members], ties) / (members.size - 1)
    return out


def ecdf_rank(scores: ArrayLike, reference: ArrayLike) -> np.ndarray:
    """Inductive rank of each score against ``reference``: ``(#less + 0.5 · #equal) / len(reference)``.

    Args:
        scores: ``[N]`` raw scores of the clips to normalise.
        reference: ``[R]`` raw reference scores (``R >= 1``), e.g. leave-one-out training scores.
    """
    s = _scores(scores, "scores")
    ref = np.sort(_scores(reference, "reference"))
    if ref.size == 0:
        raise ValueError("the reference set is empty: an inductive rank needs at least one training score")
    less = np.searchsorted(ref, s, side="left")
    equal = np.searchsorted(ref, s, side="right") - less
    return (less + 0.5 * equal) / ref.size

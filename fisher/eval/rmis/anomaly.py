"""RMIS k-NN anomaly-detection protocol: one embedding per clip -> one anomaly score per test clip.

For every (subset, machine, section) separately:

1. Memory bank(s) from that section's **train** clips only. 2020 / 2021: one bank of all its train clips.
   2022+: a source bank (train clips of domain source) and a target bank (domain target).
2. Raw score of a test clip vs a bank = mean of its ``k`` smallest cosine distances (RMIS ships ``k = 1``).
3. ``normalize=True`` (RMIS default): z-score every raw-score vector over the section's **test** clips (all domains
   and labels; mean and population std, ddof 0). This uses test statistics (transductive) and is monotone within a
   section. A constant vector (std 0) maps to zeros.
4. 2022+: final score = element-wise minimum of the (z-scored) source and target scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fisher.eval.dcase.metrics import as_domains
from fisher.eval.dcase.names import check_year
from fisher.eval.rmis.distances import as_embeddings, knn_mean_distance
from fisher.search.index import index_spec
from fisher.types import ArrayLike

__all__ = ["anomaly_scores", "zscore"]


def zscore(x: np.ndarray) -> np.ndarray:
    """``(x - mean) / std`` with the population std (ddof 0); zeros if the std is 0."""
    x = np.asarray(x, dtype=np.float64)
    std = x.std()
    return np.zeros_like(x) if std == 0 else (x - x.mean()) / std


def _column(values: Any, n: int, name: str) -> np.ndarray:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a sequence with one entry per embedding row, not a string")
    arr = np.asarray(values, dtype=object)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have one entry per embedding row ({n}), got shape {arr.shape}")
    return arr


def _splits(split: Sequence[str] | np.ndarray, n: int) -> np.ndarray:
    low = np.array([str(s).strip().lower() for s in _column(split, n, "split")])
    bad = ~np.isin(low, ("train", "test"))
    if bad.any():
        raise ValueError(f"split must be 'train' or 'test', got {low[bad][0]!r}")
    return low == "test"


def anomaly_scores(
    embeddings: ArrayLike,
    *,
    subset: Sequence[str] | np.ndarray,
    machine: Sequence[str] | np.ndarray,
    section: Sequence[int | str] | np.ndarray,
    split: Sequence[str] | np.ndarray,
    domain: Sequence[str] | ArrayLike,
    year: int,
    k: int = 1,
    normalize: bool = True,
    index: str | dict[str, Any] = "exact",
) -> dict[str, np.ndarray]:
    """Score every test clip with the RMIS k-NN protocol of ``year``.

    Args:
        embeddings: ``[N, D]`` one embedding per clip (train and test clips together).
        subset: ``[N]`` subset names (e.g. "dev" / "eval"); banks never mix subsets.
        machine: ``[N]`` machine types.
        section: ``[N]`` section numbers.
        split: ``[N]`` "train" / "test".
        domain: ``[N]`` "source" / "target" (or 0/1); ignored in 2020; may be None for test rows.
        year: DCASE year 2020-2026 (selects one joint bank or source/target banks with a minimum).
        k: neighbours averaged per bank.
        normalize: z-score each score vector over the section's test clips.
        index: k-NN backend of every bank (:func:`fisher.search.index.index_spec`: ``"exact"`` float64 by default,
            ``"faiss-flat"`` / ``"faiss-ivf"`` / ``"faiss-hnsw"`` with the ``[scale]`` extra, or a dict with options).

    Returns:
        ``{"score": [N]}`` plus ``"score_source"``, ``"score_target"`` for 2022+ (the two per-bank scores whose
        minimum is ``"score"``), float64, NaN on train rows.
    """
    year = check_year(year)
    index_spec(index)
    emb = as_embeddings(embeddings)
    n = emb.shape[0]
    keys = list(zip(_column(subset, n, "subset"), _column(machine, n, "machine"), _column(section, n, "section")))
    is_test = _splits(split, n)
    target = np.zeros(n, dtype=bool)
    if year != 2020:  # only train rows need a domain (anonymised test clips may give None)
        dom = _column(domain, n, "domain")
        target[~is_test] = as_domains(dom[~is_test], int((~is_test).sum()))
    split_banks = year >= 2022
    out = {"score": np.full(n, np.nan)}
    if split_banks:
        out["score_source"] = np.full(n, np.nan)
        out["score_target"] = np.full(n, np.nan)
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault((str(key[0]), str(key[1]), _section_int(key[2])), []).append(i)
    for (sub, mach, sec), rows in groups.items():
        rows_a = np.array(rows)
        test = rows_a[is_test[rows_a]]
        train = rows_a[~is_test[rows_a]]
        if test.size == 0:
            continue
        where = f"subset {sub!r} machine {mach!r} section {sec:02d}"
        banks = (
            {"score": train}
            if not split_banks
            else {
                "score_source": train[~target[train]],
                "score_target": train[target[train]],
            }
        )
        for name, bank in banks.items():
            if bank.size == 0:
                what = "train clips" if name == "score" else f"{name[6:]}-domain train clips"
                raise ValueError(f"{where}: no {what} to build the memory bank")
            if bank.size < k:
                raise ValueError(f"{where}: {name} bank has {bank.size} clips, fewer than k = {k}")
            raw = knn_mean_distance(emb[test], emb[bank], k, index=index)
            out[name][test] = zscore(raw) if normalize else raw
        if split_banks:
            out["score"][test] = np.minimum(out["score_source"][test], out["score_target"][test])
    return out


def _section_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"section must be an integer, got {value!r}") from None

"""RMIS scores: the per-dataset DCASE score (dev/eval combination) and the overall RMIS number.

All values here are in **percent** (RMIS convention), unlike :mod:`fisher.eval.dcase` (fractions).

Per-dataset DCASE score (RMIS ``cal_aucs``), from per-section metrics ×100:

* 2020: per section mean(AUC, pAUC); per machine arithmetic mean over its sections; subset = arithmetic mean over
  machines; dataset = **arithmetic** mean of dev and eval.
* 2021 / 2022: per section harmonic mean of its values; per machine harmonic mean over sections; subset = harmonic
  mean over machines; dataset = **harmonic** mean of dev and eval.
* 2023-2025 (and 2026, by extension): subset = harmonic mean over all machine-section rows of the per-row harmonic
  mean; dataset = harmonic mean of dev and eval.

No epsilon floor (a 0 makes a harmonic mean 0; NaN propagates). ``rounding=True`` reproduces RMIS bit for bit: every
table is rounded to 0.01 (numpy half-to-even) once computed, the 2020-2022 subset value is taken over the rounded
per-machine values, the 2023+ subset values are rounded before the dev/eval mean, and the result is rounded to 0.01.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fisher.eval.dcase.metrics import DcaseResult
from fisher.types import ArrayLike

__all__ = ["dcase_dataset_score", "dcase_subset_score", "rmis_overall", "rmis_table"]


def _hm(values: ArrayLike) -> float:
    v = np.asarray(values, dtype=np.float64)
    if np.isnan(v).any():
        return float("nan")
    if (v == 0).any():
        return 0.0
    return float(1.0 / np.mean(1.0 / v))


def _am(values: ArrayLike) -> float:
    return float(np.mean(np.asarray(values, dtype=np.float64)))


def _round(x: ArrayLike | float, rounding: bool) -> np.ndarray:
    return np.round(np.asarray(x, dtype=np.float64), 2) if rounding else np.asarray(x, dtype=np.float64)


def _rows(result: DcaseResult, rows: list[dict[str, Any]]) -> np.ndarray:
    """``[n, k+1]`` table: the metrics ×100 and the per-row combination (mean for 2020, hmean otherwise)."""
    comb = _am if result.year == 2020 else _hm
    out = []
    for row in rows:
        values = [100.0 * float(row[k]) for k in result.metrics]
        out.append(values + [comb(values)])
    return np.array(out, dtype=np.float64)


def _with_summary(result: DcaseResult, table: np.ndarray) -> np.ndarray:
    comb = _am if result.year == 2020 else _hm
    return np.vstack([table, [comb(col) for col in table.T]])


def rmis_table(result: DcaseResult, *, rounding: bool = True) -> Any:
    """RMIS's ``cal_aucs`` table of one subset (percent).

    2020-2022: ``{machine: [[metrics..., combined] per section..., [column summary]]}``; 2023+: ``[[auc_s, auc_t,
    pauc, hmean] per machine-section..., [column hmeans]]``. Sections / machines follow ``result.per_section`` order.
    """
    if result.year <= 2022:
        machines: dict[str, list[dict[str, Any]]] = {}
        for row in result.per_section:
            machines.setdefault(row["machine"], []).append(row)
        return {
            m: _round(_with_summary(result, _rows(result, rows)), rounding).tolist() for m, rows in machines.items()
        }
    return _round(_with_summary(result, _rows(result, result.per_section)), rounding).tolist()


def dcase_subset_score(result: DcaseResult, *, rounding: bool = False) -> float:
    """RMIS score of one subset (percent). Without rounding it equals 100 × the official score for 2021+ whenever
    every machine has the same number of sections (no epsilon floor)."""
    table = rmis_table(result, rounding=rounding)
    if result.year <= 2022:
        per_machine = [rows[-1][-1] for rows in table.values()]
        return _am(per_machine) if result.year == 2020 else _hm(per_machine)
    return float(table[-1][-1])


def dcase_dataset_score(dev: DcaseResult, eval: DcaseResult | None = None, *, rounding: bool = False) -> float:
    """RMIS per-dataset score (percent) from the dev and eval subset results of the same year.

    Dev and eval are combined by the arithmetic (2020) or harmonic (2021+) mean **of the two subset scores**. With
    ``eval=None`` the dev subset score alone is returned (still rounded if ``rounding``).
    """
    if not isinstance(dev, DcaseResult) or (eval is not None and not isinstance(eval, DcaseResult)):
        raise TypeError("dev and eval must be DcaseResult objects (see fisher.eval.dcase.evaluate)")
    if eval is not None and eval.year != dev.year:
        raise ValueError(f"dev ({dev.year}) and eval ({eval.year}) results are from different years")
    subsets = [dcase_subset_score(r, rounding=rounding) for r in (dev, eval) if r is not None]
    final = _am(subsets) if dev.year == 2020 else _hm(subsets)
    return float(np.round(final, 2)) if rounding else final


def rmis_overall(ad: dict[str, float], fd: dict[str, float]) -> dict[str, float]:
    """Overall RMIS numbers (percent): ``{"ad": mean of AD dataset scores, "fd": mean of FD dataset scores,
    "rmis": (ad + fd) / 2}``. The benchmark uses the six DCASE datasets and 13 fault-diagnosis datasets."""
    if not ad or not fd:
        raise ValueError("rmis_overall needs at least one anomaly-detection and one fault-diagnosis dataset score")
    a, f = _am(list(ad.values())), _am(list(fd.values()))
    return {"ad": a, "fd": f, "rmis": (a + f) / 2.0}

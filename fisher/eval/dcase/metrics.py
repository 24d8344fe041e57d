"""Per-section DCASE Task 2 metrics with each year's domain convention, and the official aggregates.

Which clips enter which metric (anomaly = positive, pAUC = McClish at ``max_fpr``):

======  ==========================================================  =================================================
year    metrics per (machine, section)                               official score
======  ==========================================================  =================================================
2020    ``auc``, ``pauc`` on all clips                               none (the evaluator only averages per machine)
2021    ``auc_source``, ``pauc_source``, ``auc_target``,             harmonic mean of the pooled 4 values per section
        ``pauc_target`` - each on that domain's clips only
2022+   ``auc_source`` / ``auc_target``: that domain's normals +     harmonic mean of the pooled 3 values per section
        **all** anomalies of the section; ``pauc`` on all clips
======  ==========================================================  =================================================

Every value is floored at machine epsilon before a harmonic mean (as the official evaluators do), so an AUC of 0 gives a
score of ~1e-16 rather than 0. ``macro3`` (DCASE 2026 Task 2 technical report, 2022+ metric set): per machine the
arithmetic mean over its sections, then the arithmetic mean over machines of each metric, then the mean of the three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fisher.eval.dcase.names import DOMAINS, check_year
from fisher.eval.metrics import EPS, amean, as_binary_labels, as_scores, hmean, partial_auc, roc_auc
from fisher.types import ArrayLike

__all__ = ["DcaseResult", "as_domains", "evaluate", "metric_names", "section_metrics"]


_SUBSET_TEXT = {
    (False, "auc"): "all clips",
    (False, "pauc"): "all clips",
    (False, "auc_source"): "source clips",
    (False, "pauc_source"): "source clips",
    (False, "auc_target"): "target clips",
    (False, "pauc_target"): "target clips",
    (True, "auc_source"): "source normals + all anomalies",
    (True, "auc_target"): "target normals + all anomalies",
    (True, "pauc"): "all clips",
}


def metric_names(year: int) -> tuple[str, ...]:
    """The per-section metric keys of ``year`` (in the official order)."""
    year = check_year(year)
    if year == 2020:
        return ("auc", "pauc")
    if year == 2021:
        return ("auc_source", "pauc_source", "auc_target", "pauc_target")
    return ("auc_source", "auc_target", "pauc")


def as_domains(domains: Sequence[str] | ArrayLike, n: int) -> np.ndarray:
    """Return a bool vector (True = target) from "source"/"target" strings or 0/1 values."""
    arr = np.asarray(domains, dtype=object)
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"domains must be 1-D with {n} entries, got shape {arr.shape}")
    out = np.zeros(n, dtype=bool)
    for i, d in enumerate(arr):
        word = d.strip().lower() if isinstance(d, str) else {0: "source", 1: "target"}.get(d) if _is_int(d) else None
        if word not in DOMAINS:
            raise ValueError(f"unknown domain {d!r}; use 'source'/'target' or 0/1")
        out[i] = word == "target"
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer, bool, np.bool_)) or (isinstance(value, float) and value.is_integer())


def section_metrics(
    labels: ArrayLike,
    scores: ArrayLike,
    domains: Sequence[str] | ArrayLike | None = None,
    *,
    year: int,
    max_fpr: float = 0.1,
    undefined: str = "raise",
) -> dict[str, float]:
    """Metrics of one (machine, section) of ``year``.

    Args:
        labels: ``[N]`` 0/1 or "normal"/"anomaly".
        scores: ``[N]`` anomaly scores.
        domains: ``[N]`` "source"/"target" or 0/1 (required for 2021+; ignored for 2020).
        undefined: ``"raise"`` (a clear ``ValueError`` naming the metric) or ``"nan"``.

    Returns:
        ``{metric: value}`` with the keys of :func:`metric_names` (fractions in [0, 1]).
    """
    year = check_year(year)
    y = as_binary_labels(labels)
    s = as_scores(scores, y.size)
    if year == 2020:
        subsets = {"auc": ("auc", None), "pauc": ("pauc", None)}
    else:
        if domains is None:
            raise ValueError(f"{year} metrics need the domain (source/target) of every clip")
        tgt = as_domains(domains, y.size)
        if year == 2021:
            subsets = {
                "auc_source": ("auc", ~tgt),
                "pauc_source": ("pauc", ~tgt),
                "auc_target": ("auc", tgt),
                "pauc_target": ("pauc", tgt),
            }
        else:
            anom = y == 1
            subsets = {"auc_source": ("auc", ~tgt | anom), "auc_target": ("auc", tgt | anom), "pauc": ("pauc", None)}
    out = {}
    for key, (kind, mask) in subsets.items():
        yy, ss = (y, s) if mask is None else (y[mask], s[mask])
        try:
            if kind == "auc":
                out[key] = roc_auc(yy, ss, undefined=undefined)
            else:
                out[key] = partial_auc(yy, ss, max_fpr=max_fpr, undefined=undefined)
        except ValueError as err:
            raise ValueError(f"{key} ({year} convention: {_SUBSET_TEXT[year >= 2022, key]}): {err}") from None
    return out


@dataclass
class DcaseResult:
    """Evaluation of one subset (dev or eval) of one DCASE year. All values are fractions in [0, 1].

    Attributes:
        year: DCASE year.
        per_section: one dict per (machine, section): ``machine``, ``section`` and the :func:`metric_names` keys.
        official_score: harmonic mean (epsilon floor) of all per-section values pooled; ``None`` for 2020.
        hmean / amean: per metric, harmonic (epsilon floor) / arithmetic mean over all machine-sections.
        macro3: MEF report macro(3) for 2022+; ``None`` for 2020 / 2021.
        per_machine: per machine type, the arithmetic mean over its sections of each metric.
    """

    year: int
    per_section: list[dict[str, Any]]
    official_score: float | None
    hmean: dict[str, float]
    amean: dict[str, float]
    macro3: float | None
    per_machine: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def metrics(self) -> tuple[str, ...]:
        return metric_names(self.year)

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout of ``fisher dcase-eval --json``."""
        return {
            "year": self.year,
            "per_section": [dict(row) for row in self.per_section],
            "official_score": self.official_score,
            "hmean": dict(self.hmean),
            "amean": dict(self.amean),
            "macro3": self.macro3,
        }


def aggregate(per_section: list[dict[str, Any]], year: int) -> DcaseResult:
    """Build a :class:`DcaseResult` from per-section metric rows (see :class:`DcaseResult`)."""
    year = check_year(year)
    names = metric_names(year)
    if not per_section:
        raise ValueError("no sections to aggregate")
    columns = {k: np.array([row[k] for row in per_section], dtype=np.float64) for k in names}
    official = None if year == 2020 else hmean(np.concatenate([columns[k] for k in names]), floor=EPS)
    machines: dict[str, list[dict[str, Any]]] = {}
    for row in per_section:
        machines.setdefault(row["machine"], []).append(row)
    per_machine = {m: {k: amean([r[k] for r in rows]) for k in names} for m, rows in machines.items()}
    macro3 = None
    if year >= 2022:
        macro3 = amean([amean([pm[k] for pm in per_machine.values()]) for k in names])
    return DcaseResult(
        year=year,
        per_section=per_section,
        official_score=official,
        hmean={k: hmean(columns[k], floor=EPS) for k in names},
        amean={k: amean(columns[k]) for k in names},
        macro3=macro3,
        per_machine=per_machine,
    )


def evaluate(
    machine: Sequence[str] | np.ndarray,
    section: Sequence[int | str] | np.ndarray,
    label: ArrayLike,
    score: ArrayLike,
    domain: Sequence[str] | ArrayLike | None = None,
    *,
    year: int,
    max_fpr: float = 0.1,
    undefined: str = "raise",
) -> DcaseResult:
    """Evaluate the test clips of one subset: columns of equal length ``N``, one entry per clip.

    Args:
        machine: ``[N]`` machine type names.
        section: ``[N]`` section (2020: machine ID) numbers.
        label: ``[N]`` 0/1 or "normal"/"anomaly".
        score: ``[N]`` anomaly scores.
        domain: ``[N]`` "source"/"target" or 0/1 (required for 2021+).
        undefined: ``"raise"`` or ``"nan"`` for metrics with a missing class (NaN then propagates to the means).
    """
    year = check_year(year)
    y = as_binary_labels(label, "label")
    n = y.size
    s = as_scores(score, n, "score")
    mach = np.asarray(machine, dtype=object)
    sec = np.asarray(section)
    if mach.shape != (n,) or sec.shape != (n,):
        raise ValueError(f"machine and section must be 1-D with {n} entries like label")
    try:
        sec = sec.astype(np.int64)
    except (TypeError, ValueError):
        raise ValueError("section must contain integers") from None
    if year != 2020 and domain is None:
        raise ValueError(f"{year} evaluation needs the domain (source/target) of every clip")
    dom = None if year == 2020 else as_domains(domain, n)
    keys = sorted({(str(m), int(c)) for m, c in zip(mach, sec)}, key=lambda k: (k[0].lower(), k[0], k[1]))
    rows = []
    for m, c in keys:
        mask = (mach == m) & (sec == c)
        try:
            metrics = section_metrics(
                y[mask], s[mask], None if dom is None else dom[mask], year=year, max_fpr=max_fpr, undefined=undefined
            )
        except ValueError as err:
            raise ValueError(f"machine {m!r} section {c:02d}: {err}") from None
        rows.append({"machine": m, "section": c, **metrics})
    return aggregate(rows, year)

"""End-to-end RMIS runs: embed a dataset with an encoder, apply the protocol, return a report.

* :func:`run_anomaly_detection` - DCASE folders (dev and / or eval) -> k-NN anomaly scores -> per-section metrics,
  the official score per subset and the RMIS dataset score.
* :func:`run_fault_diagnosis` - a labelled-signal manifest -> sealed-split k-NN macro accuracy (+ split-ratio curve).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fisher.eval.datasets.manifest import SignalItem
from fisher.eval.dcase.layout import DcaseClip, scan_dcase
from fisher.eval.dcase.metrics import DcaseResult, evaluate
from fisher.eval.dcase.names import check_year
from fisher.eval.dcase.scores import write_score_files
from fisher.eval.encoders import resolve_encoder
from fisher.eval.rmis.anomaly import anomaly_scores
from fisher.eval.rmis.embed import embed_files
from fisher.eval.rmis.fault import FaultResult, fault_diagnosis, split_ratio_curve
from fisher.eval.rmis.score import dcase_dataset_score

if TYPE_CHECKING:
    from fisher.eval.encoders import Encoder
    from fisher.model.network import Fisher
    from fisher.signals.reader import ChannelId

__all__ = ["AdReport", "FdReport", "run_anomaly_detection", "run_fault_diagnosis"]


@dataclass(frozen=True)
class _Source:
    path: Path
    channel: ChannelId | None = 0
    sr: float | None = None


def _encoder_name(encoder: Encoder) -> str:
    return str(getattr(encoder, "name", type(encoder).__name__))


@dataclass
class AdReport:
    """Anomaly-detection run: ``results`` per subset (``None`` if labels are unknown), ``scores`` per test clip,
    ``dataset_score`` (RMIS, percent, full precision) and ``rmis_score`` (RMIS-rounded) when every subset has labels."""

    year: int
    encoder: str
    clips: list[DcaseClip]
    scores: np.ndarray
    results: dict[str, DcaseResult | None]
    dataset_score: float | None
    rmis_score: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": "anomaly_detection",
            "year": self.year,
            "encoder": self.encoder,
            "subsets": {s: (r.to_dict() if r is not None else None) for s, r in self.results.items()},
            "dataset_score": self.dataset_score,
            "rmis_score": self.rmis_score,
        }


def run_anomaly_detection(
    roots: Mapping[str, str | Path],
    *,
    year: int,
    encoder: str | Encoder | Fisher = "logstft",
    ground_truth: Mapping[str, Any] | None = None,
    k: int = 1,
    normalize: bool = True,
    window_s: float = 10.0,
    channel: ChannelId | None = 0,
    cache_dir: str | Path | None = None,
    scores_dir: str | Path | None = None,
    show_progress: bool = False,
) -> AdReport:
    """Embed, score and evaluate DCASE folders.

    Args:
        roots: ``{"dev": folder, "eval": folder}`` (either may be left out); layouts as in :func:`fisher.eval.dcase.scan_dcase`.
        encoder: name / path / object (:func:`fisher.eval.rmis.resolve_encoder`).
        ground_truth: ``{subset: eval_data_list CSV}`` for anonymised evaluation clips.
        channel: channel read from multi-channel clips (0 = the official 2026 baseline policy, or ``"mean"``).
        scores_dir: if given, DCASE score files are written to ``scores_dir/<subset>/``.
    """
    year = check_year(year)
    if not roots:
        raise ValueError("give at least one DCASE folder (dev and / or eval)")
    enc = resolve_encoder(encoder)
    gts = dict(ground_truth or {})
    clips = [
        c for sub, root in roots.items() for c in scan_dcase(root, subset=sub, year=year, ground_truth=gts.get(sub))
    ]
    embs = embed_files(
        [_Source(c.path, channel) for c in clips],
        enc,
        window_s=window_s,
        cache_dir=cache_dir,
        show_progress=show_progress,
        desc=f"embedding ({_encoder_name(enc)})",
    )
    out = anomaly_scores(
        np.concatenate(embs),
        subset=[c.subset for c in clips],
        machine=[c.machine for c in clips],
        section=[c.section for c in clips],
        split=[c.split for c in clips],
        domain=[c.domain for c in clips],
        year=year,
        k=k,
        normalize=normalize,
    )
    results: dict[str, DcaseResult | None] = {}
    for sub in roots:
        idx = [i for i, c in enumerate(clips) if c.subset == sub and c.split == "test"]
        test = [clips[i] for i in idx]
        if scores_dir is not None:
            write_score_files(
                Path(scores_dir) / sub,
                file=[c.path.name for c in test],
                value=out["score"][idx],
                machine=[c.machine for c in test],
                section=[c.section for c in test],
                year=year,
                domain=[c.domain or "source" for c in test],
            )
        known = bool(test) and all(c.label is not None and (year == 2020 or c.domain is not None) for c in test)
        results[sub] = None
        if known:
            labels, domains = [c.label for c in test], [c.domain for c in test]
            machines, sections = [c.machine for c in test], [c.section for c in test]
            results[sub] = evaluate(machines, sections, labels, out["score"][idx], domains, year=year)
    done = [r for r in results.values() if r is not None]
    exact = rounded = None
    if done and len(done) == len(results):
        exact = dcase_dataset_score(*done[:2])
        rounded = dcase_dataset_score(*done[:2], rounding=True)
    return AdReport(year, _encoder_name(enc), clips, out["score"], results, exact, rounded)


@dataclass
class FdReport:
    """Fault-diagnosis run: protocol ``result`` (percent), optional split-ratio ``curve``, dataset facts."""

    name: str
    encoder: str
    n_items: int
    n_groups: int
    result: FaultResult
    curve: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "task": "fault_diagnosis",
            "dataset": self.name,
            "encoder": self.encoder,
            "n_items": self.n_items,
            "n_groups": self.n_groups,
            "classes": [str(c) for c in r.classes],
            "accuracy_per_run": r.accuracy.tolist(),
            "seeds": r.seeds,
            "score": r.score,
            "rmis_score": r.rmis_score,
            "curve": self.curve,
            "settings": self.settings,
        }


def run_fault_diagnosis(
    items: Sequence[SignalItem],
    *,
    encoder: str | Encoder | Fisher = "logstft",
    name: str = "dataset",
    test_size: float = 0.5,
    runs: int = 10,
    seed: int = 111,
    k: int = 5,
    window_s: float = 10.0,
    segment_s: float | None = None,
    resample_to: float | None = None,
    curve: bool = False,
    cache_dir: str | Path | None = None,
    show_progress: bool = False,
) -> FdReport:
    """Embed manifest items (sorted by path, channel) and run :func:`fisher.eval.rmis.fault_diagnosis`.

    ``segment_s`` cuts every file into segments (RMIS preprocessing: 10 s, remainder > half kept as the last
    segment); segments inherit the file's label and group. ``curve=True`` adds the 19-ratio split curve.
    """
    if not items:
        raise ValueError("no items to evaluate")
    enc = resolve_encoder(encoder)
    items = sorted(items, key=lambda it: (str(it.path), str(it.channel)))
    embs = embed_files(
        items,
        enc,
        window_s=window_s,
        segment_s=segment_s,
        resample_to=resample_to,
        cache_dir=cache_dir,
        show_progress=show_progress,
        desc=f"embedding ({_encoder_name(enc)})",
    )
    labels = [it.label for it, e in zip(items, embs) for _ in range(e.shape[0])]
    groups = [it.group for it, e in zip(items, embs) for _ in range(e.shape[0])]
    x = np.concatenate(embs)
    result = fault_diagnosis(x, labels, groups, test_size=test_size, runs=runs, seed=seed, k=k)
    cur = split_ratio_curve(x, labels, groups, runs=runs, seed=seed, k=k) if curve else None
    settings = {
        "test_size": test_size,
        "runs": runs,
        "seed": seed,
        "k": k,
        "window_s": window_s,
        "segment_s": segment_s,
        "resample_to": resample_to,
    }
    return FdReport(name, _encoder_name(enc), x.shape[0], len(set(groups)), result, cur, settings)

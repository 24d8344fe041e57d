"""Evaluate a DCASE submission folder: read the score files, join each clip **by name** with its label and domain,
and compute the year's metrics.

Labels and domains come from descriptive clip names (``section_00_target_test_anomaly_0007_...wav``) or, for
anonymised evaluation names, from a ground-truth file (:func:`fisher.eval.dcase.read_ground_truth`). Row order never
matters. With a ground truth every one of its clips in a scored machine / section must have a score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fisher.eval.dcase.ground_truth import GroundTruth, read_ground_truth
from fisher.eval.dcase.metrics import DcaseResult, evaluate
from fisher.eval.dcase.names import check_year, clip_naming_hint, parse_clip_name
from fisher.eval.dcase.scores import read_score_dir

__all__ = ["Submission", "evaluate_submission", "load_submission"]


@dataclass
class Submission:
    """Joined test clips: parallel lists ``machine``, ``section``, ``domain``, ``label`` (0/1), ``score``, ``name``;
    ``missing`` lists ground-truth (machine, section) pairs that have no score file."""

    machine: list[str] = field(default_factory=list)
    section: list[int] = field(default_factory=list)
    domain: list[str] = field(default_factory=list)
    label: list[int] = field(default_factory=list)
    score: list[float] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    missing: list[tuple[str, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.name)


def load_submission(
    directory: str | Path, year: int, *, ground_truth: str | Path | GroundTruth | None = None
) -> Submission:
    """Read ``anomaly_score_*.csv`` files and attach label / domain to every clip (see the module doc)."""
    year = check_year(year)
    gt = read_ground_truth(ground_truth) if isinstance(ground_truth, (str, Path)) else ground_truth
    rows = read_score_dir(directory, year)
    sub = Submission()
    used: set[tuple[str, str]] = set()
    for r in rows:
        where = f"{r.file.name}: clip {r.name!r}"
        if gt is not None:
            entry = gt.get(r.machine, r.name)
            if entry is None:
                raise ValueError(f"{where} is not in the ground truth of machine {r.machine!r}")
            if (r.machine, entry.name) in used:
                raise ValueError(f"{where} is scored twice (under its anonymised and descriptive names)")
            used.add((r.machine, entry.name))
            section, domain, label = entry.section, entry.domain, entry.label
        else:
            hint = clip_naming_hint(r.name, year)
            if hint is not None:
                raise ValueError(f"{r.file.name}: {hint}")
            try:
                info = parse_clip_name(r.name)
            except ValueError as err:
                raise ValueError(f"{r.file.name}: {err}") from None
            if info.label is None or info.domain is None:
                raise ValueError(
                    f"{where} is anonymised (label/domain not in the name); pass the ground truth "
                    "(eval_data_list CSV, --ground-truth)"
                )
            section, domain, label = info.section, info.domain, info.label
        if section != r.section:
            raise ValueError(f"{where} belongs to section {section:02d}, not {r.section:02d} of its score file")
        if r.file_domain is not None and domain != r.file_domain:
            raise ValueError(f"{where} is a {domain}-domain clip in a {r.file_domain}-domain score file")
        sub.machine.append(r.machine)
        sub.section.append(section)
        sub.domain.append(domain)
        sub.label.append(label)
        sub.score.append(r.value)
        sub.name.append(r.name)
    if gt is not None:
        scored = sorted(set(zip(sub.machine, sub.section)))
        for machine, section in scored:
            absent = [e.name for e in gt.sections(machine, section) if (machine, e.name) not in used]
            if absent:
                raise ValueError(
                    f"machine {machine!r} section {section:02d}: {len(absent)} ground-truth clip(s) have no score, "
                    f"e.g. {absent[0]!r}"
                )
        sub.missing = sorted({(e.machine, e.section) for e in gt.entries} - set(scored))
    return sub


def evaluate_submission(
    directory: str | Path,
    year: int,
    *,
    ground_truth: str | Path | GroundTruth | None = None,
    max_fpr: float = 0.1,
    undefined: str = "raise",
) -> DcaseResult:
    """Metrics of a submission folder (one subset, e.g. the dev or the eval scores) - see :func:`fisher.eval.dcase.evaluate`."""
    sub = load_submission(directory, year, ground_truth=ground_truth)
    return evaluate(
        sub.machine,
        sub.section,
        np.array(sub.label),
        np.array(sub.score),
        sub.domain,
        year=year,
        max_fpr=max_fpr,
        undefined=undefined,
    )

"""DCASE Task 2 (2020-2026): file names, submission files, ground truth, dataset folders and the official metrics.

Quick start::

    from fisher.eval.dcase import evaluate_submission
    result = evaluate_submission("results/", year=2024)        # anomaly_score_<machine>_section_<SS>_test.csv files
    print(result.official_score, result.to_dict())
"""

from __future__ import annotations

from fisher.eval.dcase.ground_truth import GroundTruth, GroundTruthEntry, read_ground_truth
from fisher.eval.dcase.layout import DcaseClip, scan_dcase
from fisher.eval.dcase.metrics import DcaseResult, aggregate, evaluate, metric_names, section_metrics
from fisher.eval.dcase.names import (
    YEARS,
    ClipName,
    ScoreFileName,
    check_year,
    parse_clip_name,
    parse_score_file_name,
    score_file_name,
)
from fisher.eval.dcase.scores import ScoreRow, read_score_dir, read_score_file, write_score_files
from fisher.eval.dcase.submission import Submission, evaluate_submission, load_submission

__all__ = [
    "YEARS",
    "ClipName",
    "DcaseClip",
    "DcaseResult",
    "GroundTruth",
    "GroundTruthEntry",
    "ScoreFileName",
    "ScoreRow",
    "Submission",
    "aggregate",
    "check_year",
    "evaluate",
    "evaluate_submission",
    "load_submission",
    "metric_names",
    "parse_clip_name",
    "parse_score_file_name",
    "read_ground_truth",
    "read_score_dir",
    "read_score_file",
    "scan_dcase",
    "score_file_name",
    "section_metrics",
    "write_score_files",
]

"""The RMIS benchmark protocols (k-NN anomaly detection on DCASE, k-NN fault diagnosis) and their scores.

Quick start::

    from fisher.eval.rmis import anomaly_scores
    out = anomaly_scores(emb, subset=sub, machine=mach, section=sec, split=split, domain=dom, year=2024)
    out["score"]        # float64 [N], NaN on train rows

Scores and accuracies of this package are in percent (RMIS convention); :mod:`fisher.eval.dcase` uses fractions.
"""

from __future__ import annotations

from fisher.eval.encoders import FisherEncoder, resolve_encoder
from fisher.eval.rmis.anomaly import anomaly_scores, zscore
from fisher.eval.rmis.auc_table import AucTable, DemoTable, auc_table, demo_table, plot_roc
from fisher.eval.rmis.distances import cosine_knn, knn_mean_distance
from fisher.eval.rmis.embed import embed_files, embed_signal
from fisher.eval.rmis.fault import (
    FaultResult,
    fault_diagnosis,
    knn_classify,
    knn_logits,
    macro_accuracy,
    sealed_split,
    split_ratio_curve,
)
from fisher.eval.rmis.report import format_ad_report, format_fd_report
from fisher.eval.rmis.runner import AdReport, FdReport, run_anomaly_detection, run_fault_diagnosis
from fisher.eval.rmis.score import dcase_dataset_score, dcase_subset_score, rmis_overall, rmis_table
from fisher.eval.rmis.windows import rmis_windows, segments

__all__ = [
    "AdReport",
    "AucTable",
    "DemoTable",
    "FaultResult",
    "FdReport",
    "FisherEncoder",
    "anomaly_scores",
    "auc_table",
    "cosine_knn",
    "dcase_dataset_score",
    "dcase_subset_score",
    "demo_table",
    "embed_files",
    "embed_signal",
    "fault_diagnosis",
    "format_ad_report",
    "format_fd_report",
    "knn_classify",
    "knn_logits",
    "knn_mean_distance",
    "macro_accuracy",
    "plot_roc",
    "resolve_encoder",
    "rmis_overall",
    "rmis_table",
    "rmis_windows",
    "run_anomaly_detection",
    "run_fault_diagnosis",
    "sealed_split",
    "segments",
    "split_ratio_curve",
    "zscore",
]

"""Unit tests of fisher.eval.metrics: AUC, McClish pAUC, means and input validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fisher.eval.metrics import EPS, amean, as_binary_labels, hmean, partial_auc, roc_auc, roc_curve

INVERTED_PAUC = 0.5 * (1 - 0.005 / 0.095)


def test_perfect_inverted_tied():
    y = [0, 0, 0, 1, 1]
    assert roc_auc(y, [1, 2, 3, 4, 5]) == 1.0
    assert partial_auc(y, [1, 2, 3, 4, 5]) == 1.0
    assert roc_auc(y, [5, 4, 3, 2, 1]) == 0.0
    assert partial_auc(y, [5, 4, 3, 2, 1]) == pytest.approx(INVERTED_PAUC, abs=1e-15)
    assert roc_auc(y, [7] * 5) == 0.5
    assert partial_auc(y, [7] * 5) == pytest.approx(0.5, abs=1e-15)


def test_ties_count_half():
    # one anomaly tied with one of two normals -> (1 + 0.5) / 2
    assert roc_auc([0, 0, 1], [0.1, 0.5, 0.5]) == 0.75


def test_pauc_interpolates_at_max_fpr():
    # 20 normals, 1 anomaly ranked below 1 normal: ROC (0,0) -> (0.05,0) -> (0.05,1) -> (1,1)
    y = np.r_[np.zeros(20), 1]
    s = np.r_[np.arange(20), 18.5]
    area = 0.05 * 1.0  # from FPR 0.05 to 0.1 at TPR 1
    expected = 0.5 * (1 + (area - 0.005) / 0.095)
    assert partial_auc(y, s) == pytest.approx(expected, abs=1e-15)
    # tied block straddling FPR 0.1: diagonal segment from (0, 0) to (0.2, 1) -> A = 0.1 * 0.5 / 2
    y2 = np.r_[np.zeros(10), 1]
    s2 = np.r_[np.zeros(8), 5, 5, 5]
    assert partial_auc(y2, s2) == pytest.approx(0.5 * (1 + (0.025 - 0.005) / 0.095), abs=1e-15)


def test_roc_curve_vertices():
    fpr, tpr = roc_curve([0, 1, 0, 1], [0.1, 0.9, 0.9, 0.2])
    assert fpr.tolist() == [0.0, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 1.0, 1.0]


def test_max_fpr_one_is_full_auc():
    rng = np.random.default_rng(1)
    y, s = rng.integers(0, 2, 50), rng.normal(size=50)
    assert partial_auc(y, s, max_fpr=1.0) == roc_auc(y, s)


def test_matches_sklearn_randomised():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(120):
        n = int(rng.integers(3, 60))
        y = rng.integers(0, 2, n)
        if y.min() == y.max():
            continue
        s = np.round(rng.normal(size=n) * rng.choice([1, 10]), int(rng.integers(0, 2)))
        for fpr in (0.1, 0.05, 0.3):
            worst = max(worst, abs(partial_auc(y, s, max_fpr=fpr) - sk.roc_auc_score(y, s, max_fpr=fpr)))
        worst = max(worst, abs(roc_auc(y, s) - sk.roc_auc_score(y, s)))
    assert worst == 0.0  # same ROC vertices and trapezoid order: bit-identical


def test_label_forms():
    assert as_binary_labels(["normal", "anomaly", "Anomaly"]).tolist() == [0, 1, 1]
    assert as_binary_labels([True, False]).tolist() == [1, 0]
    assert roc_auc(["normal", "anomaly"], [0, 1]) == 1.0
    with pytest.raises(ValueError, match="unknown label"):
        as_binary_labels(["normal", "broken"])
    with pytest.raises(ValueError, match="only 0"):
        as_binary_labels([0, 2])
    with pytest.raises(ValueError, match="1-D"):
        as_binary_labels([[0, 1]])


def test_undefined_raise_or_nan():
    with pytest.raises(ValueError, match="no anomalies"):
        roc_auc([0, 0], [1, 2])
    with pytest.raises(ValueError, match="no normal"):
        partial_auc([1, 1], [1, 2])
    with pytest.raises(ValueError, match="no clips"):
        roc_auc([], [])
    assert math.isnan(roc_auc([0, 0], [1, 2], undefined="nan"))
    assert math.isnan(partial_auc([], [], undefined="nan"))
    with pytest.raises(ValueError, match="undefined must be"):
        roc_auc([0, 1], [1, 2], undefined="ignore")


def test_bad_scores():
    with pytest.raises(ValueError, match="NaN or infinite"):
        roc_auc([0, 1], [0.0, float("nan")])
    with pytest.raises(ValueError, match="entries"):
        roc_auc([0, 1], [0.0])
    with pytest.raises(TypeError, match="numeric"):
        roc_auc([0, 1], ["a", "b"])
    with pytest.raises(ValueError, match="max_fpr"):
        partial_auc([0, 1], [0, 1], max_fpr=0)


def test_means():
    assert hmean([1.0, 0.5]) == pytest.approx(2 / 3)
    assert hmean([0.0, 0.5]) == 0.0
    assert hmean([0.0, 0.5], floor=EPS) == pytest.approx(2 * EPS, rel=1e-9)
    assert math.isnan(hmean([float("nan"), 0.5]))
    assert amean([1, 2, 3]) == 2.0
    with pytest.raises(ValueError, match="non-negative"):
        hmean([-0.1, 1])
    with pytest.raises(ValueError, match="empty"):
        amean([])

"""Fault-diagnosis protocol (sealed splits, weighted k-NN, macro accuracy, split-ratio curve) and RMIS scores."""

from __future__ import annotations

import numpy as np
import pytest

from fisher.eval.rmis import (
    fault_diagnosis,
    knn_classify,
    macro_accuracy,
    rmis_overall,
    sealed_split,
    split_ratio_curve,
)


def _data(n_per=20, dim=8, sep=1.0, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(["a", "b", "c"], n_per)
    emb = rng.normal(size=(3 * n_per, dim)) + np.repeat(np.eye(3, dim) * sep, n_per, axis=0)
    groups = [f"{lab}{i // 4}" for i, lab in enumerate(labels)]
    return emb, labels, groups


@pytest.mark.parametrize("test_size", [0.5, 0.2, 0.1, 0.9])
def test_split_matches_sklearn(test_size):
    sk = pytest.importorskip("sklearn.model_selection")
    groups = [f"g{i}" for i in range(40)]
    labels = [i % 3 for i in range(40)]
    for seed in range(111, 121):
        train, test, used = sealed_split(groups, labels, test_size=test_size, seed=seed)
        g_train, g_test = sk.train_test_split(groups, test_size=test_size, random_state=used)
        assert set(np.array(groups)[test]) == set(g_test) and set(np.array(groups)[train]) == set(g_train)
        assert (used - seed) % 100 == 0


def test_split_is_sealed_and_redraws():
    groups = ["r1", "r1", "r2", "r2", "r3", "r3", "r4", "r4"]
    labels = ["x", "x", "x", "x", "y", "y", "y", "y"]
    seeds = set()
    for seed in range(111, 131):
        train, test, used = sealed_split(groups, labels, test_size=0.5, seed=seed)
        seeds.add(used - seed)
        for g in set(groups):
            idx = [i for i, gg in enumerate(groups) if gg == g]
            assert train[idx].all() or test[idx].all()
        assert set(np.array(labels)[train]) == set(np.array(labels)[test]) == {"x", "y"}
    assert seeds - {0}  # some draws needed seed + 100
    with pytest.raises(ValueError, match="test_size"):
        sealed_split(groups, labels, test_size=1.0, seed=0)
    with pytest.raises(ValueError, match="no split"):
        sealed_split(groups, labels, test_size=0.1, seed=0)


def test_weighted_vote_and_ties():
    train = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    # query close to class 0's single neighbour, but two class-1 neighbours with larger summed similarity
    pred = knn_classify(train, [0, 1, 1], np.array([[1.0, 0.9]]), n_classes=2, k=3)
    assert pred.tolist() == [1]
    assert knn_classify(train, [0, 1, 1], np.array([[1.0, 0.0]]), n_classes=2, k=1).tolist() == [0]
    # exact tie of logits -> lowest class index
    tie = knn_classify(np.array([[1.0, 0.0], [0.0, 1.0]]), [1, 0], np.array([[1.0, 1.0]]), n_classes=2, k=2)
    assert tie.tolist() == [0]


def test_macro_accuracy():
    assert macro_accuracy([0, 0, 0, 1], [0, 0, 0, 0]) == 0.5
    assert macro_accuracy(["a", "b"], ["a", "b"]) == 1.0
    with pytest.raises(ValueError):
        macro_accuracy([0], [0, 1])


def test_fault_diagnosis_protocol():
    emb, labels, groups = _data(sep=3.0)
    res = fault_diagnosis(emb, labels, groups)
    assert res.seeds[:3] == [111, 112, 113] and len(res.accuracy) == 10
    assert res.classes == ["a", "b", "c"] and res.score > 90
    assert res.rmis_score == float(np.round(np.mean(np.round(res.accuracy, 2)), 2))
    again = fault_diagnosis(emb, labels, groups)
    assert np.array_equal(res.accuracy, again.accuracy)
    with pytest.raises(ValueError, match="different classes"):
        fault_diagnosis(emb, labels, ["one"] * len(labels))
    with pytest.raises(ValueError, match="at least 2 groups"):
        fault_diagnosis(emb, labels, [f"{lab}" if lab == "c" else g for lab, g in zip(labels, groups)])
    with pytest.raises(ValueError, match="same length"):
        fault_diagnosis(emb[:-1], labels, groups)
    with pytest.raises(ValueError, match="not among the classes"):
        fault_diagnosis(emb, labels, groups, classes=["a", "b"])


def test_split_ratio_curve():
    emb, labels, groups = _data(sep=50.0)  # perfectly separable
    cur = split_ratio_curve(emb, labels, groups, test_sizes=[0.25, 0.5, 0.75], runs=2, method="trapezoid")
    assert cur["train_fraction"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert cur["accuracy"][0] == pytest.approx(100 / 3) and cur["accuracy"][1:] == pytest.approx([100.0] * 4)
    assert cur["area"] == pytest.approx(100 * (1 - 0.25 * (1 - 1 / 3) / 2))
    simpson = split_ratio_curve(emb, labels, groups, test_sizes=[0.25, 0.5, 0.75], runs=2, rounding=True)
    assert 80 < simpson["area"] <= 100
    with pytest.raises(ValueError, match="method"):
        split_ratio_curve(emb, labels, groups, method="midpoint")


def test_rmis_overall_leaderboard():
    """Published FISHER-small numbers: AD 61.15, FD 63.31, RMIS 62.23."""
    ad = dict(
        zip(
            ["dcase20", "dcase21", "dcase22", "dcase23", "dcase24", "dcase25"],
            [71.04, 59.48, 59.64, 62.63, 55.62, 58.46],
        )
    )
    out = rmis_overall(ad, {"fd": 63.31})
    assert out["ad"] == pytest.approx(61.145) and f"{out['rmis']:.2f}" == "62.23"
    with pytest.raises(ValueError):
        rmis_overall({}, {"x": 1.0})

"""The shared exact k-NN core (fisher.search.knn) against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from fisher.search.knn import knn_search


def brute(q, b, k, metric):
    if metric == "cosine":
        qn = q / np.linalg.norm(q, axis=1, keepdims=True)
        bn = b / np.linalg.norm(b, axis=1, keepdims=True)
        d = np.clip(1 - qn @ bn.T, 0, 2)
    else:
        d = np.sqrt(((q[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, idx, axis=1), idx


@pytest.mark.parametrize("metric", ["l2", "cosine"])
@pytest.mark.parametrize("blocks", [{}, {"query_block": 3, "bank_block": 5}])
def test_matches_brute_force(metric, blocks):
    rng = np.random.default_rng(0)
    q, b = rng.standard_normal((17, 8)), rng.standard_normal((41, 8))
    d, i = knn_search(q, b, 4, metric=metric, **blocks)
    rd, ri = brute(q, b, 4, metric)
    np.testing.assert_allclose(d, rd, atol=1e-12)
    np.testing.assert_array_equal(i, ri)


def test_float32_close_and_ties_by_index():
    rng = np.random.default_rng(1)
    b = rng.standard_normal((30, 6))
    b = np.concatenate([b, b[:5]])  # rows 30..34 duplicate rows 0..4
    d32, _ = knn_search(b[:5], b, 2, dtype=np.float32, bank_block=7)
    assert np.all(d32[:, 0] < 1e-3) and np.all(d32[:, 1] < 1e-3)
    _, i = knn_search(b[:5], b, 2, bank_block=7)
    np.testing.assert_array_equal(i, np.array([[r, r + 30] for r in range(5)]))


def test_exclude_leave_one_out():
    rng = np.random.default_rng(2)
    b = rng.standard_normal((10, 4))
    owners = np.arange(10)[:, None]
    d, i = knn_search(b, b, 1, exclude=(np.arange(10), owners))
    assert np.all(i[:, 0] != np.arange(10)) and np.all(d > 0)
    with pytest.raises(ValueError, match="fewer than k"):
        knn_search(b[:1], b[:1], 1, exclude=(np.array([0]), owners[:1]))


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"k": 0}, ValueError, "k must be"),
        ({"k": 2.0}, TypeError, "k must"),
        ({"k": 99}, ValueError, "fewer than k"),
        ({"k": 1, "metric": "dot"}, ValueError, "metric"),
    ],
)
def test_errors(kwargs, exc, match):
    x = np.ones((5, 3))
    with pytest.raises(exc, match=match):
        knn_search(x, x, **kwargs)


def test_bad_arrays():
    with pytest.raises(ValueError, match="NaN"):
        knn_search(np.full((2, 3), np.nan), np.ones((4, 3)), 1)
    with pytest.raises(ValueError, match="dimension"):
        knn_search(np.ones((2, 3)), np.ones((4, 5)), 1)

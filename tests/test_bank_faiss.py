"""FAISS indexes ([scale] extra) against the exact search: agreement, recall, sharding, save / load, wiring."""

from __future__ import annotations

import numpy as np
import pytest

faiss = pytest.importorskip("faiss")

from fisher.search.faiss_index import FaissIndex, default_nlist
from fisher.search.index import build_index, load_index
from fisher.search.knn import knn_search
from fisher.search.sharded import ShardedIndex

pytestmark = pytest.mark.scale


def clustered(rng: np.random.Generator, n: int, d: int = 32, centres: int = 64, noise: float = 1.0) -> np.ndarray:
    """Unit vectors around random centres (embedding-like structure; uniform random vectors have none)."""
    c = rng.standard_normal((centres, d))
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    x = c[rng.integers(0, centres, n)] + noise * rng.standard_normal((n, d)) / np.sqrt(d)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / truth.shape[1] for f, t in zip(found, truth)]))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = clustered(rng, 20_200)
    bank, queries = x[:20_000], x[20_000:]
    return bank, queries, knn_search(queries, bank, 5, dtype=np.float32)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_flat_matches_exact_distances(data, metric):
    bank, q, _ = data
    d, i = build_index(bank, "faiss-flat", metric=metric).search(q, 5)
    rd, ri = knn_search(q, bank, 5, metric=metric, dtype=np.float32)
    assert recall(i, ri) == 1.0
    np.testing.assert_allclose(d, rd, atol=2e-3 if metric == "l2" else 1e-5)  # sqrt(2 - 2 ip) near 0 is coarse


@pytest.mark.parametrize("spec", ["faiss-ivf", {"backend": "faiss-ivf", "nlist": 100, "nprobe": 4}, "faiss-hnsw"])
def test_approximate_recall_and_round_trip(data, spec, tmp_path):
    bank, q, (_, truth) = data
    index = build_index(bank, spec, metric="l2")
    d, i = index.search(q, 5)
    assert recall(i, truth) >= 0.95
    assert np.all(np.diff(d, axis=1) >= 0)
    back = load_index(index.save(tmp_path / "idx"))
    assert isinstance(back, FaissIndex) and back.options == index.options and len(back) == len(bank)
    d2, i2 = back.search(q, 5)
    np.testing.assert_array_equal(i2, i)
    np.testing.assert_array_equal(d2, d)


def test_ivf_training_rules():
    assert default_nlist(1_000_000) == 1000 and default_nlist(100) == 2 and default_nlist(5) == 1
    rng = np.random.default_rng(1)
    index = FaissIndex("faiss-ivf", nlist=50)
    with pytest.raises(ValueError, match="at least nlist"):
        index.add(clustered(rng, 20))
    index.train(clustered(rng, 2000)).add(clustered(rng, 300))  # train once, add shards later
    assert len(index) == 300
    with pytest.raises(ValueError, match="fewer than k"):
        FaissIndex().add(clustered(rng, 3)).search(clustered(rng, 1), 4)


def test_sharded_ivf_by_machine_and_domain(data, tmp_path):
    bank, q, _ = data
    keys = [("fan", "source") if i % 5 else ("valve", "target") for i in range(len(bank))]
    idx = ShardedIndex({"backend": "faiss-ivf", "nprobe": 8}, metric="cosine").add(bank, keys)
    _, i = idx.search(q, 5, keys=("valve", "target"))
    rows = np.arange(0, len(bank), 5)
    _, ri = knn_search(q, bank[rows], 5, metric="cosine", dtype=np.float32)
    assert np.all(i % 5 == 0) and recall(i, rows[ri]) >= 0.95
    back = load_index(idx.save(tmp_path / "sh"))
    np.testing.assert_array_equal(back.search(q, 5, keys=("valve", "target"))[1], i)


def test_detector_faiss_index_agrees_with_exact(tmp_path):
    from fisher_asd import Detector
    from fisher_asd.detector.synthetic import synthetic_clips

    train = np.concatenate([synthetic_clips(16, seed=1), synthetic_clips(4, domain="target", seed=2)])
    domains = ["source"] * 16 + ["target"] * 4
    test = np.concatenate([synthetic_clips(4, seed=3), synthetic_clips(4, anomaly=True, seed=4)])
    out = {}
    for spec in ("exact", "faiss-flat"):
        det = Detector(["logstft"], k=3, index=spec, domain_policy="nearest", rank_norm=None)
        det.fit(train, 16000, machine="fan", domain=domains)
        out[spec] = det.score(test, 16000, machine="fan")
    np.testing.assert_allclose(out["faiss-flat"], out["exact"], atol=1e-3)
    assert det.banks_["logstft"]["fan"].index is not None
    back = Detector.from_pretrained(det.save_pretrained(tmp_path / "det"))
    assert back.index == "faiss-flat" and (tmp_path / "det" / "indexes").is_dir()
    np.testing.assert_array_equal(back.score(test, 16000, machine="fan"), out["faiss-flat"])
    np.testing.assert_array_equal(back.train_scores_["logstft"]["fan"], det.train_scores_["logstft"]["fan"])


def test_rmis_protocol_with_faiss():
    from fisher.eval.rmis import anomaly_scores

    rng = np.random.default_rng(2)
    n = 60
    labels = {
        "subset": ["dev"] * n,
        "machine": ["fan"] * n,
        "section": [0] * n,
        "split": ["train"] * 40 + ["test"] * 20,
        "domain": ["source", "target"] * 30,
        "year": 2024,
    }
    emb = clustered(rng, n, d=16)
    ref = anomaly_scores(emb, k=2, **labels)
    got = anomaly_scores(emb, k=2, index="faiss-flat", **labels)
    np.testing.assert_allclose(got["score"], ref["score"], atol=1e-3)

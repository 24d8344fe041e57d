"""Search indexes (fisher.search.index): exact float64 / float32, sharding, save / load, specs, and the light core import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fisher.search.index import ExactIndex, build_index, index_spec, is_exact_default, load_index, make_index
from fisher.search.knn import knn_search
from fisher.search.sharded import ShardedIndex


def unit(rng: np.random.Generator, n: int, d: int = 16) -> np.ndarray:
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_exact_float64_is_knn_search_bit_for_bit(metric):
    rng = np.random.default_rng(0)
    q, b = rng.standard_normal((30, 8)), rng.standard_normal((200, 8))
    d, i = build_index(b, "exact", metric=metric).search(q, 5)
    rd, ri = knn_search(q, b, 5, metric=metric)
    assert np.array_equal(d, rd) and np.array_equal(i, ri)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
@pytest.mark.parametrize("blocks", [{}, {"query_block": 7, "bank_block": 13}])
def test_exact_float32_matches_float64(metric, blocks):
    rng = np.random.default_rng(1)
    q = rng.standard_normal((50, 12)).astype(np.float32)
    b = (rng.standard_normal((500, 12)) * rng.uniform(0.5, 2.0, (500, 1))).astype(np.float32)
    d, i = build_index(b, {"backend": "exact", "dtype": "float32", **blocks}, metric=metric).search(q, 4)
    rd, ri = knn_search(q, b, 4, metric=metric)
    np.testing.assert_array_equal(i, ri)
    np.testing.assert_allclose(d, rd, atol=1e-12)  # float32 inputs: the k rows are re-scored in float64


def test_float32_pruned_path_on_a_wide_block():
    rng = np.random.default_rng(6)  # 3000 rows in one bank block: 1024 dense seed columns, then the pruned test
    q, b = unit(rng, 64, 8).astype(np.float32), unit(rng, 3000, 8).astype(np.float32)
    for metric in ("l2", "cosine"):
        d, i = knn_search(q, b, 5, metric=metric, dtype=np.float32)
        rd, ri = knn_search(q, b, 5, metric=metric)
        np.testing.assert_array_equal(i, ri)
        np.testing.assert_allclose(d, rd, atol=1e-12)


def test_float32_leave_one_out_and_duplicates():
    rng = np.random.default_rng(2)
    b = unit(rng, 40).astype(np.float32)
    bank = np.concatenate([b, b[:5]])
    owners = np.r_[np.arange(40), np.arange(5)][:, None]
    d, i = knn_search(b, bank, 2, exclude=(np.arange(40), owners), dtype=np.float32, bank_block=9)
    rd, ri = knn_search(b, bank, 2, exclude=(np.arange(40), owners))
    np.testing.assert_array_equal(i, ri)
    np.testing.assert_allclose(d, rd, atol=1e-12)
    d0, _ = knn_search(b[:5], bank, 2, dtype=np.float32)
    assert np.all(d0 < 1e-7)  # a row and its copy are both at distance ~0


def test_exact_chunks_save_load(tmp_path):
    rng = np.random.default_rng(3)
    b, q = rng.standard_normal((100, 6)), rng.standard_normal((9, 6))
    one = ExactIndex("cosine").add(b)
    two = ExactIndex("cosine").add(b[:40]).add(b[40:])
    assert len(two) == 100 and np.array_equal(one.search(q, 3)[1], two.search(q, 3)[1])
    b[:] = 0  # the index owns a copy
    saved = two.save(tmp_path / "idx")
    assert sorted(p.name for p in saved.iterdir()) == ["index.json", "vectors.npy"]
    for mmap in (False, True):
        back = load_index(saved, mmap=mmap)
        assert isinstance(back, ExactIndex) and back.metric == "cosine"
        np.testing.assert_array_equal(back.search(q, 3)[0], one.search(q, 3)[0])


def test_sharded_exact_merge_keys_and_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    b, q = unit(rng, 300), unit(rng, 20)
    keys = [("fan", "source" if i % 4 else "target") for i in range(300)]
    idx = ShardedIndex("exact", metric="l2").add(b[:150], keys[:150]).add(b[150:], keys[150:])
    assert len(idx) == 300 and set(idx.keys) == {("fan", "source"), ("fan", "target")}
    d, i = idx.search(q, 5)
    rd, ri = knn_search(q, b, 5)
    np.testing.assert_array_equal(i, ri)
    np.testing.assert_allclose(d, rd, atol=1e-12)
    d, i = idx.search(q, 3, keys=("fan", "target"))
    assert np.all(i % 4 == 0)
    target = np.arange(0, 300, 4)
    rd, ri = knn_search(q, b[target], 3)
    np.testing.assert_array_equal(i, target[ri])
    per_query = [("fan", "target")] * 10 + [("fan", "source")] * 10
    _, i2 = idx.search(q, 3, keys=per_query)
    np.testing.assert_array_equal(i2[:10], i[:10])
    assert np.all(i2[10:] % 4 != 0)
    back = load_index(idx.save(tmp_path / "sharded"))
    assert isinstance(back, ShardedIndex) and back.keys == idx.keys
    np.testing.assert_array_equal(back.search(q, 3, keys=per_query)[1], i2)


def test_sharded_errors():
    idx = ShardedIndex().add(np.eye(4), "a")
    with pytest.raises(KeyError, match="no shard"):
        idx.search(np.eye(4), 1, keys="b")
    with pytest.raises(ValueError, match="shard keys for"):
        idx.search(np.eye(4), 1, keys=["a", "a"])
    with pytest.raises(ValueError, match="shard keys for"):
        ShardedIndex().add(np.eye(4), ["a", "b"])
    with pytest.raises(TypeError, match="shard keys"):
        ShardedIndex().add(np.eye(2), [{"x": 1}, {"x": 2}])
    with pytest.raises(ValueError, match="fewer than k"):
        idx.search(np.eye(4), 5)


@pytest.mark.parametrize(
    "spec,exc,match",
    [
        ("annoy", ValueError, "unknown index backend"),
        (3, TypeError, "index spec"),
        ({"backend": "exact", "nprobe": 4}, ValueError, "unknown option"),
        ({"backend": "faiss-ivf", "nprobe": 0}, ValueError, "positive int"),
        ({"backend": "exact", "dtype": "float16"}, ValueError, "dtype"),
    ],
)
def test_spec_errors(spec, exc, match):
    with pytest.raises(exc, match=match):
        index_spec(spec)


def test_spec_defaults_and_metric():
    assert index_spec("faiss-ivf") == {"backend": "faiss-ivf", "nlist": None, "nprobe": 16, "seed": 1234}
    assert is_exact_default("exact") and is_exact_default({"backend": "exact", "dtype": "float64"})
    assert not is_exact_default({"backend": "exact", "dtype": "float32"})
    with pytest.raises(ValueError, match="metric"):
        make_index("exact", metric="dot")
    with pytest.raises(ValueError, match="empty"):
        ExactIndex().search(np.eye(2), 1)


def test_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(ImportError, match=r"fisher-signal\[scale\]"):
        make_index("faiss-flat")
    monkeypatch.setitem(sys.modules, "ray", None)
    from fisher.inference.parallel import embed_files_ray

    with pytest.raises(ImportError, match=r"fisher-signal\[scale\]"):
        embed_files_ray(["a.wav"], model="tiny", out_dir="unused")


def test_core_imports_neither_faiss_nor_ray():
    code = (
        "import sys, fisher, fisher.search.index, fisher.search.faiss_index, fisher.search.sharded, fisher.inference.parallel, fisher.eval.rmis, "
        "fisher_asd; bad = [m for m in ('faiss', 'ray') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_rmis_protocol_index_option():
    from fisher.eval.rmis import anomaly_scores

    rng = np.random.default_rng(5)
    n = 40
    labels = {
        "subset": ["dev"] * n,
        "machine": ["fan"] * n,
        "section": [0] * n,
        "split": ["train"] * 30 + ["test"] * 10,
        "domain": (["source", "target"] * 20),
        "year": 2023,
    }
    emb = rng.standard_normal((n, 8))
    ref = anomaly_scores(emb, k=2, **labels)
    same = anomaly_scores(emb, k=2, index="exact", **labels)
    f32 = anomaly_scores(emb, k=2, index={"backend": "exact", "dtype": "float32"}, **labels)
    assert np.array_equal(ref["score"], same["score"], equal_nan=True)
    np.testing.assert_allclose(f32["score"], ref["score"], atol=1e-5)
    with pytest.raises(ValueError, match="unknown index backend"):
        anomaly_scores(emb, k=2, index="annoy", **labels)

"""RMIS k-NN anomaly scores vs ../shared/fixtures/knn_scores (1e-9), chunking, and input checks."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from fisher.eval.dcase import evaluate
from fisher.eval.rmis import anomaly_scores, cosine_knn, dcase_dataset_score, knn_mean_distance, rmis_table, zscore

CASES = {"dcase20": 2020, "dcase21": 2021, "dcase24": 2024}
VARIANTS = {"default": {}, "k3": {"k": 3}, "nonorm": {"normalize": False}}
TOL = 1e-9


def _load(fixtures_dir, case):
    root = fixtures_dir / "knn_scores" / case
    emb = np.load(root / "embeddings.npy")
    with open(root / "manifest.csv", newline="") as fh:
        manifest = list(csv.DictReader(fh))
    with open(root / "expected" / "scores.csv", newline="") as fh:
        expected = {r["file"]: r for r in csv.DictReader(fh)}
    metrics = json.loads((root / "expected" / "rmis_metrics.json").read_text())
    return emb, manifest, expected, metrics


def _columns(manifest):
    return {
        "subset": [r["subset"] for r in manifest],
        "machine": [r["machine"] for r in manifest],
        "section": [int(r["section"]) for r in manifest],
        "split": [r["split"] for r in manifest],
        "domain": [r["domain"] for r in manifest],
    }


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_scores_match_rmis(fixtures_dir, case, variant):
    year = CASES[case]
    emb, manifest, expected, metrics = _load(fixtures_dir, case)
    out = anomaly_scores(emb, year=year, **_columns(manifest), **VARIANTS[variant])
    assert set(out) == ({"score", "score_source", "score_target"} if year >= 2022 else {"score"})
    test = [i for i, r in enumerate(manifest) if r["split"] == "test"]
    assert np.isnan(np.delete(out["score"], test)).all()
    assert len(test) == len(expected)
    worst = 0.0
    for i in test:
        e = expected[manifest[i]["file"]]
        worst = max(worst, abs(out["score"][i] - float(e[f"{variant}_score"])))
        if year >= 2022:
            worst = max(worst, abs(out["score_source"][i] - float(e[f"{variant}_score_sou"])))
            worst = max(worst, abs(out["score_target"][i] - float(e[f"{variant}_score_tar"])))
    assert worst <= TOL
    # the metrics RMIS computed from these scores
    want = metrics["metrics"][variant]
    results = {}
    for sub in ("dev", "eval"):
        idx = [i for i in test if manifest[i]["subset"] == sub]
        results[sub] = evaluate(
            [manifest[i]["machine"] for i in idx],
            [int(manifest[i]["section"]) for i in idx],
            [int(manifest[i]["is_anomaly"]) for i in idx],
            out["score"][idx],
            [manifest[i]["domain"] for i in idx],
            year=year,
        )
        table = rmis_table(results[sub])
        if year <= 2022:
            assert table == want["result"][sub]
        else:
            assert sorted(map(tuple, table)) == sorted(map(tuple, want["result"][sub]))
    assert dcase_dataset_score(results["dev"], results["eval"], rounding=True) == want["final_score"]


@pytest.mark.parametrize("case", list(CASES))
def test_raw_distances(fixtures_dir, case):
    emb, manifest, expected, _ = _load(fixtures_dir, case)
    groups = {}
    for i, r in enumerate(manifest):
        groups.setdefault((r["subset"], r["machine"], r["section"]), []).append(i)
    checked = 0
    for rows in groups.values():
        train = [i for i in rows if manifest[i]["split"] == "train"]
        test = [i for i in rows if manifest[i]["split"] == "test"]
        banks = {"all": train}
        tgt = [i for i in train if manifest[i]["domain"] == "target"]
        if tgt and case != "dcase20":
            banks["source"] = [i for i in train if manifest[i]["domain"] == "source"]
            banks["target"] = tgt
        for k in (1, 3):
            for name, bank in banks.items():
                got = knn_mean_distance(emb[test], emb[bank], k)
                want = np.array([float(expected[manifest[i]["file"]][f"raw_k{k}_{name}"]) for i in test])
                assert np.abs(got - want).max() <= TOL
                checked += 1
        # the duplicated source-normal test clip has distance 0 to the full bank
        assert np.min(knn_mean_distance(emb[test], emb[train], 1)) <= 1e-12
    assert checked > 0


def test_chunked_search_large_bank():
    rng = np.random.default_rng(0)
    bank = rng.normal(size=(100_000, 16))
    queries = np.vstack([bank[[5, 99_999]], rng.normal(size=(30, 16))])
    d_small, i_small = cosine_knn(queries, bank, 3, query_block=1, bank_block=7)  # tiny blocks
    d_big, i_big = cosine_knn(queries, bank, 3)
    assert np.array_equal(i_small, i_big) and np.allclose(d_small, d_big, atol=1e-15)
    assert i_big[0, 0] == 5 and i_big[1, 0] == 99_999 and d_big[:2, 0].max() <= 1e-12
    bn = bank / np.linalg.norm(bank, axis=1, keepdims=True)
    q = queries[2:5] / np.linalg.norm(queries[2:5], axis=1, keepdims=True)
    brute = np.sort(1 - q @ bn.T, axis=1)[:, :3]
    assert np.allclose(d_big[2:5], brute, atol=1e-12)


def test_zscore_population_std():
    x = np.array([1.0, 2.0, 3.0, 6.0])
    assert np.allclose(zscore(x), (x - x.mean()) / x.std(ddof=0))
    assert np.array_equal(zscore(np.ones(3)), np.zeros(3))


def _toy(year=2024):
    rng = np.random.default_rng(3)
    n = 12
    return rng.normal(size=(n, 4)), {
        "subset": ["dev"] * n,
        "machine": ["fan"] * n,
        "section": [0] * n,
        "split": ["train"] * 6 + ["test"] * 6,
        "domain": ["source", "target"] * 6,
        "year": year,
    }


def test_input_errors():
    emb, cols = _toy()
    with pytest.raises(ValueError, match="one entry per embedding row"):
        anomaly_scores(emb, **{**cols, "machine": ["fan"] * 3})
    with pytest.raises(ValueError, match="split must be"):
        anomaly_scores(emb, **{**cols, "split": ["val"] * 12})
    out = anomaly_scores(emb, **{**cols, "domain": cols["domain"][:6] + [None] * 6})  # unknown test domains
    assert np.isfinite(out["score"][6:]).all()
    with pytest.raises(ValueError, match="target-domain train clips"):
        anomaly_scores(emb, **{**cols, "domain": ["source"] * 6 + ["target"] * 6})
    with pytest.raises(ValueError, match="fewer than k"):
        anomaly_scores(emb, **cols, k=4)
    with pytest.raises(ValueError, match="NaN"):
        anomaly_scores(np.full((12, 4), np.nan), **cols)
    with pytest.raises(ValueError, match="2-D"):
        anomaly_scores(np.zeros(12), **cols)
    with pytest.raises(TypeError, match="not a string"):
        anomaly_scores(emb, **{**cols, "subset": "dev"})
    with pytest.raises(ValueError, match="no train clips"):
        anomaly_scores(emb, **{**cols, "split": ["test"] * 12, "year": 2021})
    out = anomaly_scores(emb, **{**cols, "year": 2020, "domain": ["whatever"] * 12})  # 2020 ignores domains
    assert np.isfinite(out["score"][6:]).all()


def test_min_of_banks_and_torch_input():
    torch = pytest.importorskip("torch")
    emb, cols = _toy()
    out = anomaly_scores(torch.from_numpy(emb), **cols)
    assert np.array_equal(out["score"][6:], np.minimum(out["score_source"][6:], out["score_target"][6:]))
    numeric = anomaly_scores(emb, **{**cols, "domain": np.array([0, 1] * 6)})
    assert np.array_equal(numeric["score"], out["score"], equal_nan=True)

"""``fisher_asd.Detector`` on a synthetic machine with weight-free / tiny random encoders (offline, fast)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from fisher import FisherConfig
from fisher.eval.metrics import roc_auc
from fisher_asd import Detector
from fisher_asd.detector import StreamConfig
from fisher_asd.detector.synthetic import synthetic_clips

SR = 16000
CLIP = 8000  # the clips are 0.5 s: fix them to their own length (the default 10 s would tile them)


@pytest.fixture(scope="module")
def data():
    """Training: 30 source + 4 target normal clips; test: 8 normal + 8 anomalous per domain (0.5 s each)."""
    kw = {"sr": SR, "seconds": 0.5}
    train = np.concatenate([synthetic_clips(30, seed=1, **kw), synthetic_clips(4, domain="target", seed=2, **kw)])
    test = np.concatenate(
        [
            synthetic_clips(8, seed=3, **kw),
            synthetic_clips(8, domain="target", seed=4, **kw),
            synthetic_clips(8, anomaly=True, seed=5, **kw),
            synthetic_clips(8, anomaly=True, domain="target", seed=6, **kw),
        ]
    )
    return {
        "train": train,
        "train_domain": ["source"] * 30 + ["target"] * 4,
        "test": test,
        "test_domain": (["source"] * 8 + ["target"] * 8) * 2,
        "label": [0] * 16 + [1] * 16,
    }


def tiny_fisher():
    return ("fisher", {"model": FisherConfig.preset("tiny", depth=1), "pool": "mean"})


@pytest.mark.parametrize("rank_norm", ["transductive", "inductive", None])
def test_logstft_detector_separates_synthetic_anomalies(data, rank_norm):
    det = Detector(["logstft"], clip_samples=CLIP, rank_norm=rank_norm).fit(
        data["train"], SR, machine="pump", domain=data["train_domain"]
    )
    score = det.score(data["test"], SR, machine="pump", domain=data["test_domain"])
    assert score.shape == (32,) and score.dtype == np.float64
    assert roc_auc(data["label"], score) >= 0.9
    if rank_norm is not None:
        assert ((score >= 0) & (score <= 1)).all()


@pytest.mark.parametrize("policy", ["machine", "nearest"])
def test_domain_policy_without_test_domains(data, policy):
    det = Detector(["logstft"], clip_samples=CLIP, domain_policy=policy).fit(
        data["train"], SR, machine="pump", domain=data["train_domain"]
    )
    details = det.score_details(data["test"], SR, machine="pump")
    assert roc_auc(data["label"], details["score"]) >= 0.9
    if policy == "machine":
        assert details["domain"] == [None] * 32
        # one group over all clips: the fused transductive score is the rank over all 32 clips
        np.testing.assert_allclose(sorted(details["score"]), np.arange(32) / 31)
    else:
        normals = details["domain"][:16]
        assert normals == data["test_domain"][:16]  # the normal clips are assigned to their own domain's bank
        assert set(details["domain"]) == {"source", "target"}


def test_inductive_single_clip_equals_batch(data):
    det = Detector(
        ["logstft", tiny_fisher()], clip_samples=CLIP, rank_norm="inductive", weights={"logstft": 0.7, "fisher": 0.3}
    )
    det.fit(data["train"], SR, machine="pump", domain=data["train_domain"])
    batch = det.score(data["test"][:6], SR, machine="pump", domain=data["test_domain"][:6])
    single = [det.score(data["test"][i], SR, machine="pump", domain=data["test_domain"][i])[0] for i in range(6)]
    np.testing.assert_array_equal(batch, single)


def test_save_load_bit_exact(data, tmp_path):
    det = Detector(
        ["logstft", tiny_fisher()],
        clip_samples=CLIP,
        rank_norm="inductive",
        seed=3,
        weights={"logstft": 0.6, "fisher": 0.4},
    )
    det.fit(
        data["train"],
        SR,
        machine=["pump"] * 20 + ["fan"] * 14,
        domain=data["train_domain"][:20] + ["source"] * 10 + ["target"] * 4,
    )
    det.set_threshold(percentile=75, machine="fan")
    before = det.score(data["test"], SR, machine="fan", domain=data["test_domain"])
    emb = det.embed(data["test"][:3], SR)
    det.save_pretrained(tmp_path / "det")
    files = sorted(p.name for p in (tmp_path / "det").iterdir())
    assert files == ["backbones.safetensors", "banks.safetensors", "detector.json", "streams.safetensors"]
    manifest = json.loads((tmp_path / "det" / "detector.json").read_text())
    assert manifest["format"] == "fisher_asd.detector/1" and set(manifest["machines"]) == {"pump", "fan"}
    torch.manual_seed(123)  # a different global RNG state must not matter (backbone weights are stored)
    again = Detector.from_pretrained(tmp_path / "det")
    after = again.score(data["test"], SR, machine="fan", domain=data["test_domain"])
    np.testing.assert_array_equal(before, after)
    for name, value in again.embed(data["test"][:3], SR).items():
        np.testing.assert_array_equal(value, emb[name])
    assert again.thresholds_ == det.thresholds_
    assert again.weights == det.weights and again.rank_norm == "inductive" and again.k == 5


def test_threshold_and_predict(data):
    det = Detector(["logstft"], clip_samples=CLIP, rank_norm=None, threshold_percentile=90)
    det.fit(data["train"], SR, machine="pump", domain=data["train_domain"])
    train_scores = det.training_scores("pump")
    assert train_scores.shape == (34,)
    assert det.thresholds_["pump"] == pytest.approx(np.percentile(train_scores, 90))
    pred = det.predict(data["test"], SR, machine="pump", domain=data["test_domain"])
    assert pred.dtype == np.int8 and set(np.unique(pred)) <= {0, 1}
    assert pred[16:].mean() > pred[:16].mean()
    det.set_threshold(1e9)
    assert det.predict(data["test"], SR, machine="pump").sum() == 0
    assert det.predict(data["test"], SR, machine="pump", threshold=-1.0).sum() == 32
    det.set_threshold(percentile=0)
    assert det.thresholds_["pump"] == pytest.approx(train_scores.min())
    np.testing.assert_array_equal(
        det.decision_function(data["test"], SR, machine="pump"), -det.score_samples(data["test"], SR, machine="pump")
    )
    with pytest.raises(ValueError, match="exactly one"):
        det.set_threshold()


def test_banks_per_machine_add_machine_and_routing(data):
    cfgs = [StreamConfig("a", "logstft", route=["pump"]), StreamConfig("b", "logstft", options={"bins_per_band": 2})]
    det = Detector(cfgs, clip_samples=CLIP, weights={"a": 0.25, "b": 0.75}, mixup=False, oversample_ratio=None)
    det.fit(data["train"][:20], SR, machine="pump")
    assert det.machines_ == ["pump"] and len(det.banks_["a"]["pump"]) == 20
    det.fit(data["train"][20:30], SR, machine="fan", train=False)  # adds a machine, keeps pump
    assert det.machines_ == ["pump", "fan"]
    assert "fan" not in det.banks_["a"]  # stream a only scores pump
    details = det.score_details(data["test"][:4], SR, machine=["pump", "fan", "pump", "fan"])
    assert np.isnan(details["raw"]["a"][[1, 3]]).all() and not np.isnan(details["raw"]["a"][[0, 2]]).any()
    np.testing.assert_allclose(details["score"][[1, 3]], details["normalised"]["b"][[1, 3]])  # renormalised weight
    assert det.embed(data["test"][:2], SR)["b"].shape == (2, 100)


def test_bad_input(data):
    det = Detector(["logstft"], clip_samples=CLIP)
    with pytest.raises(RuntimeError, match="not fitted"):
        det.score(data["test"], SR, machine="pump")
    det.fit(data["train"][:10], SR, machine="pump")
    with pytest.raises(ValueError, match="unknown machine"):
        det.score(data["test"], SR, machine="valve")
    with pytest.raises(ValueError, match="fitted at 16000 Hz"):
        det.score(data["test"], 8000, machine="pump")
    with pytest.raises(ValueError, match="NaN"):
        det.score(np.full((2, 8000), np.nan, dtype=np.float32), SR, machine="pump")
    with pytest.raises(ValueError, match="entries"):
        det.score(data["test"][:3], SR, machine=["pump", "pump"])
    with pytest.raises(TypeError, match="sr"):
        det.score(data["test"][:3], "16k", machine="pump")
    with pytest.raises(TypeError, match="path"):
        det.score("clip.wav", SR, machine="pump")
    with pytest.raises(ValueError, match="rank_norm"):
        Detector(["logstft"], clip_samples=CLIP, rank_norm="zscore")
    with pytest.raises(ValueError, match="domain_policy"):
        Detector(["logstft"], clip_samples=CLIP, domain_policy="guess")
    with pytest.raises(KeyError, match="unknown encoder"):
        Detector(["nope"], clip_samples=CLIP)
    with pytest.raises(ValueError, match="fewer than k"):
        Detector(["logstft"], clip_samples=CLIP, mixup=False).fit(data["train"][:3], SR, machine="pump")
    with pytest.raises(ValueError, match="needs backbone weights"):
        Detector.from_preset("mef6-7m")
    with pytest.raises(ValueError, match="from_preset"):
        Detector.from_pretrained("mef6-7m")

"""Contrastive training of detector streams: a tiny LoRA stream, heads, reproducibility, early stopping, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fisher.eval.metrics import roc_auc
from fisher_asd import Detector
from fisher_asd.detector import train as train_mod
from fisher_asd.detector.synthetic import synthetic_clips
from tests.asd_tiny import tiny_beats

SR = 16000
CLIP = 8000  # the clips are 0.5 s: fix them to their own length (the default 10 s would tile them)
FAST = {"epochs": 2, "batch_size": 8, "lr": 1e-3}


@pytest.fixture(scope="module")
def data():
    kw = {"sr": SR, "seconds": 0.5}
    return {
        "train": np.concatenate(
            [synthetic_clips(20, seed=11, **kw), synthetic_clips(4, domain="target", seed=12, **kw)]
        ),
        "train_domain": ["source"] * 20 + ["target"] * 4,
        "test": np.concatenate([synthetic_clips(8, seed=13, **kw), synthetic_clips(8, anomaly=True, seed=14, **kw)]),
        "label": [0] * 8 + [1] * 8,
    }


@pytest.fixture(scope="module")
def lora_detector(data):
    """A detector with the ``beats_r16`` stream (LoRA r16 + 256-d head) on a tiny random BEATs, trained 2 epochs."""
    enc = tiny_beats()
    frozen = {k: v.clone() for k, v in enc.backbone.state_dict().items()}
    det = Detector(["beats_r16"], clip_samples=CLIP, backbones={"beats": enc}, train_heads=True, training=FAST, seed=5)
    modes = []
    stream = det.streams["beats_r16"]
    layers = stream.mef.encoder.backbone.encoder.layers
    hooks = [m.register_forward_pre_hook(lambda m, _: modes.append(m.training)) for m in (layers[0], layers[-1])]
    det.fit(data["train"], SR, machine="pump", domain=data["train_domain"])
    for h in hooks:
        h.remove()
    return det, enc, frozen, modes


def test_tiny_lora_stream_trains_and_detects(data, lora_detector):
    det, enc, frozen, modes = lora_detector
    stream = det.streams["beats_r16"]
    hist = det.history_["beats_r16"]
    assert len(hist["epochs"]) == 2 and hist["n_train"] + hist["n_val"] == 24 and hist["n_val"] >= 2
    assert modes and not any(modes)  # the backbone stayed in eval() during training
    lora_b = [p for n, p in stream.named_parameters() if n.endswith("lora_B")]
    assert len(lora_b) == 3 * 4 and all(float(p.abs().sum()) > 0 for p in lora_b)  # gradients reached every adapter
    for k, v in enc.backbone.state_dict().items():  # the shared frozen backbone is untouched
        torch.testing.assert_close(v, frozen[k], rtol=0, atol=0)
    assert set(stream.trainable_state()) == {n for n, p in stream.named_parameters() if "lora_" in n or "head" in n}
    emb = det.embed(data["test"][:2], SR)["beats_r16"]
    assert emb.shape == (2, 256)
    score = det.score(data["test"], SR, machine="pump", domain="source")
    assert roc_auc(data["label"], score) >= 0.9


def test_lora_detector_save_load_bit_exact(data, lora_detector, tmp_path):
    det, enc, _, _ = lora_detector
    before = det.score(data["test"], SR, machine="pump")
    det.save_pretrained(tmp_path / "d")
    with pytest.raises(ValueError, match="encoder objects"):
        Detector.from_pretrained(tmp_path / "d")
    again = Detector.from_pretrained(tmp_path / "d", backbones={"beats": enc})
    np.testing.assert_array_equal(again.score(data["test"], SR, machine="pump"), before)


def test_head_training_is_reproducible_and_checkpointed(data, tmp_path):
    def fit(seed: int) -> Detector:
        cfg = {**FAST, "epochs": 3, "checkpoint_dir": str(tmp_path / f"ck{seed}")}
        return Detector(["logstft"], clip_samples=CLIP, train_heads=True, training=cfg, seed=seed).fit(
            data["train"], SR, machine="pump", domain=data["train_domain"]
        )

    a, b, c = fit(1), fit(1), fit(2)
    sa, sb, sc = (d.streams["logstft"].trainable_state() for d in (a, b, c))
    assert set(sa) == {"head.linear.weight", "head.linear.bias"} and sa["head.linear.weight"].shape == (256, 201)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["head.linear.weight"], sc["head.linear.weight"])
    assert a.history_ == b.history_
    files = sorted(p.name for p in (tmp_path / "ck1" / "logstft").iterdir())
    assert files == ["best.safetensors", "epoch_01.safetensors", "epoch_02.safetensors", "epoch_03.safetensors"]
    from safetensors.torch import load_file

    best = load_file(str(tmp_path / "ck1" / "logstft" / "best.safetensors"))
    assert all(torch.equal(best[k], sa[k]) for k in sa)


def test_early_stopping_keeps_best_epoch(data, monkeypatch):
    spreads = iter([0.5, 0.9, 0.8, 0.7, 0.6, 0.5])
    monkeypatch.setattr(train_mod, "embedding_spread", lambda z: next(spreads))
    det = Detector(["logstft"], clip_samples=CLIP, train_heads=True, training={**FAST, "epochs": 10, "patience": 2})
    det.fit(data["train"], SR, machine="pump")
    hist = det.history_["logstft"]
    assert hist["stopped"] == "early_stop" and hist["best_epoch"] == 2 and len(hist["epochs"]) == 4


def test_training_scope(data):
    machines = ["pump"] * 12 + ["fan"] * 12
    det = Detector(
        ["logstft"],
        clip_samples=CLIP,
        train_heads=True,
        training={**FAST, "epochs": 1, "early_stop": None},
        train_machines=["fan"],
    )
    det.fit(data["train"], SR, machine=machines)
    hist = det.history_["logstft"]
    assert hist["n_train"] == 12 and hist["n_val"] == 0
    assert det.machines_ == ["pump", "fan"]  # banks for every machine, training on the scope only
    with pytest.raises(ValueError, match="fewer than 2 training clips"):
        Detector(["logstft"], clip_samples=CLIP, train_heads=True, train_machines=["valve"]).fit(
            data["train"], SR, machine=machines
        )


def test_mef_streams_share_prefix_in_the_detector(data):
    det = Detector(["beats_r16", "beats_r32"], clip_samples=CLIP, backbones={"beats": tiny_beats()})
    assert det.streams["beats_r16"].encoder is not det.streams["beats_r32"].encoder  # adapted copies …
    shared = det.embed(data["test"][:3], SR)  # … computed through one StreamSet (layer 0 shared, layers 1–4 adapted)
    clips = [torch.from_numpy(c) for c in data["test"][:3]]
    for name, stream in det.streams.items():
        alone = stream.embed(clips, SR)
        alone = alone / np.linalg.norm(alone, axis=1, keepdims=True)
        np.testing.assert_allclose(shared[name], alone, atol=1e-5)

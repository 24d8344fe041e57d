"""The CLS-objective options of pretraining (issue 18): band head, band targets, CLS init / decay, gain, resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fisher.pretrain import PretrainConfig, Trainer
from fisher.pretrain.band_head import BandHead
from fisher.pretrain.targets import layer_mean_targets, patch_targets
from tests.test_pretrain import _one_thread, few_files, tiny_config  # noqa: F401  (autouse fixture)

NEW = {
    "targets": {"band_target": "layer_mean", "band_norm": "running"},
    "loss": {"cls_head": "linear", "band_reduction": "mean"},
}


def _cfg(out: Path, files: list[str], **sections: dict) -> PretrainConfig:
    d = tiny_config(out, files)
    for name, values in sections.items():
        d[name] = {**d.get(name, {}), **values}
    return PretrainConfig.from_dict(d)


def test_running_norm_standardises_targets_and_tracks_statistics() -> None:
    head = BandHead(4, "none", "running", momentum=0.5).train()
    t = torch.tensor([[1.0, 2.0, 3.0, 4.0], [3.0, 2.0, 1.0, 0.0]])
    out = head.normalise(t)
    assert torch.allclose(out.mean(0), torch.zeros(4), atol=1e-6)  # first batch initialises the statistics
    assert torch.allclose(head.mean, t.mean(0)) and int(head.seen) == 1
    head.normalise(t + 2.0)
    assert torch.allclose(head.mean, t.mean(0) + 1.0)  # momentum 0.5
    head.eval()
    before = head.mean.clone()
    head.normalise(t + 100.0)
    assert torch.equal(head.mean, before)  # eval mode never updates


def test_batch_norm_and_identity_and_projection_shapes() -> None:
    t = torch.randn(6, 8)
    assert torch.equal(BandHead(8).normalise(t), t)
    z = BandHead(8, norm="batch").normalise(t)
    assert torch.allclose(z.std(0, unbiased=False), torch.ones(8), atol=1e-3)
    head = BandHead(8, projection="linear")
    assert head.project(torch.randn(5, 8)).shape == (5, 8)
    assert isinstance(BandHead(8).proj, torch.nn.Identity)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"projection": "mlp"}, "loss.cls_head"),
        ({"norm": "zscore"}, "targets.band_norm"),
        ({"momentum": 1.0}, "[0, 1)"),
    ],
)
def test_band_head_refuses_unknown_options(kwargs: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace(")", r"\)")):
        BandHead(8, **kwargs)


def test_layer_mean_target_keeps_what_instance_norm_removes() -> None:
    g = torch.Generator().manual_seed(0)
    base = torch.randn(1, 10, 16, generator=g)
    layers = [base + torch.randn(3, 1, 16, generator=g) * 3.0 for _ in range(2)]  # sequences differ by an offset
    patch_mean = patch_targets(layers).mean(dim=1)
    layer_mean = layer_mean_targets(layers)
    assert patch_mean.std(0).mean() < 0.1  # EAT's band target: the offsets are normalised away
    assert layer_mean.std(0).mean() > 0.3  # ours keeps them
    valid = torch.ones(3, 10, dtype=torch.bool)
    valid[:, 5:] = False
    padded = [torch.cat([f[:, :5], torch.full_like(f[:, 5:], 1e6)], dim=1) for f in layers]
    assert torch.allclose(layer_mean_targets(padded, valid=valid), layer_mean_targets([f[:, :5] for f in layers]))
    with pytest.raises(ValueError, match="top_k"):
        layer_mean_targets(layers, top_k=3)


@pytest.mark.parametrize(
    ("section", "key", "value", "words"),
    [
        ("targets", "band_target", "cls", "targets.band_target"),
        ("targets", "band_norm", "ema", "targets.band_norm"),
        ("loss", "cls_head", "mlp", "loss.cls_head"),
        ("data", "gain_db", -1.0, "data.gain_db"),
        ("train", "diag_every", -5, "train.diag_every"),
        ("model", "cls_init_std", 0.0, "model.cls_init_std"),
    ],
)
def test_config_refuses_bad_recipe_values(tmp_path: Path, section: str, key: str, value: object, words: str) -> None:
    d = tiny_config(tmp_path, ["x.wav"])
    d.setdefault(section, {})[key] = value
    with pytest.raises(ValueError, match=words):
        PretrainConfig.from_dict(d)


def test_cls_token_init_and_weight_decay_follow_eat(tmp_path: Path, data_dir: Path) -> None:
    files = few_files(data_dir)
    trainer = Trainer(_cfg(tmp_path / "a", files, model={"cls_init_std": 1.0}))
    cls = trainer.student.cls_token
    assert 0.6 < float(cls.detach().std()) < 1.4  # N(0, 1) as EAT's extra token
    decayed = next(g for g in trainer.optimizer.param_groups if g["weight_decay"] > 0)
    assert any(p is cls for p in decayed["params"])
    off = Trainer(_cfg(tmp_path / "b", files, optim={"cls_weight_decay": False}))
    undecayed = next(g for g in off.optimizer.param_groups if g["weight_decay"] == 0)
    assert any(p is off.student.cls_token for p in undecayed["params"])


def test_gain_augmentation_scales_crops_and_zero_gain_is_identity(tmp_path: Path, data_dir: Path) -> None:
    files = few_files(data_dir)
    plain = Trainer(_cfg(tmp_path / "p", files)).stream.batch(3)
    gained = Trainer(_cfg(tmp_path / "g", files, data={"gain_db": 6.0})).stream.batch(3)
    ratio = np.abs(gained.waves).max(axis=1) / np.abs(plain.waves).max(axis=1)
    assert np.all(ratio >= 10 ** (-6 / 20) - 1e-4) and np.all(ratio <= 10 ** (6 / 20) + 1e-4)
    assert not np.allclose(ratio, 1.0)
    again = Trainer(_cfg(tmp_path / "p2", files, data={"gain_db": 0.0})).stream.batch(3)
    assert np.array_equal(again.waves, plain.waves)


def test_new_recipe_trains_logs_diagnostics_and_resumes_exactly(tmp_path: Path, data_dir: Path) -> None:
    files = few_files(data_dir)
    extra = {**NEW, "data": {"gain_db": 6.0}}
    straight = Trainer(_cfg(tmp_path / "s", files, train={"diag_every": 2, "log_every": 2}, **extra))
    hist = straight.fit()
    assert all(np.isfinite(r["loss"]) for r in hist)
    assert "cls_spread" in hist[1] and "gamma_norm" in hist[1] and hist[0].get("clip_ratio") is not None
    first = Trainer(_cfg(tmp_path / "r", files, train={"resume": "auto", "diag_every": 2, "log_every": 2}, **extra))
    first.fit(until=2)
    second = Trainer(_cfg(tmp_path / "r", files, train={"resume": "auto", "diag_every": 2, "log_every": 2}, **extra))
    assert int(second.model.band_head.seen) == 2  # running statistics restored
    hist2 = second.fit()
    assert [r["loss"] for r in hist2] == [r["loss"] for r in hist[2:]]
    a, b = straight.model.band_head.state_dict(), second.model.band_head.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    log = (tmp_path / "s" / "log.jsonl").read_text().splitlines()
    assert '"clip_ratio"' in log[-1] and '"cls_cos"' in log[-1]

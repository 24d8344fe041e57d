"""Live collapse diagnostics (issue 18): embedding statistics, collapse flags, the sealed k-NN probe, run plots."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from fisher import Fisher, FisherConfig
from fisher.cli import main
from fisher.pretrain.diagnostics import (
    ValidationProbe,
    collapse_flags,
    embedding_stats,
    knn_predict,
    norm_gamma,
)
from fisher.pretrain.plot import plot_run

SR = 8000
CFG = FisherConfig(embed_dim=32, depth=1, num_heads=2, band_width=100, max_frames=256)


def tone(f0: float, amp: float, seed: int, seconds: float = 1.2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * f0 * t) + 1e-3 * amp * rng.standard_normal(t.size)).astype(np.float32)


def write(tmp_path, name: str, x: np.ndarray) -> str:
    path = tmp_path / f"{name}.wav"
    sf.write(path, x, SR)
    return str(path)


@pytest.fixture(scope="module")
def varied(tmp_path_factory):
    """Two tone classes, three recordings each at very different levels (diverse inputs)."""
    d = tmp_path_factory.mktemp("varied")
    items = []
    for label, f0 in (("low", 200.0), ("high", 3000.0)):
        for r, amp in enumerate((0.02, 0.1, 0.5)):
            items.append((write(d, f"{label}{r}", tone(f0 * (1 + 0.02 * r), amp, seed=r)), label, f"{label}{r}"))
    return ValidationProbe(items, CFG, seconds=0.4, max_segments=3, k=3)


def collapsed_model() -> Fisher:
    torch.manual_seed(0)
    model = Fisher(CFG)
    with torch.no_grad():
        model.blocks[-1].norm2.weight.zero_()
        model.blocks[-1].norm2.bias.copy_(torch.linspace(-1.0, 1.0, CFG.embed_dim))
    return model


# ---------------------------------------------------------------------------------------------- (a) flags on a model
def test_constant_cls_model_is_flagged_and_random_init_is_not(varied):
    assert len(varied) == 18 and varied.classes == ["high", "low"]
    stats = varied.evaluate(collapsed_model())
    assert stats["cls_spread"] == pytest.approx(0.0, abs=1e-9)
    assert stats["cls_cos"] == pytest.approx(1.0, abs=1e-9)
    assert stats["cls_rank"] == 0.0 and stats["gamma_norm"] == 0.0
    flags = collapse_flags(stats)
    text = " | ".join(flags)
    assert "CLS spread" in text and "CLS mean pairwise cosine" in text and "CLS effective rank" in text
    assert "the CLS is nearly the same for every clip" in text

    torch.manual_seed(0)
    healthy = Fisher(CFG)
    stats = varied.evaluate(healthy)
    assert collapse_flags(stats) == [], stats
    assert set(stats) == {
        "cls_cos",
        "cls_spread",
        "cls_rank",
        "cls_patch_gap",
        "mean_cos",
        "mean_spread",
        "probe_cls",
        "probe_mean",
        "gamma_norm",
    }
    assert stats["gamma_norm"] == pytest.approx(norm_gamma(healthy)) == pytest.approx(CFG.embed_dim**0.5)
    assert varied.evaluate(healthy) == stats  # deterministic


def test_evaluate_restores_the_mode_and_needs_no_grad(varied):
    model = collapsed_model().train()
    varied.evaluate(model)
    assert model.training
    model.eval()
    varied.evaluate(model)
    assert not model.training
    assert all(p.grad is None for p in model.parameters())


# ---------------------------------------------------------------------------------------------- (b) statistics
def test_embedding_stats_on_hand_made_rows():
    same = torch.tensor([[1.0, 2.0, 3.0]] * 4)
    s = embedding_stats(same, same)
    assert s["cls_spread"] == 0.0 and s["cls_cos"] == pytest.approx(1.0) and s["cls_rank"] == 0.0
    assert s["mean_spread"] == 0.0 and s["mean_cos"] == pytest.approx(1.0) and s["cls_patch_gap"] == 0.0

    eye = torch.eye(4)
    s = embedding_stats(eye, 2 * eye)
    assert s["cls_cos"] == pytest.approx(0.0, abs=1e-12) and s["mean_cos"] == pytest.approx(0.0, abs=1e-12)
    assert s["cls_rank"] == pytest.approx(3.0)  # centred: 3 equal singular values
    assert s["cls_patch_gap"] == pytest.approx(1.0)
    assert s["cls_spread"] == pytest.approx(np.sqrt(0.75) / 0.5)

    line = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])  # variation along one direction only
    assert embedding_stats(line, line)["cls_rank"] == pytest.approx(1.0)
    zeros = torch.zeros(3, 4)
    s = embedding_stats(zeros, zeros)  # zero norms are guarded
    assert all(np.isfinite(v) for v in s.values()) and s["cls_spread"] == 0.0

    with pytest.raises(ValueError, match="M >= 2"):
        embedding_stats(torch.ones(1, 3), torch.ones(1, 3))
    with pytest.raises(ValueError, match="same shape"):
        embedding_stats(torch.ones(3, 3), torch.ones(3, 2))


def test_collapse_flags_thresholds_and_missing_keys():
    assert collapse_flags({}) == []
    assert collapse_flags({"cls_spread": 0.5, "cls_cos": 0.9, "cls_rank": 4.0, "loss": 1.0}) == []
    flags = collapse_flags({"cls_spread": 0.0031})
    assert flags == ["CLS spread 0.0031 < 0.02: the CLS is nearly the same for every clip"]
    assert len(collapse_flags({"val_cls_cos": 0.999, "val_cls_rank": 1.1})) == 2  # log-record keys
    assert collapse_flags({"cls_cos": 0.999}, max_cos=0.9995) == []
    assert "not finite" in collapse_flags({"cls_spread": float("nan")})[0]


# ---------------------------------------------------------------------------------------------- (c) sealed k-NN probe
def test_probe_is_perfect_on_separable_tones(tmp_path):
    items = [
        (write(tmp_path, f"{label}{r}", tone(f0, 0.3, seed=r)), label, f"{label}{r}")
        for label, f0 in (("low", 200.0), ("high", 3000.0))
        for r in range(3)
    ]
    torch.manual_seed(0)
    stats = ValidationProbe(items, CFG, seconds=0.4, max_segments=3, k=3).evaluate(Fisher(CFG))
    assert stats["probe_cls"] == 1.0 and stats["probe_mean"] == 1.0


def test_probe_never_matches_a_query_to_its_own_recording(tmp_path):
    # label A = {tone X, tone Y}, label B = {tone X, tone Y}: only a segment's own recording has its label and signal
    items = [
        (write(tmp_path, "a_x", tone(200.0, 0.3, seed=1)), "A", "a_x"),
        (write(tmp_path, "a_y", tone(3000.0, 0.3, seed=2)), "A", "a_y"),
        (write(tmp_path, "b_x", tone(200.0, 0.3, seed=3)), "B", "b_x"),
        (write(tmp_path, "b_y", tone(3000.0, 0.3, seed=4)), "B", "b_y"),
    ]
    probe = ValidationProbe(items, CFG, seconds=0.4, max_segments=3, k=1)
    torch.manual_seed(0)
    assert probe.evaluate(Fisher(CFG))["probe_cls"] == 0.0


def test_knn_predict_sealing_and_ties():
    x = torch.tensor([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [0.01, 1.0]])
    labels = np.array([0, 0, 1, 1])
    assert knn_predict(x, labels, [0, 1, 2, 3], k=1).tolist() == [0, 0, 1, 1]  # unsealed: the twin row
    assert knn_predict(x, labels, [0, 0, 1, 1], k=1).tolist() == [1, 1, 0, 0]  # sealed: other group only
    assert knn_predict(x, labels, [0, 0, 1, 1], k=1, center=False).tolist() == [1, 1, 0, 0]
    # tie (one vote each): the label of the nearest neighbour wins
    y = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
    assert knn_predict(y, np.array([0, 1, 0]), [0, 1, 2], k=2).tolist()[0] == 1


def test_probe_input_errors(tmp_path):
    low = write(tmp_path, "low", tone(200.0, 0.3, seed=0))
    high = write(tmp_path, "high", tone(3000.0, 0.3, seed=1))
    with pytest.raises(ValueError, match="2 labels"):
        ValidationProbe([(low, "a", "r1"), (high, "a", "r2")], CFG)
    with pytest.raises(ValueError, match="2 labels and 2 recordings"), pytest.warns(UserWarning, match="one recording"):
        ValidationProbe([(low, "a", "r1"), (high, "b", "r1")], CFG)
    missing = tmp_path / "nope.wav"
    with pytest.raises(ValueError, match="nope.wav"):
        ValidationProbe([(low, "a", "r1"), (missing, "b", "r2")], CFG)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio")
    with pytest.raises(ValueError, match="junk.wav"):
        ValidationProbe([(low, "a", "r1"), (junk, "b", "r2")], CFG)
    with pytest.raises(ValueError, match="none"):
        ValidationProbe([], CFG)
    with pytest.raises(ValueError, match="k >= 1"):
        ValidationProbe([(low, "a", "r1"), (high, "b", "r2")], CFG, k=0)


def test_probe_from_manifest_and_npz_first_channel(tmp_path):
    rows = ["path,dataset,label,recording_id,fs_hz"]
    for i, (label, f0) in enumerate((("low", 200.0), ("high", 3000.0), ("low", 200.0), ("high", 3000.0))):
        two = np.stack([tone(f0, 0.3, seed=i), tone(1000.0, 0.3, seed=i)])  # channel 1 carries no label
        np.savez(tmp_path / f"r{i}.npz", sig=two, fs=SR)
        rows.append(f"r{i}.npz,toy,{label},r{i},{SR}")
    rows.append(f"other.npz,other,x,o,{SR}")  # filtered out by datasets=
    (tmp_path / "MANIFEST.csv").write_text("\n".join(rows) + "\n")
    probe = ValidationProbe.from_manifest(tmp_path / "MANIFEST.csv", CFG, datasets=["toy"], seconds=0.4, k=1)
    assert len(probe) == 4 * 3 and probe.classes == ["high", "low"]
    torch.manual_seed(0)
    assert probe.evaluate(Fisher(CFG))["probe_cls"] == 1.0
    with pytest.raises(ValueError, match="no rows"):
        ValidationProbe.from_manifest(tmp_path / "MANIFEST.csv", CFG, datasets=["absent"])
    with pytest.raises(ValueError, match="manifest not found"):
        ValidationProbe.from_manifest(tmp_path / "missing.csv", CFG)


# ---------------------------------------------------------------------------------------------- (d) plots and CLI
def synthetic_log(run_dir, steps: int = 30) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for s in range(1, steps + 1):
        rec = {"step": s, "loss": 2.0 / s, "loss_patch": 1.5 / s, "loss_band": 0.5 / s, "lr": 1e-4, "grad_norm": None}
        rec.update(cls_std=0.5 * 0.8**s, pred_std=0.3, target_std=0.4)
        if s % 10 == 0:
            rec.update(val_cls_spread=0.3 * 0.7**s, val_cls_cos=1 - 0.1 * 0.7**s, val_cls_rank=8 * 0.9**s)
            rec.update(val_probe_cls=0.9 - 0.01 * s, val_probe_mean=0.8, val_gamma_norm=5.0 + s / 10)
        lines.append(json.dumps(rec))
    (run_dir / "log.jsonl").write_text("\n".join(lines) + "\n")


def test_plot_run_writes_a_png(tmp_path):
    run = tmp_path / "run"
    synthetic_log(run)
    out = plot_run(run)
    assert out == run / "curves.png" and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(run.glob(".*.tmp"))


def test_plot_run_errors(tmp_path):
    with pytest.raises(ValueError, match="no training log"):
        plot_run(tmp_path)
    (tmp_path / "log.jsonl").write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        plot_run(tmp_path)
    (tmp_path / "log.jsonl").write_text('{"step": 1, "loss": 1.0}\n{bad\n{"step": 3, "loss": 0.5}\n')
    with pytest.raises(ValueError, match=r"log.jsonl:2"):
        plot_run(tmp_path)
    (tmp_path / "log.jsonl").write_text('{"step": 1, "unrelated": 1.0}\n')
    with pytest.raises(ValueError, match="none of the plotted keys"):
        plot_run(tmp_path)
    (tmp_path / "log.jsonl").write_text('{"step": 1, "loss": 1.0}\n{"step": 2, "lo')  # a line being written
    assert plot_run(tmp_path).is_file()


def test_cli_plot(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.jsonl").write_text('{"step": 1, "loss": 1.0}\n{"step": 2, "loss": 0.5, "val_probe_cls": 0.7}\n')
    assert main(["pretrain", "plot", str(run), "-o", str(tmp_path / "x.png")]) == 0
    assert (tmp_path / "x.png").is_file() and "x.png" in capsys.readouterr().out
    assert not (run / "curves.png").exists()
    assert main(["pretrain", "plot", str(run)]) == 0 and (run / "curves.png").is_file()
    assert main(["pretrain", "plot", str(tmp_path / "empty")]) == 1
    assert "no training log" in capsys.readouterr().err
    assert main(["pretrain"]) == 1  # the training entry point still asks for --config
    assert "--config" in capsys.readouterr().err

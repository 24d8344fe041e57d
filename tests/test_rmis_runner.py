"""Windowing, embedding cache, encoders, the AD / FD runners and the demo table."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import soundfile as sf

from fisher.eval.baseline import LogSTFT
from fisher.eval.datasets import SignalItem, cwru_manifest
from fisher.eval.rmis import (
    demo_table,
    embed_files,
    format_ad_report,
    format_fd_report,
    resolve_encoder,
    rmis_windows,
    run_anomaly_detection,
    run_fault_diagnosis,
    segments,
)


def test_rmis_windows():
    sr = 100
    x = np.arange(1200, dtype=np.float32)  # 12 s
    w = rmis_windows(x, sr, 10.0)
    xc = x - x.mean()
    assert len(w) == 2 and np.array_equal(w[0], xc[:1000]) and np.array_equal(w[1], xc[200:])
    assert len(rmis_windows(np.ones(1030, np.float32), sr, 10.0)) == 1  # leftover 3 % < 5 %
    assert len(rmis_windows(np.ones(1050, np.float32), sr, 10.0)) == 2  # leftover exactly 5 %
    short = rmis_windows(np.ones(300, np.float32) * 2, sr, 10.0)
    assert len(short) == 1 and short[0].shape == (1000,) and not short[0].any()  # mean removed, zero padded
    assert rmis_windows(np.arange(300.0), sr, 10.0, pad=False)[0].shape == (300,)
    with pytest.raises(ValueError, match="window_s"):
        rmis_windows(x, sr, 0)


def test_segments():
    x = np.arange(2600)
    seg = segments(x, 100, 10.0)  # remainder 6 s > 5 s: last 10 s
    assert [s[0] for s in seg] == [0, 1000, 1600]
    assert len(segments(np.arange(2400), 100, 10.0)) == 2  # remainder 4 s dropped
    assert len(segments(np.arange(500), 100, 10.0)) == 1


class CountingEncoder(LogSTFT):
    cache_key = "counting-logstft"

    def __init__(self):
        super().__init__()
        self.calls = 0

    def embed(self, wave, sr):
        self.calls += 1
        return super().embed(wave, sr)


def _wavs(tmp_path, n=3, sr=8000):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        p = tmp_path / f"c{i}.wav"
        sf.write(p, (rng.normal(size=sr) * 0.1).astype(np.float32), sr)
        paths.append(SignalItem(p, "x", f"g{i}"))
    return paths


def test_embed_cache(tmp_path):
    items = _wavs(tmp_path)
    enc = CountingEncoder()
    first = embed_files(items, enc, window_s=1.0, cache_dir=tmp_path / "cache")
    assert enc.calls == 3 and first[0].shape == (1, 101)
    second = embed_files(items, enc, window_s=1.0, cache_dir=tmp_path / "cache")
    assert enc.calls == 3 and all(np.array_equal(a, b) for a, b in zip(first, second))
    embed_files(items, enc, window_s=0.5, cache_dir=tmp_path / "cache")  # other settings: recomputed
    assert enc.calls == 6
    sf.write(items[0].path, np.zeros(8000, np.float32) + 0.01, 8000)  # changed file: recomputed
    embed_files(items, enc, window_s=1.0, cache_dir=tmp_path / "cache")
    assert enc.calls == 7
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_mixed_rates_and_resample(tmp_path):
    items = _wavs(tmp_path, 2)
    sf.write(tmp_path / "c9.wav", np.zeros(16000, np.float32), 16000)
    items.append(SignalItem(tmp_path / "c9.wav", "x", "g9"))
    with pytest.raises(ValueError, match="mixed sampling rates"):
        embed_files(items, LogSTFT(), window_s=1.0)
    out = embed_files(items, LogSTFT(), window_s=1.0, resample_to=8000)
    assert {e.shape for e in out} == {(1, 101)}


def _ad_layout(data_dir, tmp_path):
    src = data_dir / "dcase2020_task2_dev_id00"
    normals = sorted((src / "train").glob("*.wav"))
    for sub in ("train", "test"):
        (tmp_path / "fan" / sub).mkdir(parents=True)
    for p in normals[:20]:
        (tmp_path / "fan" / "train" / p.name).symlink_to(p)
    for p in normals[20:]:
        (tmp_path / "fan" / "test" / p.name).symlink_to(p)
    anomaly = next((src / "test").glob("*.wav"))
    (tmp_path / "fan" / "test" / anomaly.name).symlink_to(anomaly)
    return tmp_path


def test_run_anomaly_detection_real_clips(data_dir, tmp_path):
    root = _ad_layout(data_dir, tmp_path / "dev")
    report = run_anomaly_detection(
        {"dev": root}, year=2020, encoder="logstft", scores_dir=tmp_path / "scores", cache_dir=tmp_path / "cache"
    )
    res = report.results["dev"]
    assert len(report.clips) == 31 and np.isnan(report.scores).sum() == 20
    assert res.per_section[0]["machine"] == "fan" and 0.0 <= res.per_section[0]["auc"] <= 1.0
    assert report.dataset_score == pytest.approx(100 * (res.per_section[0]["auc"] + res.per_section[0]["pauc"]) / 2)
    assert (tmp_path / "scores" / "dev" / "anomaly_score_fan_id_00.csv").is_file()
    text = format_ad_report(report)
    assert "RMIS dataset score" in text and "fan" in text
    assert report.to_dict()["subsets"]["dev"]["year"] == 2020


def test_run_anomaly_detection_split_banks(tmp_path):
    rng = np.random.default_rng(1)
    sr = 8000
    for sub in ("dev", "eval"):
        for split, names in {
            "train": [f"section_00_{d}_train_normal_{i:04d}_a.wav" for d in ("source", "target") for i in range(3)],
            "test": [
                f"section_00_{d}_test_{lab}_{i:04d}_a.wav"
                for d in ("source", "target")
                for lab in ("normal", "anomaly")
                for i in range(2)
            ],
        }.items():
            folder = tmp_path / sub / "fan" / split
            folder.mkdir(parents=True)
            for name in names:
                scale = 0.5 if "anomaly" in name else 0.1
                sf.write(folder / name, (rng.normal(size=sr // 2) * scale).astype(np.float32), sr)
    report = run_anomaly_detection({"dev": tmp_path / "dev", "eval": tmp_path / "eval"}, year=2024, window_s=0.5)
    assert set(report.results) == {"dev", "eval"} and report.rmis_score is not None
    assert set(report.results["dev"].per_section[0]) == {"machine", "section", "auc_source", "auc_target", "pauc"}


def test_run_fault_diagnosis_cwru(data_dir):
    items = [it for it in cwru_manifest(data_dir / "cwru_12k_drive_end") if it.meta["diameter_mils"] != 21]
    report = run_fault_diagnosis(items, encoder="logstft", name="cwru", runs=3, window_s=2.0, segment_s=2.0)
    assert report.n_items == 24 * 5 and report.n_groups == 24
    assert report.result.classes == ["ball", "inner_race", "outer_race"]
    assert 0 <= report.result.score <= 100 and len(report.result.accuracy) == 3
    assert "macro acc" in format_fd_report(report)
    assert report.to_dict()["rmis_score"] == report.result.rmis_score


def test_resolve_encoder_errors():
    assert resolve_encoder("logstft").name == "logstft"
    with pytest.raises(TypeError, match="embed"):
        resolve_encoder(object())
    with pytest.raises(ValueError, match="unknown FISHER scale"):
        resolve_encoder("random-huge")


def test_random_fisher_encoder_matches_model():
    fisher = pytest.importorskip("fisher.model.network")
    enc = resolve_encoder("random-tiny")
    again = resolve_encoder("random-tiny")
    assert enc.cache_key == again.cache_key and enc.cache_key.startswith("fisher-")
    assert isinstance(enc.model, fisher.Fisher)
    from fisher.eval.rmis import embed_signal

    x = np.random.default_rng(0).normal(size=6000).astype(np.float32) * 0.1  # 0.75 s at 8 kHz
    emb = embed_signal(x, 8000, enc, window_s=1.0)
    padded = np.pad(x - x.mean(), (0, 2000))
    direct = enc.model.embed(padded, 8000, long="truncate", pad_frames=True)
    assert emb.shape == (1, enc.model.embedding_dim(8000)) and np.allclose(emb[0], direct, atol=1e-4)


def _demo_inputs():
    rng = np.random.default_rng(0)
    labels = [0] * 20 + [0] * 10 + [1] * 10
    split = ["train"] * 20 + ["test"] * 20
    good = np.vstack([rng.normal(size=(30, 4)) + 5, rng.normal(size=(10, 4)) - 5])
    bad = rng.normal(size=(40, 6))
    return {"good": good, "noise": bad}, labels, split


def test_demo_table_with_png(tmp_path):
    pytest.importorskip("matplotlib")
    emb, labels, split = _demo_inputs()
    table = demo_table(emb, labels, split, roc_png=tmp_path / "roc.png")
    assert [r["encoder"] for r in table.rows] == ["good", "noise"]
    assert table.rows[0]["auc"] == 1.0 and table.rows[0]["dim"] == 4
    assert "pAUC@0.1" in str(table) and table.png.read_bytes()[:4] == b"\x89PNG" and not table.notes


def test_demo_table_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    emb, labels, split = _demo_inputs()
    table = demo_table(emb, labels, split, roc_png=tmp_path / "roc.png")
    assert table.png is None and "fisher-signal[plot]" in table.notes[0]
    assert not (tmp_path / "roc.png").exists()
    with pytest.raises(ValueError, match="must all be normal"):
        demo_table(emb, [1] + labels[1:], split)
    with pytest.raises(ValueError, match="rows"):
        demo_table({"x": np.zeros((3, 2))}, labels, split)


def test_run_anomaly_detection_anonymised_eval(tmp_path):
    rng = np.random.default_rng(2)
    names = {
        "train": [f"section_00_{d}_train_normal_{i:04d}_a.wav" for d in ("source", "target") for i in range(2)],
        "test": [f"section_00_{i:04d}.wav" for i in range(4)],
    }
    for split, files in names.items():
        (tmp_path / "eval" / "fan" / split).mkdir(parents=True)
        for name in files:
            sf.write(tmp_path / "eval" / "fan" / split / name, (rng.normal(size=4000) * 0.1).astype(np.float32), 8000)
    report = run_anomaly_detection({"eval": tmp_path / "eval"}, year=2023, window_s=0.5, scores_dir=tmp_path / "out")
    assert report.results == {"eval": None} and report.dataset_score is None
    assert "labels unknown" in format_ad_report(report)
    written = (tmp_path / "out" / "eval" / "anomaly_score_fan_section_00_test.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in written] == names["test"]


def test_resolve_encoder_precision_suffix():
    from fisher.eval.rmis import resolve_encoder

    enc = resolve_encoder("random-tiny@bf16")
    assert enc.precision == "bf16" and enc.cache_key.endswith("-bf16")
    assert resolve_encoder("random-tiny").precision == "fp32"
    with pytest.raises(ValueError, match="no reduced-precision"):
        resolve_encoder("logstft@int8")

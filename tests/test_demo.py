"""``fisher demo``: the calibrated synthetic task, --json, --data on a small folder, the figure, the weight choice."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import soundfile as sf

from fisher import Fisher, FisherConfig
from fisher.cli import main
from fisher.demo.task import DEFAULT_SNR_DB, synthetic_task
from fisher.demo.weights import load_demo_model
from fisher.eval.baseline import LogSTFT
from fisher.eval.rmis import demo_table
from fisher.signals.synth import bearing_signal

PNG = b"\x89PNG\r\n\x1a\n"
OFFICIAL = ["tiny", "mini", "small"]
FAST = ["--random-init", "--rates", "16000", "--clips", "2", "--seconds", "0.5"]


def test_default_task_logstft_auc_in_calibrated_band():
    task = synthetic_task(48000)  # the defaults of `fisher demo`
    assert task.counts == {"bank": 20, "test_normal": 20, "test_anomaly": 20} and task.task["snr_db"] == DEFAULT_SNR_DB
    emb = LogSTFT().embed(list(task), task.sr)
    auc = demo_table({"logstft": emb}, task.labels, task.split).rows[0]["auc"]
    assert 0.6 <= auc <= 0.9, auc
    assert auc == pytest.approx(0.805, abs=0.03)  # the value stated in docs/index.md


def test_bearing_signal_is_seeded_and_checks_input():
    a = bearing_signal(16000, 0.5, fault=True, seed=3)
    assert a.dtype == np.float32 and a.shape == (8000,) and np.abs(a).max() < 1
    assert np.array_equal(a, bearing_signal(16000, 0.5, fault=True, seed=3))
    assert not np.array_equal(a, bearing_signal(16000, 0.5, fault=False, seed=3))
    with pytest.raises(ValueError, match="seconds"):
        bearing_signal(16000, 0.0)
    with pytest.raises(ValueError, match="clips"):
        synthetic_task(16000, clips=0)


def test_demo_json(capsys, tmp_path):
    fig = tmp_path / "out" / "demo.png"
    assert main(["demo", *FAST, "--json", "--figure", str(fig)]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)  # stdout holds the JSON object and nothing else
    keys = {"model", "requested_model", "weights", "weights_description", "task", "rates", "encoders", "warnings"}
    assert set(result) == keys | {"figure"}
    assert result["weights"] == "random" and result["model"] == "tiny" and result["requested_model"] == "tiny"
    assert "only 2 anomalous and 2 normal" in result["warnings"][0]  # below MIN_AUC_CLIPS: the AUC is flagged
    assert "warning: only 2 anomalous" in captured.err
    assert result["task"]["name"] == "synthetic-bearing" and result["task"]["sr"] == 16000
    assert set(result["encoders"]) == {"FISHER", "logstft"}
    for row in result["encoders"].values():
        assert set(row) == {"auc", "pauc", "dim"} and 0 <= row["auc"] <= 1 and 0 <= row["pauc"] <= 1
    assert result["encoders"]["FISHER"]["dim"] == 384 and result["encoders"]["logstft"]["dim"] == 201
    assert result["rates"] == [{"sr": 16000.0, "n_fft": 400, "hop": 160, "bands": 2, "dim": 384, "mean_pool_dim": 192}]
    pytest.importorskip("matplotlib")
    assert result["figure"] == str(fig) and fig.read_bytes()[:8] == PNG
    assert [p.name for p in fig.parent.iterdir()] == ["demo.png"]  # written atomically: no temporary file left


def test_demo_figure_skipped_without_matplotlib(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    fig = tmp_path / "demo.png"
    assert main(["demo", *FAST, "--figure", str(fig)]) == 0
    out = capsys.readouterr().out
    assert "figure skipped" in out and "fisher-signal[plot]" in out and not fig.exists()


def _write(path, wave, sr):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, wave, sr)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "mydata"
    for i in range(4):
        _write(root / "normal" / f"n{i}.wav", bearing_signal(12000, 0.5, seed=i), 12000)
    for i in range(2):
        _write(root / "fault" / f"f{i}.flac", bearing_signal(12000, 0.5, fault=True, snr_db=0, seed=50 + i), 12000)
    (root / "inner_race").mkdir()
    np.savez(root / "inner_race" / "r0.npz", x=bearing_signal(12000, 0.5, fault=True, seed=60), fs=12000)
    (root / "normal" / "README.txt").write_text("not a signal")
    return root


def test_demo_data_folder(folder, capsys, tmp_path):
    fig = tmp_path / "data.png"
    assert main(["demo", "--data", str(folder), "--random-init", "--json", "--figure", str(fig)]) == 0
    result = json.loads(capsys.readouterr().out)
    task = result["task"]
    assert task["name"] == "data" and task["sr"] == 12000
    assert (task["bank"], task["test_normal"], task["test_anomaly"]) == (2, 2, 3)
    assert task["classes"] == {"normal": 4, "fault": 2, "inner_race": 1}
    assert result["encoders"]["logstft"]["dim"] == 151 and result["encoders"]["FISHER"]["dim"] == 192
    pytest.importorskip("matplotlib")
    assert fig.read_bytes()[:8] == PNG


def test_demo_data_manifest(folder, capsys):
    rows = ["path,label,group,split"] + [
        f"normal/n{i}.wav,normal,n{i},{'train' if i < 3 else 'test'}" for i in range(4)
    ]
    rows += [f"fault/f{i}.flac,outer,f{i},test" for i in range(2)]
    (folder / "m.csv").write_text("\n".join(rows) + "\n")
    assert main(["demo", "--data", str(folder / "m.csv"), "--random-init", "--json", "--figure", ""]) == 0
    task = json.loads(capsys.readouterr().out)["task"]
    assert (task["bank"], task["test_normal"], task["test_anomaly"]) == (3, 1, 2)


@pytest.mark.parametrize(
    "case, message",
    [
        ("empty_normal", "'normal/' holds no signal files"),
        ("no_normal", "expected a 'normal/' subfolder"),
        ("empty_anomaly", "anomaly folder 'fault/' holds no signal files"),
        ("no_anomaly", "no anomaly subfolder"),
        ("unreadable", "bad.wav"),
        ("mixed_rates", "one sampling rate"),
        ("one_normal", "at least 2 normal files"),
    ],
)
def test_demo_data_errors(tmp_path, capsys, case, message):
    root = tmp_path / "d"
    (root / "normal").mkdir(parents=True)
    (root / "fault").mkdir()
    if case != "empty_normal":
        _write(root / "normal" / "n0.wav", bearing_signal(16000, 0.5, seed=0), 16000)
        if case != "one_normal":
            _write(root / "normal" / "n1.wav", bearing_signal(16000, 0.5, seed=1), 16000)
    if case not in ("empty_anomaly", "no_anomaly"):
        _write(root / "fault" / "f0.wav", bearing_signal(16000, 0.5, fault=True, seed=2), 16000)
    if case == "no_anomaly":
        (root / "fault").rmdir()
    if case == "no_normal":
        (root / "normal" / "n0.wav").unlink()
        (root / "normal" / "n1.wav").unlink()
        (root / "normal").rmdir()
    if case == "unreadable":
        (root / "fault" / "bad.wav").write_bytes(b"RIFF not really a wav file")
    if case == "mixed_rates":
        _write(root / "fault" / "f1.wav", bearing_signal(8000, 0.5, fault=True, seed=3), 8000)
    assert main(["demo", "--data", str(root), "--random-init", "--figure", ""]) == 1
    assert message in capsys.readouterr().err


def test_demo_data_rejects_snr(capsys, folder):
    assert main(["demo", "--data", str(folder), "--snr-db", "-5", "--random-init"]) == 1
    assert "--snr-db" in capsys.readouterr().err


def _fake_hub(monkeypatch, *, official, demo=True):
    """Registry with (or without) a shipped 'demo' model; official weights raise ``official`` (or load)."""
    names = OFFICIAL + (["demo"] if demo else [])
    monkeypatch.setattr("fisher.demo.weights.registry_names", lambda: names)
    calls = []

    def from_pretrained(name, **kwargs):
        calls.append((name, kwargs))
        if name == "demo":
            return Fisher(FisherConfig.preset("tiny", depth=1))
        if official is not None:
            raise official
        return Fisher(FisherConfig.preset("tiny", depth=2))

    monkeypatch.setattr(Fisher, "from_pretrained", staticmethod(from_pretrained))
    return calls


def test_weights_prefer_cached_official(monkeypatch):
    calls = _fake_hub(monkeypatch, official=None)
    chosen = load_demo_model("tiny")
    assert chosen.weights == "official" and chosen.model.config.depth == 2
    assert calls == [("tiny", {"local_files_only": True})]  # never the network by default


def test_weights_fall_back_to_shipped_demo(monkeypatch, capsys):
    _fake_hub(monkeypatch, official=FileNotFoundError("not in the local cache. more"))
    chosen = load_demo_model("tiny")
    assert chosen.weights == "demo" and chosen.model.config.depth == 1 and "not in the local" in chosen.description
    assert main(["demo", "--rates", "16000", "--clips", "2", "--seconds", "0.5", "--json", "--figure", ""]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["weights"] == "demo" and result["model"] == "demo" and result["requested_model"] == "tiny"


def test_weights_random_without_demo(monkeypatch):
    _fake_hub(monkeypatch, official=FileNotFoundError("not cached"), demo=False)
    chosen = load_demo_model("mini")
    assert chosen.weights == "random" and chosen.model.embed_dim == 256 and "RANDOM" in chosen.description
    assert load_demo_model("tiny", random_init=True).weights == "random"


def test_weights_do_not_swallow_real_errors(monkeypatch, tmp_path):
    _fake_hub(monkeypatch, official=RuntimeError("corrupt safetensors file"))
    with pytest.raises(RuntimeError, match="corrupt"):
        load_demo_model("tiny")
    monkeypatch.undo()
    with pytest.raises(FileNotFoundError):  # an explicit path that does not exist is an error, not random weights
        load_demo_model(str(tmp_path / "missing-model"))


@pytest.mark.parametrize("sr, bands", [(8000, 1), (16000, 2), (48000, 6)])
def test_figure_labels_the_tokenizer_bands(sr, bands):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from fisher.demo.figure import _spectrogram_panel

    ax = Figure().subplots()
    _spectrogram_panel(ax, bearing_signal(sr, 0.5, seed=1), sr, 100, "one clip")
    assert [t.get_text() for t in ax.texts] == [f"band {b}" for b in range(1, bands + 1)]
    assert len(ax.lines) == bands - 1 and f"{bands} band" in ax.get_title()  # a boundary between adjacent bands

"""Signal reading, manifests and the CWRU / folder adapters."""

from __future__ import annotations

import csv
import hashlib

import numpy as np
import pytest
import soundfile as sf

from fisher.eval.datasets import (
    SignalItem,
    check_single_sr,
    cwru_manifest,
    folder_manifest,
    read_manifest,
    read_signal,
    write_manifest,
)


def _manifest_rows(data_dir):
    with open(data_dir / "MANIFEST.csv", newline="") as fh:
        return {r["path"]: r for r in csv.DictReader(fh)}


def _check_sha(data_dir, rel):
    want = _manifest_rows(data_dir)[rel]["sha256"]
    assert hashlib.sha256((data_dir / rel).read_bytes()).hexdigest() == want


def test_read_wav_flac_channels(tmp_path):
    stereo = np.stack([np.linspace(-0.5, 0.5, 800), np.full(800, 0.25)], axis=1).astype(np.float32)
    sf.write(tmp_path / "s.wav", stereo, 8000, subtype="FLOAT")
    sf.write(tmp_path / "m.flac", stereo[:, 0], 16000, subtype="PCM_16")
    x, sr = read_signal(tmp_path / "s.wav", channel=1)
    assert sr == 8000 and np.allclose(x, 0.25) and x.dtype == np.float32
    assert np.allclose(read_signal(tmp_path / "s.wav", channel="mean")[0], stereo.mean(axis=1))
    with pytest.raises(ValueError, match="has 2 channels"):
        read_signal(tmp_path / "s.wav")
    with pytest.raises(ValueError, match="does not exist"):
        read_signal(tmp_path / "s.wav", channel=2)
    x, sr = read_signal(tmp_path / "m.flac")
    assert sr == 16000 and np.allclose(x, stereo[:, 0], atol=1e-4)
    with pytest.raises(ValueError, match="says sr = 16000"):
        read_signal(tmp_path / "m.flac", sr=8000)


def test_read_npz_and_mat(tmp_path):
    from scipy.io import savemat

    np.savez(tmp_path / "a.npz", DE=np.arange(10.0), FE=np.ones(10), fs=np.array(12000), meta=np.array("{}"))
    x, sr = read_signal(tmp_path / "a.npz", channel="FE")
    assert sr == 12000 and np.array_equal(x, np.ones(10))
    with pytest.raises(ValueError, match="choose one with channel"):
        read_signal(tmp_path / "a.npz")
    with pytest.raises(ValueError, match="no unique signal 'BA'"):
        read_signal(tmp_path / "a.npz", channel="BA")
    savemat(tmp_path / "b.mat", {"X105_DE_time": np.arange(5.0)[:, None], "X105RPM": np.array([[1797]])})
    with pytest.raises(ValueError, match="stores no sampling rate"):
        read_signal(tmp_path / "b.mat", channel="DE")
    x, sr = read_signal(tmp_path / "b.mat", channel="DE", sr=12000)
    assert sr == 12000 and np.array_equal(x, np.arange(5.0, dtype=np.float32))


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_signal(tmp_path / "none.wav")
    (tmp_path / "x.txt").write_text("1,2")
    with pytest.raises(ValueError, match="unsupported signal format"):
        read_signal(tmp_path / "x.txt")
    (tmp_path / "bad.wav").write_bytes(b"not a wav file")
    with pytest.raises(ValueError, match="cannot read audio"):
        read_signal(tmp_path / "bad.wav")
    (tmp_path / "bad.npz").write_bytes(b"zip?")
    with pytest.raises(ValueError, match="cannot read"):
        read_signal(tmp_path / "bad.npz")


def test_cwru_adapter(data_dir):
    root = data_dir / "cwru_12k_drive_end"
    items = cwru_manifest(root)
    assert len(items) == 36 and {it.label for it in items} == {"inner_race", "ball", "outer_race"}
    assert all(it.group == it.path.stem and it.channel == "DE" for it in items)
    ir = next(it for it in items if it.path.stem == "IR014_2")
    assert ir.meta == {"load_hp": 2, "diameter_mils": 14, "position": ""}
    assert next(it for it in items if it.path.stem == "OR021at6_3").meta["position"] == "6"
    _check_sha(data_dir, "cwru_12k_drive_end/IR014_2.npz")
    x, sr = ir.load()
    assert sr == 12000 and x.ndim == 1 and x.size == 121846
    both = cwru_manifest(root, channels=("DE", "FE"), include_normal=True)
    assert len(both) == 74 and sum(it.label == "normal" for it in both) == 2
    normal = next(it for it in both if it.label == "normal")
    _check_sha(data_dir, "cwru_12k_drive_end/Normal_0_48k.npz")
    assert normal.load()[1] == 48000
    with pytest.raises(ValueError, match="mixes sampling rates \\(12000, 48000 Hz\\)"):
        check_single_sr([12000, 48000, 12000])
    with pytest.raises(ValueError, match="channels"):
        cwru_manifest(root, channels=("BA",))


def test_folder_adapter(data_dir):
    items = folder_manifest(data_dir / "uav_propeller_cw")
    assert len(items) == 62
    counts = {lab: sum(it.label == lab for it in items) for lab in {it.label for it in items}}
    assert counts == {"normal": 26, "1_broken": 12, "2_broken": 12, "3_4_broken": 12}
    rel = "uav_propeller_cw/" + items[0].path.relative_to(data_dir / "uav_propeller_cw").as_posix()
    _check_sha(data_dir, rel)
    x, sr = items[0].load()
    assert sr == 16000 and x.size == 30 * 16000


def test_manifest_round_trip_and_errors(tmp_path):
    np.savez(tmp_path / "r1.npz", DE=np.zeros(50), fs=np.array(1000))
    sf.write(tmp_path / "r2.wav", np.zeros(50, np.float32), 1000)
    items = [
        SignalItem(tmp_path / "r1.npz", "ball", "r1", "DE", None, {"load": "1"}),
        SignalItem(tmp_path / "r2.wav", "ok", "r2", None, 1000.0),
    ]
    path = write_manifest(tmp_path / "m.csv", items)
    back = read_manifest(path)
    assert [(b.path, b.label, b.group, b.channel, b.sr, b.meta) for b in back] == [
        (tmp_path / "r1.npz", "ball", "r1", "DE", None, {"load": "1"}),
        (tmp_path / "r2.wav", "ok", "r2", None, 1000.0, {"load": ""}),
    ]
    (tmp_path / "rel.csv").write_text("path,label,group,channel\nr2.wav,ok,g,0\n")
    rel = read_manifest(tmp_path / "rel.csv")[0]
    assert rel.path == tmp_path / "r2.wav" and rel.channel == 0 and rel.load()[1] == 1000
    cases = [
        ("path,label\nr2.wav,ok\n", ValueError, "missing column"),
        ("path,label,group\nr2.wav,,g\n", ValueError, "empty 'label'"),
        ("path,label,group\nnone.wav,a,g\n", FileNotFoundError, "line 2"),
        ("path,label,group\nr2.txt,a,g\n", ValueError, "unsupported file type"),
        ("path,label,group,sr\nr2.wav,a,g,fast\n", ValueError, "sr must be a number"),
        ("path,label,group\n", ValueError, "no rows"),
    ]
    for text, err, match in cases:
        (tmp_path / "bad.csv").write_text(text)
        with pytest.raises(err, match=match):
            read_manifest(tmp_path / "bad.csv")

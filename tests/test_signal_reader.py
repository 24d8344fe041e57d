"""The one signal reader: every entry point (streaming, datasets / RMIS, pretraining, detector files) reads the same
file into the same float32 samples, with the same rate and channel rules (``fisher.signals.reader``)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from scipy.io import savemat

import fisher
from fisher.eval.datasets import read_signal as datasets_read_signal
from fisher.eval.rmis import embed as rmis_embed
from fisher.pretrain.sources import Entry, index_signals
from fisher.pretrain.sources import read_signal as pretrain_read
from fisher.recipe.long_files import SignalReader
from fisher.signals.reader import SR_KEYS, SignalFile, read_signal
from fisher_asd.detector import ClipFiles

SR = 8000


def _pcm(n: int = 4000, channels: int = 2, seed: int = 0) -> np.ndarray:
    """int16 PCM ``[channels, n]`` using the full range."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (channels, n)) * 32767).astype(np.int16)


def _every_entry_point(path, channel, row_index):
    """The channel as read by each entry point of the library."""
    reader = SignalReader(path, channel=channel)
    streamed = reader.read(0, reader.n_samples)
    reader.close()
    (ref,) = index_signals([Entry(path, channel=channel)])
    return {
        "reader": read_signal(path, channel=channel)[0],
        "streaming": streamed,
        "datasets": datasets_read_signal(path, channel=channel)[0],
        "rmis": rmis_embed.read_signal(path, channel=channel)[0],
        "pretrain": pretrain_read(ref, 0, ref.n_samples),
        "detector": ClipFiles([path], channel=channel)[0],
    }


@pytest.mark.parametrize("fmt", ["wav", "npz", "npz_T", "npy", "mat"])
def test_int16_reads_identically_everywhere(tmp_path, fmt):
    pcm = _pcm()
    expected = pcm[1].astype(np.float32) / 32768.0  # integer PCM scaled by full scale, channel 1
    if fmt == "wav":
        path = tmp_path / "x.wav"
        sf.write(path, pcm.T, SR, subtype="PCM_16")
        channel = 1
    elif fmt == "npz":  # [channels, N]
        path = tmp_path / "x.npz"
        np.savez(path, data=pcm, fs=SR)
        channel = "data:1"
    elif fmt == "npz_T":  # [N, channels]: channels along the shorter axis, same channel ids
        path = tmp_path / "x.npz"
        np.savez(path, data=pcm.T, sample_rate=SR)
        channel = "data:1"
    elif fmt == "npy":  # states no rate: sr comes from the caller
        path = tmp_path / "x.npy"
        np.save(path, pcm.T)
        channel = 1
    else:
        path = tmp_path / "x.mat"
        savemat(path, {"X_DE_time": pcm[1][:, None], "fs": np.array([[SR]])})
        channel = "DE"
    if fmt == "npy":
        with pytest.raises(ValueError, match="stores no sampling rate"):
            read_signal(path, channel=channel)
        reads = {
            "reader": read_signal(path, channel=channel, sr=SR)[0],
            "streaming": SignalReader(path, channel=channel, sr=SR).read(0, 4000),
            "datasets": datasets_read_signal(path, channel=channel, sr=SR)[0],
            "pretrain": pretrain_read(index_signals([Entry(path, channel=channel, sr=SR)])[0], 0, 4000),
        }
    else:
        reads = _every_entry_point(path, channel, 1)
    for name, x in reads.items():
        assert x.dtype == np.float32, name
        np.testing.assert_array_equal(x, expected, err_msg=name)


def test_sampling_rate_keys_and_agreement(tmp_path):
    for key in SR_KEYS:
        np.savez(tmp_path / f"{key}.npz", sig=np.zeros(100, np.float32) + 0.5, **{key: 12000})
        assert read_signal(tmp_path / f"{key}.npz")[1] == 12000.0
        assert index_signals([tmp_path / f"{key}.npz"])[0].sr == 12000.0
    with pytest.raises(ValueError, match="says sr = 12000"):
        read_signal(tmp_path / "fs.npz", sr=16000)
    with pytest.raises(ValueError, match="never resamples"):
        SignalReader(tmp_path / "fs.npz", sr=16000)
    # a fallback rate (pretraining's npz_sr) never overrides a stated one
    assert SignalFile(tmp_path / "fs.npz", default_sr=44100).sr == 12000.0


def test_float_values_stored_as_is_and_channel_rules(tmp_path):
    g = np.linspace(-3.0, 3.0, 500)  # accelerometer values in g: floats are not rescaled
    np.savez(tmp_path / "a.npz", DE=g, FE=-g, fs=12000)
    np.testing.assert_array_equal(read_signal(tmp_path / "a.npz", channel="FE")[0], (-g).astype(np.float32))
    np.testing.assert_array_equal(read_signal(tmp_path / "a.npz", key="DE", channel=0)[0], g.astype(np.float32))
    with pytest.raises(ValueError, match="choose one with channel"):
        read_signal(tmp_path / "a.npz")
    with pytest.raises(ValueError, match="pass key"):
        read_signal(tmp_path / "a.npz", channel=0)
    np.testing.assert_allclose(read_signal(tmp_path / "a.npz", channel="mean")[0], 0.0, atol=1e-7)
    # numeric strings (CSV manifests) are indexes
    sf.write(tmp_path / "s.wav", _pcm(channels=3).T, SR, subtype="PCM_16")
    np.testing.assert_array_equal(
        read_signal(tmp_path / "s.wav", channel="2")[0], read_signal(tmp_path / "s.wav", channel=2)[0]
    )
    assert SignalFile(tmp_path / "s.wav").channels == [0, 1, 2]
    assert SignalFile(tmp_path / "a.npz").channels == ["DE", "FE"]
    with pytest.raises(TypeError, match="channel must be"):
        read_signal(tmp_path / "s.wav", channel=1.5)


def test_block_reads_equal_whole_read(tmp_path):
    pcm = _pcm(n=10_000, channels=2, seed=3)
    sf.write(tmp_path / "x.flac", pcm.T, SR, subtype="PCM_16")
    np.savez(tmp_path / "x.npz", x=pcm, fs=SR)
    for path, ch in ((tmp_path / "x.flac", 0), (tmp_path / "x.npz", "x:0")):
        f = SignalFile(path)
        whole = f.read(ch)
        parts = np.concatenate([f.read(ch, s, min(s + 1234, 10_000)) for s in range(0, 10_000, 1234)])
        np.testing.assert_array_equal(parts, whole)
        f.close()


def test_int16_npz_same_embedding_through_embed_file_and_rmis(tmp_path):
    """The issue's bug: one int16 .npz gave different values through ``embed_file`` and the RMIS runner."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = fisher.Fisher(fisher.FisherConfig.preset("tiny")).eval()
    np.savez(tmp_path / "r.npz", vib=_pcm(n=8000, channels=1, seed=5)[0], fs=SR)
    streamed = model.embed_file(tmp_path / "r.npz").embedding
    x, sr = rmis_embed.read_signal(tmp_path / "r.npz", channel=None)
    assert np.abs(x).max() <= 1.0
    np.testing.assert_allclose(streamed, model.embed(x, sr), atol=1e-4, rtol=1e-4)

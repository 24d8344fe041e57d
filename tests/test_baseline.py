"""The weight-free logstft baseline encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fisher.eval import baseline
from fisher.eval.baseline import LogSTFT


def _tone(freq, sr, seconds=1.0):
    """A sine plus a little noise (a pure synthetic tone puts far bins at the 1e-10 floor)."""
    t = np.arange(int(sr * seconds)) / sr
    noise = np.random.default_rng(freq).normal(scale=1e-3, size=t.size)
    return (0.5 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


@pytest.mark.parametrize(("sr", "dim"), [(16000, 201), (12000, 151), (48000, 601), (44100, 552), (8000, 101)])
def test_dims(sr, dim):
    enc = LogSTFT()
    assert enc.embedding_dim(sr) == dim
    assert enc.embed(_tone(440, sr), sr).shape == (dim,)
    assert LogSTFT(bins_per_band=10).embedding_dim(sr) == dim // 10


def test_batch_forms_and_types():
    enc = LogSTFT()
    a, b = _tone(440, 16000), _tone(1000, 16000, 0.5)
    single = enc.embed(a, 16000)
    assert single.dtype == np.float32 and enc.name == "logstft"
    batch = enc.embed([a, b], 16000)
    assert batch.shape == (2, 201) and np.array_equal(batch[0], single)
    assert enc.embed(np.stack([a, a]), 16000).shape == (2, 201)
    out = enc.embed(torch.from_numpy(a), 16000)
    assert isinstance(out, torch.Tensor) and torch.equal(out, torch.from_numpy(single))
    pcm = (a * 32768).astype(np.int16)
    assert np.allclose(enc.embed(pcm, 16000), single, atol=0.05)


def test_tone_peaks_in_its_band():
    emb = LogSTFT().embed(_tone(2000, 16000), 16000)  # 40 Hz bins -> bin 50
    assert int(np.argmax(emb)) == 50
    grouped = LogSTFT(bins_per_band=25).embed(_tone(2000, 16000), 16000)
    assert int(np.argmax(grouped)) == 2 and grouped.shape == (8,)


def test_dc_removed_and_deterministic():
    x = _tone(440, 16000)
    enc = LogSTFT()
    assert np.allclose(enc.embed(x + 0.3, 16000), enc.embed(x, 16000), atol=5e-3)  # float32 rounding of x + 0.3
    assert np.array_equal(enc.embed(x, 16000), enc.embed(x, 16000))


def test_blocked_stft_equals_single_block(monkeypatch):
    x = np.random.default_rng(0).normal(size=16000 * 3).astype(np.float32) * 0.1
    full = LogSTFT().embed(x, 16000)
    monkeypatch.setattr(baseline, "_BLOCK_FRAMES", 7)
    assert np.allclose(LogSTFT().embed(x, 16000), full, atol=1e-5)


def test_errors():
    enc = LogSTFT()
    with pytest.raises(ValueError, match="at least n_fft = 400"):
        enc.embed(np.zeros(100, np.float32), 16000)
    with pytest.raises(TypeError):
        enc.embed(np.zeros(1000), "16k")
    with pytest.raises(ValueError):
        enc.embed(np.zeros(1000), -1)
    with pytest.raises(ValueError, match="NaN"):
        enc.embed(np.full(1000, np.nan), 16000)
    with pytest.raises(ValueError, match="bins_per_band"):
        LogSTFT(bins_per_band=0)
    with pytest.raises(TypeError):
        LogSTFT(bins_per_band=2.5)
    with pytest.raises(ValueError, match="exceeds"):
        LogSTFT(bins_per_band=500).embedding_dim(16000)
    with pytest.raises(ValueError, match="too low"):
        enc.embed(np.zeros(100), 50)

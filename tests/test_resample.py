"""The one resampler (``fisher.signals.resample``): librosa, soxr_hq by default, polyphase = scipy's resample_poly."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy.signal import resample_poly

from fisher.signals.resample import DEFAULT_METHOD, ratio, resample, resampled_length


@pytest.mark.parametrize("sr_in, sr_out", [(16000, 48000), (24000, 16000), (44100, 16000), (12000, 32000)])
def test_polyphase_matches_scipy_resample_poly(sr_in, sr_out):
    x = np.random.default_rng(0).standard_normal(5003).astype(np.float32)
    up, down = ratio(sr_in, sr_out)
    expected = resample_poly(x.astype(np.float64), up, down).astype(np.float32)
    out = resample(x, sr_in, sr_out, method="polyphase")
    np.testing.assert_array_equal(out, expected)
    assert len(out) == resampled_length(len(x), sr_in, sr_out, method="polyphase")


def test_soxr_default_keeps_a_tone_and_types():
    assert DEFAULT_METHOD == "soxr_hq"
    t = np.arange(16000) / 16000
    x = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    y = resample(x, 16000, 12000)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and len(y) == resampled_length(16000, 16000, 12000)
    ref = np.sin(2 * np.pi * 1000 * np.arange(len(y)) / 12000)
    assert np.abs(y[200:-200] - ref[200:-200]).max() < 1e-3  # away from the edges
    yt = resample(torch.from_numpy(x), 16000, 12000.5)  # any positive rates
    assert (
        isinstance(yt, torch.Tensor)
        and yt.dtype == torch.float32
        and len(yt) == resampled_length(16000, 16000, 12000.5)
    )
    assert resample(x, 16000, 16000) is x


def test_bad_requests():
    x = np.zeros(100, np.float32)
    with pytest.raises(ValueError, match="integer rates"):
        resample(x, 16000.5, 8000, method="polyphase")
    with pytest.raises(ValueError, match="method must be one of"):
        resample(x, 16000, 8000, method="fft")
    with pytest.raises(ValueError, match="1-D"):
        resample(np.zeros((2, 100)), 16000, 8000)
    with pytest.raises(TypeError, match="sr must be"):
        resample(x, "16k", 8000)


def test_librosa_is_imported_lazily():
    code = "import sys, fisher, fisher.signals.resample, fisher.eval.rmis; print('librosa' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

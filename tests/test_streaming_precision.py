"""Reduced precision (bf16 / int8) and bounded-memory streaming of recordings from disk."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf
import torch

from fisher import Fisher, FisherConfig
from fisher.recipe.long_files import DC_BLOCK, SignalReader


@pytest.fixture(scope="module")
def tiny() -> Fisher:
    torch.manual_seed(0)
    return Fisher(FisherConfig.preset("tiny", depth=2))


def signal(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size) + 0.02).astype(np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@pytest.mark.parametrize("precision,min_cos", [("bf16", 0.999), ("int8", 0.995)])
def test_precision_fidelity(tiny, precision, min_cos):
    x = signal(3, 16000)
    ref = tiny.embed(x, 16000)
    out = tiny.embed(x, 16000, precision=precision)
    assert out.dtype == np.float32 and out.shape == ref.shape
    assert cosine(out, ref) >= min_cos
    assert not np.array_equal(out, ref)


def test_precision_copy_cached_and_refreshed(tiny):
    model = Fisher(FisherConfig.preset("tiny", depth=1))
    x = signal(1, 8000)
    a = model.embed(x, 8000, precision="bf16")
    first = model._inference_copies["bf16"][1]
    model.embed(x, 8000, precision="bf16")
    assert model._inference_copies["bf16"][1] is first
    with torch.no_grad():
        model.cls_token.add_(1.0)  # in-place update must invalidate the copy
    b = model.embed(x, 8000, precision="bf16")
    assert model._inference_copies["bf16"][1] is not first and not np.allclose(a, b)


def test_bad_precision(tiny):
    with pytest.raises(ValueError, match="precision must be one of"):
        tiny.embed(signal(1, 8000), 8000, precision="fp8")


def test_embed_file_equals_in_memory(tiny, tmp_path):
    x = signal(35, 8000, 1)
    pcm = np.round(x * 32767).astype(np.int16)
    sf.write(tmp_path / "a.flac", pcm, 8000)
    res = tiny.embed_file(tmp_path / "a.flac", batch_size=2)
    ref = tiny.embed(pcm, 8000)
    np.testing.assert_allclose(res.embedding, ref, atol=1e-5)
    assert res.windows.shape == (4, 192) and res.sr == 8000
    np.testing.assert_allclose(res.times[0], [0, (200 + 1023 * 80) / 8000])
    np.testing.assert_allclose(res.times[1, 0], 1024 * 80 / 8000)
    assert res.times[-1, 1] <= 35


def test_embed_file_npy_npz_channels(tiny, tmp_path):
    x = np.stack([signal(3, 12000, 2), signal(3, 12000, 3)])
    np.save(tmp_path / "s.npy", x)
    np.savez(tmp_path / "s.npz", DE=x[0], FE=x[1], fs=np.array(12000.0))
    ref = tiny.embed(x, 12000)
    np.testing.assert_allclose(tiny.embed_file(tmp_path / "s.npy", channel=1, sr=12000).embedding, ref[1], atol=1e-5)
    np.testing.assert_allclose(tiny.embed_file(tmp_path / "s.npz", key="DE").embedding, ref[0], atol=1e-5)
    sf.write(tmp_path / "st.wav", x.T, 12000, subtype="FLOAT")
    np.testing.assert_allclose(tiny.embed_file(tmp_path / "st.wav", channel=1).embedding, ref[1], atol=1e-5)


def test_embed_file_errors(tiny, tmp_path):
    np.save(tmp_path / "s.npy", signal(1, 8000))
    with pytest.raises(ValueError, match="pass sr"):
        tiny.embed_file(tmp_path / "s.npy")
    sf.write(tmp_path / "a.wav", signal(1, 8000), 8000)
    with pytest.raises(ValueError, match="never resamples"):
        tiny.embed_file(tmp_path / "a.wav", sr=16000)
    with pytest.raises(ValueError, match="channel=3 does not exist"):
        tiny.embed_file(tmp_path / "a.wav", channel=3)
    with pytest.raises(FileNotFoundError):
        tiny.embed_file(tmp_path / "missing.wav")
    (tmp_path / "x.txt").write_text("1 2 3")
    with pytest.raises(ValueError, match="unsupported signal format"):
        tiny.embed_file(tmp_path / "x.txt")
    np.savez(tmp_path / "two.npz", a=signal(1, 8000), b=signal(1, 8000))
    with pytest.raises(ValueError, match="pass key"):
        tiny.embed_file(tmp_path / "two.npz", sr=8000)
    sf.write(tmp_path / "short.wav", signal(0.05, 8000), 8000)
    with pytest.raises(ValueError, match="at least 16 STFT frames"):
        tiny.embed_file(tmp_path / "short.wav")


def test_reads_are_bounded_by_batch_not_file_length(tiny, tmp_path, monkeypatch):
    """The streaming design: no read (hence no tensor) larger than one batch of windows, whatever the length."""
    sizes = []
    original = SignalReader.read

    def spy(self, start, stop):
        sizes.append(stop - start)
        return original(self, start, stop)

    monkeypatch.setattr(SignalReader, "read", spy)
    bound = 2 * 1024 * 80 + 200  # batch_size=2 windows at 8 kHz
    for minutes in (1, 6):
        sf.write(tmp_path / "long.flac", (signal(60 * minutes, 8000) * 32767).astype(np.int16), 8000)
        sizes.clear()
        res = tiny.embed_file(tmp_path / "long.flac", batch_size=2)
        assert len(res.windows) == int(np.ceil(60 * minutes * 100 / 1024))
        assert max(sizes) <= max(bound, DC_BLOCK)  # neither read grows with the file length


@pytest.mark.slow
def test_peak_rss_does_not_grow_with_file_length(tmp_path):
    code = textwrap.dedent("""
        import sys, torch
        from fisher import Fisher, FisherConfig
        torch.manual_seed(0)
        m = Fisher(FisherConfig.preset("tiny", depth=1))
        m.embed_file(sys.argv[1], batch_size=4)
        # VmHWM: this process's own peak (ru_maxrss would include the parent's peak, inherited across exec)
        print([l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")][0])
    """)
    rss = {}
    for minutes in (3, 15):
        path = tmp_path / f"{minutes}.flac"
        sf.write(path, (signal(60 * minutes, 16000) * 32767).astype(np.int16), 16000)
        out = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=600, check=True
        )
        rss[minutes] = int(out.stdout.split()[-1]) / 1024
    # 15 min at 16 kHz: 57 MB as float32 samples, 115 MB as a full spectrogram; streaming must not need them
    assert rss[15] - rss[3] < 50, rss  # allocator noise is ~20-30 MB; in-memory embedding would add > 150 MB

"""Public embedding API: shapes, pooling, long-clip modes, batching invariance, input types, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fisher
from fisher import Fisher, FisherConfig


@pytest.fixture(scope="module")
def tiny() -> Fisher:
    torch.manual_seed(0)
    return Fisher(FisherConfig.preset("tiny", depth=2))


@pytest.fixture(scope="module")
def small() -> Fisher:
    torch.manual_seed(1)
    return Fisher(FisherConfig.preset("small", depth=1))


def noise(n: int, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


@pytest.mark.parametrize(
    "sr,bands_tiny,bands_small",
    [
        (1000, 1, 1),
        (4000, 1, 1),
        (8000, 1, 2),
        (12800, 1, 3),
        (16000, 2, 4),
        (22050, 2, 5),
        (44100, 5, 11),
        (48000, 6, 12),
        (96000, 12, 24),
    ],
)
def test_num_bands_table(sr, bands_tiny, bands_small):
    assert fisher.num_bands(sr, 100) == bands_tiny
    assert fisher.num_bands(sr, 50) == bands_small


def test_frame_params_floor():
    assert fisher.frame_params(44100) == (1102, 441)
    assert fisher.frame_params(22050) == (551, 220)
    assert fisher.frame_params(1000) == (25, 10)
    assert fisher.min_samples(16000) == 2800


def test_shapes_and_pooling(small):
    sr = 16000
    one = small.embed(noise(sr), sr)
    assert one.shape == (4 * 384,) and one.dtype == np.float32
    batch = small.embed(np.stack([noise(sr, 1), noise(sr, 2)]), sr)
    assert batch.shape == (2, 1536)
    mean = small.embed(noise(sr), sr, pool="mean")
    none = small.embed(noise(sr), sr, pool="none")
    assert mean.shape == (384,) and none.shape == (4, 384)
    np.testing.assert_allclose(none.reshape(-1), one, atol=1e-6)
    np.testing.assert_allclose(none.mean(0), mean, atol=1e-6)
    assert small.embedding_dim(sr) == 1536 and small.embedding_dim(sr, "mean") == 384


def test_torch_in_torch_out(tiny):
    x = torch.from_numpy(noise(8000))
    out = tiny.embed(x, 8000)
    assert isinstance(out, torch.Tensor) and out.shape == (192,)
    np.testing.assert_array_equal(out.numpy(), tiny.embed(x.numpy(), 8000))


def test_integer_pcm_is_scaled(tiny):
    x = noise(8000)
    pcm = np.round(x * 32768).astype(np.int16)
    np.testing.assert_allclose(tiny.embed(pcm, 8000), tiny.embed(pcm.astype(np.float32) / 32768, 8000), atol=1e-6)


def test_batch_equals_single_bit_exact(tiny):
    clips = [noise(16000 * 3, s) for s in range(3)] + [noise(16000 * 2, 9), noise(16000 * 15, 7)]
    alone = np.stack([tiny.embed(c, 16000) for c in clips])
    for bs in (1, 2, 8):
        np.testing.assert_array_equal(tiny.embed(clips, 16000, batch_size=bs), alone)


def test_long_modes(tiny):
    sr = 8000
    x = noise(sr * 25, 3)  # 2498 frames: windows of 1024, 1024, 450
    trunc = tiny.embed(x, sr, long="truncate")
    chunk = tiny.embed(x, sr, long="chunk")
    assert not np.allclose(chunk, trunc)
    spec = torch.from_numpy(fisher.spectrogram(x, sr))
    wins = torch.split(spec, 1024)
    assert [w.shape[0] for w in wins] == [1024, 1024, 450]
    with torch.inference_mode():
        first = tiny(fisher.split_bands(wins[0], 100)).reshape(-1).numpy()
        np.testing.assert_allclose(trunc, first, atol=1e-6)  # truncate = the first 1024 frames only
        # chunk = mean of the per-window embeddings of the clip's spectrogram windows
        ref = torch.stack([tiny(fisher.split_bands(w, 100)).reshape(-1) for w in wins]).mean(0).numpy()
    np.testing.assert_allclose(chunk, ref, atol=1e-6)


def test_trailing_short_window_dropped(tiny):
    sr = 8000
    n = 200 + (1024 + 10 - 1) * 80  # 1034 frames: trailing window of 10 frames < 16 is dropped
    x = noise(n, 4)
    np.testing.assert_allclose(tiny.embed(x, sr), tiny.embed(x, sr, long="truncate"), atol=1e-7)


def test_pad_frames_changes_short_clips_only(tiny):
    x = noise(8000 * 3)
    assert not np.allclose(tiny.embed(x, 8000, pad_frames=True), tiny.embed(x, 8000))


def test_deterministic(tiny):
    x = noise(16000)
    np.testing.assert_array_equal(tiny.embed(x, 16000), tiny.embed(x, 16000))


def test_list_of_different_lengths(tiny):
    out = tiny.embed([noise(4000), noise(9000), noise(30000)], 8000)
    assert out.shape == (3, 192)


@pytest.mark.parametrize(
    "wave,sr,exc,match",
    [
        (np.array([0.1, np.nan] * 2000, dtype=np.float32), 8000, ValueError, "NaN"),
        (np.array([0.1, np.inf] * 2000, dtype=np.float32), 8000, ValueError, "infinite"),
        (np.zeros(0, dtype=np.float32), 8000, ValueError, "empty"),
        ([], 8000, ValueError, "empty batch"),
        (np.zeros(1000, dtype=np.float32), 8000, ValueError, r"at least 16 STFT frames = 1400 samples \(0.1750 s\)"),
        (np.zeros((2, 2, 4000), dtype=np.float32), 8000, ValueError, "3 dimensions"),
        (np.array(["a"] * 4000), 8000, TypeError, "not numeric"),
        (np.zeros(4000, dtype=complex), 8000, TypeError, "not numeric"),
        (np.zeros(4000, dtype=np.float32), "8000", TypeError, "sr must be a positive number"),
        (np.zeros(4000, dtype=np.float32), -8000, ValueError, "positive finite"),
        (np.zeros(4000, dtype=np.float32), float("nan"), ValueError, "positive finite"),
        (np.zeros(4000, dtype=np.float32), 50, ValueError, "too low"),
        (np.zeros(4000, dtype=np.float32), True, TypeError, "sr must be"),
        ("clip.wav", 8000, TypeError, "got str; to embed a file use model.embed_file"),
        (np.zeros((48000, 2), dtype=np.float32), 16000, ValueError, r"\(frames, channels\).*x\.mean\(axis=1\).*x\.T"),
        (np.zeros(16000, dtype=np.float32), 44100.5, ValueError, "whole number of Hz"),
    ],
)
def test_bad_input(tiny, wave, sr, exc, match):
    with pytest.raises(exc, match=match):
        tiny.embed(wave, sr)


def test_bad_options(tiny):
    x = noise(8000)
    with pytest.raises(ValueError, match="pool"):
        tiny.embed(x, 8000, pool="max")
    with pytest.raises(ValueError, match="long"):
        tiny.embed(x, 8000, long="pad")
    with pytest.raises(ValueError, match="batch_size"):
        tiny.embed(x, 8000, batch_size=0)
    with pytest.raises(TypeError, match="pad_frames"):
        tiny.embed(x, 8000, pad_frames="yes")


def test_short_clip_in_batch_names_the_clip(tiny):
    with pytest.raises(ValueError, match="clip 1 has 100 samples"):
        tiny.embed([noise(8000), noise(100)], 8000)


def test_spectrogram_api():
    x = noise(16000)
    spec = fisher.spectrogram(x, 16000)
    assert spec.shape == (98, 201) and spec.dtype == np.float32
    assert fisher.spectrogram(np.stack([x, x]), 16000).shape == (2, 98, 201)
    assert isinstance(fisher.spectrogram(torch.from_numpy(x), 16000), torch.Tensor)


def test_config_validation():
    with pytest.raises(ValueError, match="divisible"):
        FisherConfig(embed_dim=100, num_heads=3)
    with pytest.raises(ValueError, match="unknown FisherConfig keys"):
        FisherConfig.from_dict({"embed_dim": 64, "depthh": 2})
    with pytest.raises(ValueError, match="unknown FISHER scale"):
        FisherConfig.preset("huge")


@pytest.mark.parametrize("scale,count", [("tiny", 6_617_088), ("mini", 11_182_080), ("small", 23_851_008)])
def test_full_size_parameter_counts(scale, count):
    model = Fisher(FisherConfig.preset(scale))
    assert sum(t.numel() for t in model.state_dict().values()) == count
    assert len(model.state_dict()) == 6 + 12 * 12
    rec = {r.name: r for r in fisher.list_models()}[scale]
    assert rec.params == count and rec.config == FisherConfig.preset(scale)


def test_soundfile_layout_hint_and_transposed_works(tiny):
    stereo = np.stack([noise(8000, 1), noise(8000, 2)], axis=1)  # soundfile.read: (frames, channels)
    with pytest.raises(ValueError, match=r"shape \(8000, 2\).*\(frames, channels\)"):
        tiny.embed(stereo, 8000)
    assert tiny.embed(stereo.T, 8000).shape == (2, 192)


def test_integer_valued_float_sr_is_accepted(tiny):
    x = noise(8000)
    np.testing.assert_array_equal(tiny.embed(x, 8000.0), tiny.embed(x, np.int64(8000)))
    with pytest.raises(ValueError, match="whole number"):
        fisher.frame_params(8000.25)

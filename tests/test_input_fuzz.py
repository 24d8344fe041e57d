"""Seeded fuzz test of the embedding input contract (Fisher.embed and the torch-free OnnxFisher).

Every one of >= 500 random inputs (NaN/inf, empty, too short, integer PCM, uint8, complex, strings, 3-D, odd / zero /
negative / huge / fractional sr, lists of mixed lengths, torch tensors, soundfile layouts ...) must either embed to a
finite float32 array of the documented shape, or raise ValueError/TypeError with a message of >= 10 characters.
Both implementations must take the same decision with the same message (one validation code path).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fisher import Fisher, FisherConfig, OnnxFisher, export_onnx

N_CASES = 520
SEED = 20261201
GOOD_SR = [1000, 2000, 4000, 8000, 12800, 16000, 22050, np.int64(8000), 8000.0]
BAD_SR = [0, -16000, 7, 44100.5, 1e300, 1e12, float("nan"), float("inf"), "16000", None, True, [16000], 3 + 0j]


def pick(rng: np.random.Generator, options: list) -> object:
    return options[int(rng.integers(len(options)))]


def random_clip(rng: np.random.Generator, sr: float) -> object:
    """One clip-like object (mostly valid, sometimes broken)."""
    n = int(rng.choice([0, 1, 10, 200, 2000, 3000, 4500, 6000]))
    kind = rng.integers(12)
    x = (0.3 * rng.standard_normal(n)).astype(np.float32)
    if kind == 0:
        return x.astype(np.float64)
    if kind == 1 and n:
        x[rng.integers(n)] = pick(rng, [np.nan, np.inf, -np.inf])
        return x
    if kind == 2:
        return (x * 32767).clip(-32768, 32767).astype(np.int16)
    if kind == 3:
        return (x * 127 + 128).clip(0, 255).astype(np.uint8)
    if kind == 4:
        return x.astype(np.complex64)
    if kind == 5:
        return pick(rng, ["clip.wav", b"RIFF", "", None, {"wave": x}, object()])
    if kind == 6:
        return x.astype(np.float16)
    if kind == 7:
        return (x.astype(np.float64) * 2**31).clip(-(2**31), 2**31 - 1).astype(np.int32)
    if kind == 8:
        return torch.from_numpy(x)
    if kind == 9:
        return x.astype(pick(rng, [np.bool_, np.uint16, np.int8]))
    if kind == 10:
        return list(map(float, x[:300]))
    return x


def random_wave(rng: np.random.Generator, sr: float) -> object:
    shape = rng.integers(7)
    if shape == 0:  # batch [B, N]
        return (0.1 * rng.standard_normal((int(rng.integers(0, 3)), int(rng.choice([3000, 8000]))))).astype(np.float32)
    if shape == 1:  # soundfile (frames, channels)
        return (0.1 * rng.standard_normal((int(rng.choice([3000, 9000])), int(rng.integers(1, 3))))).astype(np.float32)
    if shape == 2:  # 3-D / 0-D
        return pick(rng, [np.zeros((2, 2, 3000), np.float32), np.float32(0.5), np.zeros((0,), np.float32)])
    if shape == 3:  # list of mixed lengths and kinds
        return [random_clip(rng, sr) for _ in range(int(rng.integers(0, 4)))]
    if shape == 4:  # ragged nested lists
        return [[0.0] * 3000, [0.0] * 2999]
    return random_clip(rng, sr)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    torch.manual_seed(0)
    model = Fisher(FisherConfig(embed_dim=64, depth=1, num_heads=2, band_width=100))  # cheap: validation is the point
    pytest.importorskip("onnxruntime")
    return model, OnnxFisher(export_onnx(model, tmp_path_factory.mktemp("fuzz") / "m.onnx"), threads=1)


def outcome(fn, wave, sr, pool):
    try:
        return "ok", fn(wave, sr, pool=pool)
    except (ValueError, TypeError) as err:
        assert len(str(err)) >= 10, repr(err)
        return type(err).__name__, str(err)


def test_fuzz_inputs(models):
    model, onnx_model = models
    rng = np.random.default_rng(SEED)
    counts = {"ok": 0, "ValueError": 0, "TypeError": 0}
    for case in range(N_CASES):
        sr = pick(rng, GOOD_SR) if rng.random() < 0.8 else pick(rng, BAD_SR)
        wave = random_wave(rng, sr)
        pool = str(rng.choice(["concat", "mean", "none"]))
        kind, ref = outcome(model.embed, wave, sr, pool)
        counts[kind] += 1
        if isinstance(wave, torch.Tensor) or (
            isinstance(wave, list) and any(isinstance(w, torch.Tensor) for w in wave)
        ):
            continue  # OnnxFisher is numpy-only (torch input returns torch from Fisher.embed)
        kind2, got = outcome(onnx_model.embed, wave, sr, pool)
        assert kind2 == kind, f"case {case}: torch {kind} {ref if kind != 'ok' else ''} vs onnx {kind2} {got}"
        if kind == "ok":
            ref = np.asarray(ref)
            assert ref.dtype == np.float32 and np.isfinite(ref).all(), f"case {case}"
            assert ref.shape[-1] == (model.embedding_dim(sr, pool) if pool != "none" else model.embed_dim)
            # white noise can put a frame's DC bin at ~1e-7, where log|X| depends on FFT rounding (torch vs
            # scipy): values agree closely but not always to the 1e-4 of the parity fixtures
            np.testing.assert_allclose(got, ref, atol=2e-3, rtol=0, err_msg=f"case {case}")
        else:
            assert got == ref, f"case {case}"
    assert min(counts.values()) >= 50, counts  # the generator really exercises every outcome

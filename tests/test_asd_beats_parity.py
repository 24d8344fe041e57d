"""BEATs parity with the official code: every bound of ``fixtures/beats_official/README.md``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import require_shared

from fisher_asd.encoders import BEATs, BEATsEncoder
from fisher_asd.encoders.beats.modules import relative_buckets
from fisher_asd.encoders.fbank import kaldi_fbank

EMPTY_MEL = -15.942385


@pytest.fixture(scope="module")
def fx():
    root = require_shared("fixtures", "beats_official")
    model = BEATs.from_pretrained(root / "beats_tiny.pt.xz")
    arrays = dict(np.load(root / "arrays.npz"))
    return model, arrays


def _wave(arrays, key):
    return torch.from_numpy(arrays[key].astype(np.float32) / 32768)


@pytest.mark.parametrize("clip", ["10s", "3s"])
def test_fbank_matches_official(fx, clip):
    _, a = fx
    fb = kaldi_fbank(_wave(a, f"wav_{clip}") * 2**15).numpy()
    ref = a[f"fbank_raw_{clip}"]
    assert fb.shape == ref.shape
    assert np.abs(fb - ref).max() <= 1e-3
    assert np.abs(fb[..., 3] - EMPTY_MEL).max() <= 1e-5  # empty 4th mel filter


def test_normalisation_uses_two_std(fx):
    _, a = fx
    norm = BEATs.normalize_fbank(torch.from_numpy(a["fbank_raw_3s"])).numpy()
    assert np.abs(norm - a["fbank_norm_3s"]).max() <= 1e-5


@pytest.mark.parametrize("clip", ["10s", "3s"])
def test_model_only(fx, clip):
    model, a = fx
    with torch.inference_mode():
        out, mask = model.forward_fbank(BEATs.normalize_fbank(torch.from_numpy(a[f"fbank_raw_{clip}"])))
    assert mask is None
    assert np.abs(out.numpy() - a[f"features_{clip}"]).max() <= 2e-4


def test_intermediates(fx):
    model, a = fx
    fbank = BEATs.normalize_fbank(torch.from_numpy(a["fbank_raw_3s"]))
    with torch.inference_mode():
        proj = model.embed_patches(fbank)
        hidden = model._start(fbank, None)
        layer0 = model.run_layers(hidden, 1)
    assert np.abs(proj.numpy() - a["inter_3s_patch_embed_ln_proj"]).max() <= 1e-4
    assert np.abs(hidden.x.numpy() - a["inter_3s_encoder_input_after_posconv_ln"]).max() <= 1e-4
    assert np.abs(layer0.x.numpy() - a["inter_3s_layer0_out"]).max() <= 1e-4


@pytest.mark.parametrize("clip", ["10s", "3s"])
def test_end_to_end(fx, clip):
    model, a = fx
    with torch.inference_mode():
        out, _ = model.extract_features(_wave(a, f"wav_{clip}"))
    diff = np.abs(out.numpy() - a[f"features_{clip}"])
    assert out.shape == a[f"features_{clip}"].shape
    assert diff.max() <= 3e-3 and diff.mean() <= 2e-4
    pooled = np.abs(out.numpy().mean(1) - a[f"features_{clip}"].mean(1)).max()
    assert pooled <= 1e-3


def test_encoder_embed_matches_official_mean(fx):
    model, a = fx
    emb = BEATsEncoder(model).embed(a["wav_3s"][0], 16000)  # int16 PCM in, scaled by 2**-15
    assert emb.shape == (768,) and emb.dtype == np.float32
    assert np.abs(emb - a["features_3s"][0].mean(0)).max() <= 1e-3


def test_padded_batch_and_mask(fx):
    model, a = fx
    with torch.inference_mode():
        out, mask = model.extract_features(_wave(a, "wav_batch2_10s"), torch.from_numpy(a["padmask_batch2_10s"]))
    diff = np.abs(out.numpy() - a["features_batch2_10s"])
    assert diff.max() <= 3e-3 and diff.mean() <= 2e-4
    assert np.array_equal(mask.numpy(), a["padmask_out_batch2_10s"])
    assert int(mask[1].sum()) == 146 and int(mask[1].nonzero()[0]) == 350


def test_batch_invariance(fx):
    model, a = fx
    with torch.inference_mode():
        batch, _ = model.extract_features(_wave(a, "wav_batch2_10s"), torch.from_numpy(a["padmask_batch2_10s"]))
        alone, _ = model.extract_features(_wave(a, "wav_10s"))
    assert np.abs(batch[0].numpy() - a["features_10s"][0]).max() <= 1e-4
    assert (batch[0] - alone[0]).abs().max() <= 1e-4


def test_checkpoint_loaded_as_float32_with_cfg(fx):
    model, _ = fx
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert model.cfg.encoder_layers == 2 and model.cfg.encoder_ffn_embed_dim == 1536
    assert model.cfg.deep_norm_alpha == pytest.approx(2**0.5)
    assert not model.training


def test_relative_bucket_spot_values():
    rel = torch.tensor([-495, -200, -80, -79, -1, 0, 1, 79, 80, 200, 495])
    expect = [143, 111, 80, 79, 1, 0, 161, 239, 240, 271, 303]
    table = relative_buckets(1000, 1000, 320, 800)
    got = [int(table[500, 500 + int(r)]) for r in rel]
    assert got == expect

"""CLAP / WavLM / AST encoders on tiny random configs, built offline from transformers config classes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from fisher_asd.encoders import FrameEncoder, create_encoder
from fisher_asd.encoders._hf import crop_windows
from tests.asd_configs import TINY_AST, TINY_CLAP, TINY_WAVLM, noise

CLAP_CFG, WAVLM_CFG, AST_CFG = TINY_CLAP, TINY_WAVLM, TINY_AST


@pytest.fixture(scope="module")
def clap():
    torch.manual_seed(0)
    return create_encoder("clap", config=transformers.ClapAudioConfig(**CLAP_CFG))


@pytest.fixture(scope="module")
def wavlm():
    torch.manual_seed(0)
    return create_encoder("wavlm", config=transformers.WavLMConfig(**WAVLM_CFG))


@pytest.fixture(scope="module")
def ast():
    torch.manual_seed(0)
    return create_encoder("ast", config=transformers.ASTConfig(**AST_CFG))


# ------------------------------------------------------------------------------------------------ CLAP
def test_clap_matches_transformers_forward(clap):
    x = torch.from_numpy(noise(2, 48000 * 2))
    with torch.inference_mode():
        feats, windows = clap.features(x)
        ref = clap.backbone(input_features=feats).audio_embeds
        out = clap(x)
        for k in (0, 2, 5, 8, 9, 10):  # before stage 0 / 2, inside stage 2, before / inside stage 3, end
            assert (clap.forward_from(clap.forward_prefix(x[:1], k)) - ref[:1]).abs().max() < 1e-5, k
    assert clap.split_points == tuple(range(11))  # 1 + 1 + 6 + 2 blocks
    assert feats.shape == (2, 1, 1001, 64) and windows == 1
    assert (out - ref).abs().max() < 1e-5
    assert isinstance(clap, FrameEncoder) and clap.sample_rate == 48000 and clap.dim == 32


def test_clap_embed_deterministic_batch_invariant(clap):
    a, b = noise(16000 * 12, seed=1), noise(16000 * 3, seed=2)  # 12 s (> 10 s crop) and 3 s (repeat-pad)
    first = clap.embed([a, b], 16000)
    assert first.shape == (2, 32)
    np.testing.assert_array_equal(first, clap.embed([a, b], 16000))
    np.testing.assert_allclose(first[0], clap.embed(a, 16000), atol=1e-5)
    np.testing.assert_allclose(first[1], clap.embed(b, 16000), atol=1e-5)


def test_clap_crop_policies(clap):
    x = torch.from_numpy(noise(1, 48000 * 12, seed=3))
    with torch.inference_mode():
        center = clap(x)
        start = clap.forward(x[:, :480000])
        assert (center - clap(x[:, 48000:528000])).abs().max() < 1e-5
        clap.crop = "windows"
        try:
            windows = clap(x)
        finally:
            clap.crop = "center"
        both = (clap(x[:, :480000]) + clap(x[:, -480000:])) / 2
    assert (start - center).abs().max() > 1e-4
    assert (windows - both).abs().max() < 1e-5
    frames, mask = clap.forward_frames(x)
    assert frames.shape == (1, 64, 128) and mask is None


def test_crop_windows_layout():
    x = torch.arange(2 * 25).reshape(2, 25)
    w, count = crop_windows(x, 10, "windows")
    assert count == 3 and w.shape == (6, 10)
    assert w[0, 0] == 0 and w[1, 0] == 8 and w[2, -1] == 24 and w[3, 0] == 25
    assert crop_windows(x, 30, "center")[0] is x
    with pytest.raises(ValueError, match="crop must be one of"):
        crop_windows(x, 10, "random")


def test_clap_backbone_eval_keeps_batchnorm_frozen(clap):
    bn = clap.backbone.audio_model.audio_encoder.batch_norm
    before = bn.running_mean.clone()
    clap.train()
    try:
        clap(torch.from_numpy(noise(2, 48000)))
    finally:
        clap.eval()
    assert torch.equal(before, bn.running_mean)


# ------------------------------------------------------------------------------------------------ WavLM
def test_wavlm(wavlm):
    x = noise(2, 16000)
    out = wavlm.embed(x, 16000)
    frames, mask = wavlm.frames(x, 16000)
    assert out.shape == (2, 64) and frames.shape == (2, 49, 64) and mask is None
    np.testing.assert_allclose(out, frames.detach().mean(1).numpy(), atol=1e-5)
    np.testing.assert_allclose(out[1], wavlm.embed(x[1], 16000), atol=1e-5)
    with pytest.raises(ValueError, match="too short for wavlm.*400"):
        wavlm.embed(noise(300), 16000)


def test_wavlm_local_directory_roundtrip(wavlm, tmp_path):
    wavlm.backbone.save_pretrained(tmp_path)
    (tmp_path / "preprocessor_config.json").write_text('{"do_normalize": true}')
    loaded = create_encoder("wavlm", name_or_path=tmp_path)
    assert loaded.do_normalize
    x = noise(16000)
    with torch.inference_mode():
        xn = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        np.testing.assert_allclose(loaded.embed(x, 16000), wavlm.embed(xn.astype(np.float32), 16000), atol=1e-4)


def test_unavailable_hub_model_has_clear_error(tmp_path):
    with pytest.raises(OSError, match="could not load WavLMModel.*local directory"):
        create_encoder("wavlm", name_or_path=tmp_path / "nothing-here", local_files_only=True)


def test_lora_on_wavlm_fails_loudly(wavlm):
    """transformers' WavLM reads ``q_proj.weight`` directly: an adapter there must not be a silent no-op."""
    from fisher_asd.adapters.lora import inject_lora
    from fisher_asd.streams.mef import adapted_copy

    names = [f"backbone.encoder.layers.0.attention.{p}" for p in ("q_proj", "v_proj")]
    enc = adapted_copy(wavlm, names)
    inject_lora(enc.backbone, r"encoder\.layers\.0\.attention\.(q_proj|v_proj)", r=2, alpha=4)
    with pytest.raises(AttributeError, match="LoRALinear"):
        enc.embed(noise(16000), 16000)
    assert not any("lora" in n for n, _ in wavlm.named_parameters())  # the original is untouched


# ------------------------------------------------------------------------------------------------ AST
@pytest.mark.filterwarnings("ignore:At least one mel filter has all zero values")
def test_ast_features_match_transformers_extractor(ast):
    x = noise(2, 16000 * 2)
    fe = transformers.ASTFeatureExtractor(max_length=256)
    ref = fe(list(x), sampling_rate=16000, return_tensors="pt")["input_values"]
    ours, windows = ast.features(torch.from_numpy(x))
    assert ours.shape == ref.shape == (2, 256, 128) and windows == 1
    assert (ours - ref).abs().max() < 1e-3


def test_ast_pooling_and_crop(ast):
    x = noise(2, 16000 * 3)
    with torch.inference_mode():
        hidden = ast.backbone(input_values=ast.features(torch.from_numpy(x))[0]).last_hidden_state
    assert hidden.shape[1] == ast.frames(x, 16000)[0].shape[1]
    np.testing.assert_allclose(ast.embed(x, 16000), hidden.mean(1).numpy(), atol=1e-5)
    ast.tokens = "patches"
    try:
        np.testing.assert_allclose(ast.embed(x, 16000), hidden[:, 2:].mean(1).numpy(), atol=1e-5)
    finally:
        ast.tokens = "all"
    long = noise(16000 * 4)  # > 256 frames: "start" keeps the first 2.59 s
    np.testing.assert_allclose(ast.embed(long, 16000), ast.embed(long[: 400 + 255 * 160], 16000), atol=1e-5)
    with pytest.raises(ValueError, match="tokens"):
        create_encoder("ast", config=transformers.ASTConfig(**AST_CFG), tokens="cls")

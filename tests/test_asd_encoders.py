"""Encoder protocol, registry, fisher / logstft adapters, resampling, bad input and the missing-extra error."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest
import torch

from fisher import FisherConfig
from fisher.signals.resample import resample, resampled_length
from fisher_asd.encoders import (
    BEATsConfig,
    BEATsEncoder,
    Encoder,
    FisherEncoder,
    FrameEncoder,
    LogSTFTEncoder,
    available_encoders,
    create_encoder,
    register_encoder,
    unregister_encoder,
)
from fisher_asd.encoders.base import RESAMPLE_METHOD

TINY_BEATS = BEATsConfig.iter3_plus(
    encoder_layers=2,
    encoder_embed_dim=64,
    encoder_attention_heads=4,
    encoder_ffn_embed_dim=128,
    embed_dim=32,
    conv_pos=16,
    conv_pos_groups=4,
)


@pytest.fixture(scope="module")
def beats():
    torch.manual_seed(0)
    return create_encoder("beats", config=TINY_BEATS)


def noise(*shape, seed=0):
    return (0.1 * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def test_builtins_registered():
    assert set(available_encoders()) >= {"fisher", "beats", "clap", "wavlm", "ast", "logstft"}


def test_protocol_conformance(beats):
    enc = create_encoder("logstft")
    assert isinstance(enc, Encoder) and isinstance(enc, LogSTFTEncoder)
    assert isinstance(beats, FrameEncoder) and isinstance(beats, BEATsEncoder)
    assert beats.name == "beats" and beats.sample_rate == 16000 and beats.dim == 64


def test_logstft_matches_baseline():
    from fisher.eval.baseline import LogSTFT

    x = noise(2, 8000)
    enc = create_encoder("logstft")
    assert enc.sample_rate is None and enc.dim is None and enc.embedding_dim(16000) == 201
    np.testing.assert_array_equal(enc.embed(x, 16000), LogSTFT().embed(x, 16000))


def test_fisher_adapter_random_weights():
    enc = create_encoder("fisher", model=FisherConfig.preset("tiny", depth=2))
    assert isinstance(enc, Encoder) and enc.sample_rate is None and enc.dim is None
    out = enc.embed(noise(2, 16000), 16000)
    assert out.shape == (2, enc.embedding_dim(16000)) and out.dtype == np.float32
    mean = FisherEncoder(enc.model, pool="mean")
    assert mean.dim == enc.model.embed_dim and mean.embed(noise(12000), 12000).shape == (mean.dim,)
    with pytest.raises(NotImplementedError, match="frame-level"):
        enc.frames(noise(16000), 16000)
    with pytest.raises(ValueError, match="pool"):
        FisherEncoder(enc.model, pool="none")
    with pytest.raises(TypeError, match="model must be"):
        FisherEncoder(42)


def test_user_encoder_registration():
    class Constant:
        name, sample_rate, dim = "const", None, 3

        def __init__(self, value=1.0):
            self.value = value

        def embedding_dim(self, sr):
            return 3

        def embed(self, waves, sr, *, batch_size=8):
            return np.full((len(waves), 3), self.value, np.float32)

    register_encoder("const", Constant)
    try:
        assert "const" in available_encoders()
        assert create_encoder("CONST", value=2.0).embed(noise(2, 10), 16000)[0, 0] == 2.0
        with pytest.raises(ValueError, match="already registered"):
            register_encoder("const", Constant)
        register_encoder("const", Constant(5.0), overwrite=True)
        assert create_encoder("const").value == 5.0
        with pytest.raises(TypeError, match="takes no options"):
            create_encoder("const", value=1.0)
    finally:
        unregister_encoder("const")
    register_encoder("broken", lambda: object())
    try:
        with pytest.raises(TypeError, match="missing name, sample_rate, dim, embedding_dim, embed"):
            create_encoder("broken")
    finally:
        unregister_encoder("broken")
    with pytest.raises(KeyError, match="unknown encoder 'nope'.*available"):
        create_encoder("nope")
    with pytest.raises(TypeError, match="factory or an encoder"):
        register_encoder("x", 42)
    with pytest.raises(TypeError, match="non-empty string"):
        register_encoder("", Constant)


def test_beats_factory_needs_weights():
    with pytest.raises(ValueError, match="checkpoint="):
        create_encoder("beats")


def test_embed_batch_invariance_and_outputs(beats):
    a, b = noise(16000, seed=1), noise(12000, seed=2)
    batch = beats.embed([a, b, a], 16000, batch_size=2)
    assert batch.shape == (3, 64) and batch.dtype == np.float32
    np.testing.assert_allclose(batch[0], beats.embed(a, 16000), atol=1e-5)
    np.testing.assert_allclose(batch[1], beats.embed(b, 16000), atol=1e-5)
    np.testing.assert_allclose(batch[2], batch[0], atol=1e-5)
    out = beats.embed(torch.from_numpy(np.stack([a, a])), 16000)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 64)
    pcm = (a * 32768).astype(np.int16)
    np.testing.assert_allclose(beats.embed(pcm, 16000), beats.embed(pcm.astype(np.float32) / 32768, 16000))


def test_resampling_is_explicit_and_logged(beats, caplog):
    x = noise(24000)
    with caplog.at_level(logging.DEBUG, logger="fisher.signals.resample"):
        out = beats.embed(x, 24000)
    assert "resampling 24000 Hz -> 16000 Hz" in caplog.text and "resample_poly" in caplog.text
    np.testing.assert_allclose(
        out, beats.embed(resample(torch.from_numpy(x), 24000, 16000, method=RESAMPLE_METHOD).numpy(), 16000), atol=1e-6
    )
    assert resampled_length(160000, 16000, 48000, method=RESAMPLE_METHOD) == 480000
    y = torch.from_numpy(noise(1000))
    assert resample(y, 16000, 16000) is y


def test_bad_input(beats):
    with pytest.raises(TypeError, match="sr must be a positive number"):
        beats.embed(noise(16000), "16000")
    with pytest.raises(ValueError, match="sr must be a positive finite"):
        beats.embed(noise(16000), -1)
    bad = noise(16000)
    bad[5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        beats.embed(bad, 16000)
    with pytest.raises(ValueError, match="clip 1 too short for beats.*2800"):
        beats.embed([noise(16000), noise(1000)], 16000)
    with pytest.raises(ValueError, match="empty"):
        beats.embed([], 16000)
    with pytest.raises(ValueError, match="different lengths"):
        beats.prepare([noise(16000), noise(8000)], 16000)
    with pytest.raises(ValueError, match="batch_size"):
        beats.embed(noise(16000), 16000, batch_size=0)


def test_backbone_stays_in_eval(beats):
    beats.train()
    assert beats.training and not beats.backbone.training
    beats.eval()


def test_frames_are_differentiable(beats):
    frames, mask = beats.frames(noise(2, 16000), 16000)
    assert frames.shape == (2, 8 * (98 // 16), 64) and mask is None
    x = beats.prepare(noise(2, 16000), 16000)
    assert x.shape == (2, 16000) and x.dtype == torch.float32


def test_missing_extra_gives_install_hint(monkeypatch):
    from fisher_asd import encoders

    monkeypatch.setitem(sys.modules, "transformers", None)
    for name in ("clap", "wavlm", "ast"):
        with pytest.raises(ImportError, match=r"pip install 'fisher-signal\[asd\]'"):
            create_encoder(name)
    with pytest.raises(ImportError, match=r"ClapEncoder.*fisher-signal\[asd\]"):
        encoders.ClapEncoder  # noqa: B018


def test_import_without_transformers():
    code = (
        "import sys; import fisher, fisher_asd.encoders, fisher_asd.streams.mef, fisher_asd.adapters.lora; "
        "assert 'transformers' not in sys.modules and 'peft' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

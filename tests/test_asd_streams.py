"""The six streams: shared-prefix inference, LoRA gradients / merging, and the published parameter counts."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from fisher_asd.adapters.lora import LORA_TARGETS, lora_modules
from fisher_asd.encoders import BEATsConfig, BEATsEncoder, create_encoder
from fisher_asd.streams.mef import STREAMS, StreamSet, adapted_copy, build_stream_set
from tests.asd_configs import TINY_AST, TINY_BEATS, TINY_CLAP, TINY_WAVLM, noise

TINY_AST_128 = {**TINY_AST, "max_length": 128}


def randomize_lora(module):
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _, m in lora_modules(module):
            m.lora_B.copy_(0.1 * torch.randn(m.lora_B.shape, generator=gen))


@pytest.fixture(scope="module")
def tiny_streams() -> StreamSet:
    torch.manual_seed(0)
    streams = build_stream_set(
        beats=BEATsEncoder.from_config(BEATsConfig.iter3_plus(**TINY_BEATS)),
        clap=create_encoder("clap", config=transformers.ClapAudioConfig(**TINY_CLAP)),
        wavlm=create_encoder("wavlm", config=transformers.WavLMConfig(**TINY_WAVLM)),
        ast=create_encoder("ast", config=transformers.ASTConfig(**TINY_AST_128)),
    )
    randomize_lora(streams)
    return streams


def test_stream_layout(tiny_streams):
    assert tiny_streams.names == [s.name for s in STREAMS]
    s = tiny_streams.streams
    assert s["beats_r16"].split == 2 and s["clap_lora"].split == 6  # depths 1+1+6+2: last four start at 6
    assert s["beats_r16"].lora_names[0] == "encoder.layers.2.self_attn.k_proj" and len(s["beats_r32"].lora_names) == 12
    # frozen modules are shared, adapted linears are not
    b16, b32 = s["beats_r16"].encoder.backbone, s["beats_r32"].encoder.backbone
    assert b16.encoder.layers[1] is b32.encoder.layers[1] and b16.patch_embedding is b32.patch_embedding
    assert b16.encoder.layers[2].fc1 is b32.encoder.layers[2].fc1
    assert b16.encoder.layers[2].self_attn is not b32.encoder.layers[2].self_attn
    c0, c1 = s["clap"].encoder.backbone, s["clap_lora"].encoder.backbone
    assert c0.audio_model.audio_encoder.layers[2].blocks[3] is c1.audio_model.audio_encoder.layers[2].blocks[3]
    assert c0.audio_projection is c1.audio_projection
    groups = {tuple(m.name for m in members): split for members, split in tiny_streams._groups()}
    assert groups[("beats_r16", "beats_r32")] == 2 and groups[("clap", "clap_lora")] == 6


def test_shared_prefix_equals_independent(tiny_streams):
    x = noise(2, 16000)
    shared = tiny_streams.embed(x, 16000)
    alone = tiny_streams.embed(x, 16000, share_prefix=False)
    for name in tiny_streams.names:
        assert shared[name].shape == (2, 256)
        np.testing.assert_allclose(shared[name], alone[name], atol=1e-5, err_msg=name)
    pooled = tiny_streams.embed(x[0], 16000, heads=False)
    assert pooled["clap"].shape == (32,) and pooled["beats_r16"].shape == (64,)
    np.testing.assert_allclose(tiny_streams.streams["wavlm"].embed(x, 16000), shared["wavlm"], atol=1e-5)


@pytest.mark.parametrize("merged", [False, True])
def test_beats_suffixes_batched_equal_separate(tiny_streams, merged):
    """The two BEATs LoRA streams finish the shared state as one batch; equal to finishing it one by one."""
    from fisher_asd.encoders.beats.model import batchable_suffix

    s = tiny_streams.streams
    e16, e32 = s["beats_r16"].encoder, s["beats_r32"].encoder
    assert batchable_suffix([e16.backbone, e32.backbone], 2)
    other = BEATsEncoder.from_config(BEATsConfig.iter3_plus(**TINY_BEATS))  # same architecture, own weights
    assert not batchable_suffix([e16.backbone, other.backbone], 2)
    if merged:
        tiny_streams.merge_lora()
    try:
        with torch.inference_mode():
            state = e16.forward_prefix(torch.from_numpy(noise(2, 16000, seed=7)), 2)
            joint = e16.forward_from_many([e16, e32], state)
            alone = [e16.forward_from(state), e32.forward_from(state)]
    finally:
        tiny_streams.unmerge_lora()
    assert joint is not None and len(joint) == 2
    for a, b in zip(joint, alone):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(joint[0], joint[1])
    assert e16.forward_from_many([e16, s["clap"].encoder], state) is None


def test_merged_equals_unmerged(tiny_streams):
    x = noise(16000, seed=4)
    ref = tiny_streams.embed(x, 16000)
    assert tiny_streams.merge_lora() == 12 + 12 + 8
    try:
        merged = tiny_streams.embed(x, 16000)
    finally:
        tiny_streams.unmerge_lora()
    for name in ref:
        np.testing.assert_allclose(merged[name], ref[name], atol=1e-5, err_msg=name)


@pytest.mark.parametrize("name", ["beats_r16", "clap_lora"])
def test_gradient_reaches_every_lora_matrix(tiny_streams, name):
    stream = tiny_streams.streams[name]
    stream.train()
    stream.zero_grad()
    x = stream.encoder.prepare(noise(2, 16000), 16000)
    stream(x).square().mean().backward()
    stream.eval()
    mods = list(lora_modules(stream))
    assert len(mods) == len(stream.lora_names) > 0
    for mod_name, m in mods:
        for p in (m.lora_A, m.lora_B):
            assert p.grad is not None and p.grad.abs().sum() > 0, mod_name
    frozen = [n for n, p in stream.encoder.backbone.named_parameters() if p.grad is not None and "lora_" not in n]
    assert frozen == []
    assert stream.head.linear.weight.grad is not None


def test_adapted_copy_errors():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="no submodule"):
        adapted_copy(model, ["1"])


def test_build_streams_errors():
    with pytest.raises(ValueError, match="at least one"):
        build_stream_set()
    with pytest.raises(ValueError, match="need encoder"):
        build_stream_set(names=("wavlm",))
    with pytest.raises(ValueError, match="unknown stream"):
        build_stream_set(names=("mfcc",))


# --------------------------------------------------------------------------- full size (random weights, offline)
@pytest.fixture(scope="module")
def full_streams() -> StreamSet:
    torch.manual_seed(0)
    return build_stream_set(
        beats=BEATsEncoder.from_config(),
        clap=create_encoder("clap", config=transformers.ClapAudioConfig()),
        wavlm=create_encoder("wavlm", config=transformers.WavLMConfig()),
        ast=create_encoder("ast", config=transformers.ASTConfig()),
    )


def test_full_size_trainable_parameter_counts(full_streams):
    counts = {name: s.num_trainable() for name, s in full_streams.streams.items()}
    assert counts == {
        "clap": 131_328,
        "wavlm": 196_864,
        "beats_r16": 491_776,
        "beats_r32": 786_688,
        "clap_lora": 205_056,
        "ast": 196_864,
    }
    assert all(counts[s.name] == s.trainable for s in STREAMS)
    # the generic "last four blocks" placement is exactly the report's
    beats = full_streams.streams["beats_r16"].lora_names
    clap = full_streams.streams["clap_lora"].lora_names
    assert len(beats) == 12 and all(re.fullmatch(LORA_TARGETS["beats"], n) for n in beats)
    assert len(clap) == 8 and all(re.fullmatch(LORA_TARGETS["clap"], n) for n in clap)
    enc = full_streams.streams["beats_r16"].encoder.backbone
    assert sum(p.numel() for n, p in enc.named_parameters() if "lora_" not in n) == 90_311_792


def test_full_size_beats_gradient_and_merge(full_streams):
    stream = full_streams.streams["beats_r32"]
    randomize_lora(stream)
    x = stream.encoder.prepare(noise(1, 3200), 16000)  # 0.2 s: one row of 8 patches
    stream.zero_grad()
    out = stream(x)
    out.square().mean().backward()
    mods = list(lora_modules(stream))
    assert len(mods) == 12 and all(m.lora_A.grad.abs().sum() > 0 and m.lora_B.grad.abs().sum() > 0 for _, m in mods)
    with torch.no_grad():
        ref = stream(x)
        full_streams.merge_lora()
        try:
            merged = stream(x)
        finally:
            full_streams.unmerge_lora()
    assert (merged - ref).abs().max() < 1e-5

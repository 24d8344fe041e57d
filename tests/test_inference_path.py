"""The chunked inference path (fisher.model.inference_path) gives the module path's outputs, at any chunk size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fisher import Fisher, FisherConfig
from fisher.model.inference_path import encode_chunked, sequences_per_chunk


@pytest.fixture(scope="module")
def tiny() -> Fisher:
    torch.manual_seed(0)
    return Fisher(FisherConfig.preset("tiny", depth=2))


def layerwise(model: Fisher) -> Fisher:
    twin = Fisher(model.config)
    twin.load_state_dict(model.state_dict())
    twin.inference_chunk_tokens = None
    return twin


def clips(batch: int, seconds: float, sr: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(batch)
    return (0.1 * rng.standard_normal((batch, int(seconds * sr)))).astype(np.float32)


def test_sequences_per_chunk():
    assert sequences_per_chunk(373) == 4
    assert sequences_per_chunk(187) == 8
    assert sequences_per_chunk(5000) == 1
    assert sequences_per_chunk(37, budget=100) == 2


@pytest.mark.parametrize("batch,seconds", [(1, 3.0), (3, 10.0), (5, 1.0)])
def test_chunked_equals_layerwise(tiny, batch, seconds):
    x = clips(batch, seconds)
    np.testing.assert_allclose(tiny.embed(x, 16000), layerwise(tiny).embed(x, 16000), rtol=0, atol=5e-6)


@pytest.mark.parametrize("budget", [1, 200, 1536, 10**6])
def test_chunk_size_does_not_change_tokens(tiny, budget):
    torch.manual_seed(3)
    tokens = torch.randn(7, 50, tiny.config.embed_dim)  # 7 sequences: chunks do not divide them evenly
    with torch.inference_mode():
        ref = layerwise(tiny).encode_tokens(tokens)
        out = encode_chunked(tiny.blocks, tiny.context_norm, tiny.cls_token, tokens, budget)
    assert out.shape == (7, 51, tiny.config.embed_dim)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-6)


def test_training_and_masks_use_the_module_path(tiny):
    """Outside inference mode (training) gradients flow; padding masks and FFN targets keep working."""
    tokens = torch.randn(2, 12, tiny.config.embed_dim, requires_grad=True)
    out, ffn = tiny.encode_tokens(tokens, return_layer_ffn=True)
    out.sum().backward()
    assert tokens.grad is not None and len(ffn) == tiny.config.depth
    with torch.inference_mode():
        masked = tiny.encode_tokens(tokens.detach(), padding_mask=torch.zeros(2, 12, dtype=torch.bool))
    torch.testing.assert_close(masked, out.detach(), rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_copies_run_chunked(tiny, precision):
    x = clips(2, 2.0)
    fast = tiny.embed(x, 16000, precision=precision, summary="mean")
    slow = layerwise(tiny).embed(x, 16000, precision=precision, summary="mean")
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-5 if precision == "int8" else 1e-2)
    ref = tiny.embed(x, 16000)  # "cls": int8 quantises the CLS rows of the last block alone; still close to fp32
    cls = tiny.embed(x, 16000, precision=precision)
    cos = (cls * ref).sum(1) / np.linalg.norm(cls, axis=1) / np.linalg.norm(ref, axis=1)
    assert np.all(np.isfinite(cls)) and cos.min() > 0.999


def test_flop_counter_sees_cpu_attention():
    """fisher.compute.flops.flop_counter = the analytic count (linear + attention + patch conv); torch's default
    counter misses the CPU SDPA kernel (≤ ours, equal once torch registers it)."""
    from torch.utils.flop_counter import FlopCounterMode

    from fisher.compute.flops import flop_counter

    torch.manual_seed(0)
    m = Fisher(FisherConfig.preset("tiny", depth=2))
    x = clips(1, 3.0)
    with flop_counter() as ours:
        m.embed(x, 16000, summary="mean")  # every token through every block ("cls" skips most of the last one)
    with FlopCounterMode(display=False) as default:
        m.embed(x, 16000, summary="mean")
    c = m.config
    n = (298 // 16) * c.freq_patches + 1  # 3 s at 16 kHz: 298 frames
    d = c.embed_dim
    analytic = m.num_bands(16000) * (c.depth * (24 * n * d * d + 4 * n * n * d) + 2 * (n - 1) * 256 * d)
    assert ours.get_total_flops() == analytic
    assert default.get_total_flops() <= analytic


@pytest.mark.parametrize("seconds", [0.5, 3.0, 10.0])
def test_cls_only_last_block_matches_the_full_path(tiny, seconds):
    x = clips(3, seconds)
    fast = tiny.embed(x, 16000)  # summary "cls": last block for the CLS token alone
    full = layerwise(tiny).embed(x, 16000)
    np.testing.assert_allclose(fast, full, rtol=0, atol=5e-6)
    both = tiny.embed(x, 16000, summary="cls+mean")  # full tokens, then the summary
    np.testing.assert_allclose(both[:, : tiny.config.embed_dim], fast[:, : tiny.config.embed_dim], rtol=0, atol=5e-6)


def test_batched_cls_last_block_equals_the_per_sequence_one(tiny):
    """The traceable batched form (ONNX export) computes what the per-sequence loop of embed computes."""
    from fisher.model.inference_path import last_block_cls_batched, run_last_block_cls

    torch.manual_seed(3)
    s, length, d = 5, 41, tiny.config.embed_dim
    x = torch.randn(s, length, d)
    with torch.inference_mode():
        batched = last_block_cls_batched(tiny.blocks[-1], x)
        looped = run_last_block_cls(tiny.blocks[-1], x.reshape(s * length, d), s, length)
        full = tiny.blocks[-1](x)[:, 0]
    assert batched.shape == (s, d)
    torch.testing.assert_close(batched, looped, rtol=0, atol=2e-6)
    torch.testing.assert_close(batched, full, rtol=0, atol=2e-6)


def test_workspace_reuses_buffers_and_returns_fresh_outputs(tiny):
    from fisher.model.inference_path import Workspace, run_block

    torch.manual_seed(5)
    x = torch.randn(2 * 9, tiny.config.embed_dim)
    ws = Workspace()
    with torch.inference_mode():
        first = run_block(tiny.blocks[0], x, 2, 9, ws)
        buffers = {k: v.data_ptr() for k, v in ws.buffers.items()}
        second = run_block(tiny.blocks[1], first, 2, 9, ws)
        alone = run_block(tiny.blocks[1], first, 2, 9)  # a fresh workspace: the same numbers
    assert set(buffers) == {"qkv", "proj", "fc1", "fc2"}
    assert {k: v.data_ptr() for k, v in ws.buffers.items()} == buffers  # the second block wrote into the same memory
    assert all(first.data_ptr() != p and second.data_ptr() != p for p in buffers.values())
    assert torch.equal(second, alone)


def test_linear_hooks_fire_and_change_nothing(tiny):
    """A hooked nn.Linear is called as a module (its hooks run); outputs agree with the buffered path to rounding."""
    x = clips(2, 2.0)
    plain = tiny.embed(x, 16000)
    seen = []
    linears = [m for m in tiny.modules() if isinstance(m, torch.nn.Linear)]
    handles = [m.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].shape[0])) for m in linears]
    try:
        hooked = tiny.embed(x, 16000)
    finally:
        for h in handles:
            h.remove()
    assert seen
    np.testing.assert_allclose(plain, hooked, rtol=0, atol=1e-6)


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_still_runs_chunked(tiny, precision):
    x = clips(1, 2.0)
    out = tiny.embed(x, 16000, precision=precision)  # a bf16 copy / int8 dynamic-quantised linear layers
    ref = tiny.embed(x, 16000)
    assert out.shape == ref.shape and np.isfinite(out).all()
    assert np.corrcoef(out.ravel(), ref.ravel())[0, 1] > 0.99


@pytest.mark.parametrize("d_in,d_out", [(192, 576), (768, 192), (384, 1536), (1536, 384)])
def test_workspace_linear_equals_f_linear(d_in, d_out):
    """float32: mm into the buffer, then += bias — F.linear (addmm) to 1 ulp at the models' layer shapes (exact for
    inner sizes < 768); bf16 uses addmm itself: identical."""
    from fisher.model.inference_path import Workspace

    torch.manual_seed(d_in)
    layer = torch.nn.Linear(d_in, d_out)
    x = torch.randn(1492, d_in)
    with torch.inference_mode():
        out = Workspace().linear("l", layer, x)
        ref = torch.nn.functional.linear(x, layer.weight, layer.bias)
        torch.testing.assert_close(out, ref, rtol=2.5e-7, atol=2.5e-7)  # ≤ 1 ulp at |y| ≤ 4
        if d_in < 768:
            assert torch.equal(out, ref)
        bf = layer.to(torch.bfloat16)
        out16 = Workspace().linear("l", bf, x.to(torch.bfloat16))
        assert torch.equal(out16, torch.nn.functional.linear(x.to(torch.bfloat16), bf.weight, bf.bias))

"""fisher::band_attention: the SDPA kernel under a name FLOP counters see (fisher.compute.attention)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from fisher import Fisher, FisherConfig
from fisher.bench.machine import analytic_flops
from fisher.compute.attention import attention_flops, band_attention, operator
from fisher.compute.flops import flop_counter

pytestmark = pytest.mark.skipif(operator() is None, reason="this torch cannot define Python operators")


def qkv(batch=3, heads=2, n=17, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    packed = torch.randn(batch, n, 3, heads, d, generator=g)
    return packed.permute(2, 0, 3, 1, 4).unbind(0)  # strided views, as in the inference path


def test_identical_to_sdpa_on_strided_views():
    q, k, v = qkv()
    with torch.inference_mode():
        out = band_attention(q, k, v)
    assert torch.equal(out, F.scaled_dot_product_attention(q, k, v))
    assert out.shape == (3, 2, 17, 8)


def test_one_query_against_many_keys():
    q, k, v = qkv(n=40)
    with torch.inference_mode():
        out = band_attention(q[:, :, :1], k, v)
    assert torch.equal(out, F.scaled_dot_product_attention(q[:, :, :1], k, v))


def test_counted_by_a_plain_flop_counter():
    q, k, v = qkv(batch=4, heads=3, n=373, d=64)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        band_attention(q, k, v)
    assert counter.get_total_flops() == 4 * 4 * 3 * 373 * 373 * 64
    assert attention_flops(q.shape, k.shape, v.shape) == counter.get_total_flops()


def test_not_counted_twice_by_the_sdpa_aware_counter():
    q, k, v = qkv()
    with torch.inference_mode(), flop_counter() as counter:
        band_attention(q, k, v)
    assert counter.get_total_flops() == 4 * 3 * 2 * 17 * 17 * 8


def test_gradients_fall_back_to_sdpa():
    q, k, v = (t.detach().clone().requires_grad_(True) for t in qkv())
    out = band_attention(q, k, v)
    out.sum().backward()
    assert q.grad is not None and k.grad is not None and v.grad is not None


def test_meta_tensors_propagate_shapes():
    q = torch.empty(2, 3, 5, 8, device="meta")
    kv = torch.empty(2, 3, 11, 8, device="meta")
    out = operator()(q, kv, kv)
    assert out.shape == (2, 3, 5, 8) and out.device.type == "meta"


def test_opcheck():
    opcheck = getattr(torch.library, "opcheck", None)
    if opcheck is None:
        pytest.skip("torch.library.opcheck needs torch >= 2.4")
    q, k, v = (t.contiguous() for t in qkv())
    opcheck(operator(), (q, k, v), test_utils=("test_schema", "test_faketensor"))


@pytest.mark.parametrize("summary", ["cls", "mean"])
def test_embed_counts_all_its_flops(summary):
    """A plain FlopCounterMode around Fisher.embed counts the analytic FLOPs, attention included."""
    torch.manual_seed(0)
    model = Fisher(FisherConfig.preset("tiny", depth=2, summary=summary))
    clip = (0.1 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    with FlopCounterMode(display=False) as counter:
        model.embed(clip, 16000)
    parts = analytic_flops(model.config, 16000, clip.size, cls_only=summary == "cls")
    assert parts["attention"] > 0
    assert counter.get_total_flops() == pytest.approx(parts["total"], rel=1e-9)

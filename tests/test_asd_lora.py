"""Own LoRA: counts, gradients, merge / unmerge, injection by name pattern."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fisher_asd.adapters.heads import ProjectionHead
from fisher_asd.adapters.lora import (
    LoRALinear,
    inject_lora,
    lora_modules,
    lora_parameters,
    mark_only_lora_trainable,
    merge_lora,
    unmerge_lora,
)


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.ModuleDict({"q": nn.Linear(8, 8), "k": nn.Linear(8, 8), "v": nn.Linear(8, 8)}) for _ in range(3)
        )
        self.out = nn.Linear(8, 4)

    def forward(self, x):
        for b in self.blocks:
            x = torch.tanh(b["q"](x) + b["k"](x) * b["v"](x))
        return self.out(x)


def test_lora_linear_counts_and_identity_at_init():
    base = nn.Linear(768, 768)
    lora = LoRALinear(base, r=16, alpha=32)
    assert sum(p.numel() for p in (lora.lora_A, lora.lora_B)) == 16 * (768 + 768)
    assert lora.scaling == 2.0 and not lora.base.weight.requires_grad and not lora.base.bias.requires_grad
    x = torch.randn(4, 768)
    assert torch.equal(lora(x), base(x))  # B = 0


def test_gradient_reaches_every_lora_matrix_and_merge_agrees():
    torch.manual_seed(0)
    model = Toy()
    names = inject_lora(model, r"blocks\.(1|2)\.(q|v)", r=4, alpha=8)
    assert names == ["blocks.1.q", "blocks.1.v", "blocks.2.q", "blocks.2.v"]
    assert mark_only_lora_trainable(model) == 4 * 4 * (8 + 8)
    for p in lora_parameters(model):
        nn.init.normal_(p, std=0.3)
    x = torch.randn(5, 8)
    model(x).square().sum().backward()
    for name, m in lora_modules(model):
        assert m.lora_A.grad is not None and m.lora_A.grad.abs().sum() > 0, name
        assert m.lora_B.grad is not None and m.lora_B.grad.abs().sum() > 0, name
    with torch.no_grad():
        ref = model(x)
        assert merge_lora(model) == 4
        merged = model(x)
        assert merge_lora(model) == 4  # idempotent
        assert torch.allclose(model(x), merged)
        unmerge_lora(model)
        back = model(x)
    assert (merged - ref).abs().max() < 1e-5 and (back - ref).abs().max() < 1e-5


def test_training_while_merged_raises():
    model = Toy()
    inject_lora(model, r"blocks\.0\.q", r=2, alpha=2)
    merge_lora(model)
    with pytest.raises(RuntimeError, match="unmerge_lora"):
        model(torch.randn(2, 8))
    with torch.no_grad():
        model(torch.randn(2, 8))


def test_inject_errors():
    model = Toy()
    with pytest.raises(ValueError, match="matches no nn.Linear"):
        inject_lora(model, r"blocks\.9\.q", r=2, alpha=2)
    inject_lora(model, r"blocks\.0\.q", r=2, alpha=2)
    with pytest.raises(TypeError, match="already has a LoRA"):
        inject_lora(model, r"blocks\.0\.q\.base", r=2, alpha=2)
    with pytest.raises(ValueError, match="rank"):
        LoRALinear(nn.Linear(2, 2), r=0, alpha=1)
    with pytest.raises(ValueError, match="alpha"):
        LoRALinear(nn.Linear(2, 2), r=1, alpha=float("nan"))
    with pytest.raises(TypeError, match="nn.Linear"):
        LoRALinear(nn.Conv1d(2, 2, 1), r=1, alpha=1)


def test_projection_head():
    head = ProjectionHead(512)
    assert sum(p.numel() for p in head.parameters()) == 131_328
    out = head(torch.randn(3, 512))
    assert out.shape == (3, 256) and bool((out >= 0).all())
    with pytest.raises(ValueError, match="512"):
        head(torch.randn(3, 768))
    with pytest.raises(ValueError, match="in_dim"):
        ProjectionHead(0)

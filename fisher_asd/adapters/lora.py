"""Low-rank adapters (LoRA, Hu et al., 2021) — a small own implementation, no ``peft`` needed.

``LoRALinear`` wraps a frozen ``nn.Linear`` ``W`` (``[out, in]``) and adds ``(alpha / r) · B A x`` with trainable
``A`` ``[r, in]`` (Kaiming-uniform init) and ``B`` ``[out, r]`` (zeros, so a fresh adapter is the identity); no bias.
Trainable parameters per adapter: ``r · (in + out)``. :meth:`LoRALinear.merge` folds ``(alpha / r) · B A`` into
``W`` for inference (no extra cost); :meth:`LoRALinear.unmerge` restores it for further training.

``inject_lora(model, pattern, r, alpha)`` replaces every ``nn.Linear`` whose qualified name fully matches the regex
``pattern`` and returns the replaced names. The placements of the DCASE 2026 report are in ``LORA_TARGETS``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "LORA_TARGETS",
    "LoRALinear",
    "inject_lora",
    "lora_modules",
    "lora_parameters",
    "mark_only_lora_trainable",
    "merge_lora",
    "unmerge_lora",
]

LORA_TARGETS = {
    # BEATs: q, k, v of the last four of 12 layers
    "beats": r"encoder\.layers\.(8|9|10|11)\.self_attn\.(q_proj|k_proj|v_proj)",
    # CLAP HTS-AT: query, value of the last four Swin blocks (stage-3 blocks 4-5, stage-4 blocks 0-1)
    "clap": r".*audio_encoder\.layers\.(2\.blocks\.(4|5)|3\.blocks\.(0|1))\.attention\.self\.(query|value)",
}


class LoRALinear(nn.Module):
    """``y = W x + b + (alpha / r) · B (A dropout(x))`` around a frozen base ``nn.Linear``."""

    def __init__(self, base: nn.Linear, r: int, alpha: float, dropout: float = 0.0) -> None:
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"LoRALinear wraps nn.Linear, got {type(base).__name__}")
        if isinstance(r, bool) or not isinstance(r, int) or r <= 0:
            raise ValueError(f"LoRA rank r must be a positive int, got {r!r}")
        if not math.isfinite(alpha) or alpha <= 0:
            raise ValueError(f"LoRA alpha must be a positive number, got {alpha!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"LoRA dropout must be in [0, 1), got {dropout!r}")
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.r, self.alpha, self.scaling, self.dropout = r, float(alpha), float(alpha) / r, dropout
        w = base.weight
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, dtype=w.dtype, device=w.device))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, dtype=w.dtype, device=w.device))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.merged = False

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def delta_weight(self) -> torch.Tensor:
        """``(alpha / r) · B A`` ``[out, in]``."""
        return (self.lora_B @ self.lora_A) * self.scaling

    @torch.no_grad()
    def merge(self) -> None:
        """Fold the adapter into the base weight (idempotent)."""
        if not self.merged:
            self.base.weight.add_(self.delta_weight())
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Undo :meth:`merge` (idempotent)."""
        if self.merged:
            self.base.weight.sub_(self.delta_weight())
            self.merged = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        if self.merged:
            if torch.is_grad_enabled() and self.lora_A.requires_grad:
                raise RuntimeError(
                    "LoRA adapter is merged into its base weight: call unmerge_lora() before training "
                    "(gradients would not reach lora_A / lora_B)"
                )
            return out
        h = F.dropout(x, self.dropout, self.training) @ self.lora_A.T
        return out + (h @ self.lora_B.T) * self.scaling

    def extra_repr(self) -> str:
        return f"r={self.r}, alpha={self.alpha}, merged={self.merged}"


def inject_lora(model: nn.Module, pattern: str, r: int, alpha: float, dropout: float = 0.0) -> list[str]:
    """Wrap every ``nn.Linear`` of ``model`` whose qualified name fully matches ``pattern`` in a :class:`LoRALinear`.

    Returns the wrapped names (sorted). Raises ``ValueError`` when nothing matches (a typo must not silently
    train nothing) and when a match is already wrapped.
    """
    regex = re.compile(pattern)
    names = [name for name, m in model.named_modules() if isinstance(m, nn.Linear) and regex.fullmatch(name)]
    if not names:
        raise ValueError(f"LoRA pattern {pattern!r} matches no nn.Linear in {type(model).__name__}")
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        if isinstance(parent, LoRALinear):
            raise TypeError(f"{parent_name} already has a LoRA adapter")
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, dropout))
    return sorted(names)


def lora_modules(model: nn.Module) -> Iterator[tuple[str, LoRALinear]]:
    """``(name, module)`` for every :class:`LoRALinear` in ``model``."""
    for name, m in model.named_modules():
        if isinstance(m, LoRALinear):
            yield name, m


def lora_parameters(model: nn.Module) -> list[nn.Parameter]:
    """All ``lora_A`` / ``lora_B`` parameters of ``model``."""
    return [p for _, m in lora_modules(model) for p in (m.lora_A, m.lora_B)]


def mark_only_lora_trainable(model: nn.Module) -> int:
    """Freeze everything except LoRA matrices; return the number of trainable parameters."""
    for p in model.parameters():
        p.requires_grad_(False)
    params = lora_parameters(model)
    for p in params:
        p.requires_grad_(True)
    return sum(p.numel() for p in params)


def merge_lora(model: nn.Module) -> int:
    """Merge every adapter of ``model``; return how many were merged."""
    mods = [m for _, m in lora_modules(model)]
    for m in mods:
        m.merge()
    return len(mods)


def unmerge_lora(model: nn.Module) -> int:
    """Unmerge every adapter of ``model``; return how many were unmerged."""
    mods = [m for _, m in lora_modules(model)]
    for m in mods:
        m.unmerge()
    return len(mods)

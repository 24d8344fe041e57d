"""Inverse block masking over the (time, frequency) patch grid of one band sequence.

A band of ``Tp × Fp`` patches (token ``k`` ↔ ``(k // Fp, k % Fp)``, the encoder's order) keeps exactly
``n_visible = floor(N · (1 - mask_ratio))`` visible patches (at least 1):

1. sample ``round(N · (1 - mask_ratio + adjust) / block²)`` block corners uniformly (with repetition);
2. mark the ``block × block`` square at each corner visible (``block`` is capped at the grid size, squares lie
   fully inside the grid); ``adjust`` (0.07) compensates for overlapping squares;
3. make the count exact: drop random visible patches if there are too many, add random hidden ones if too few.

So every visible patch except at most ``|n_visible - union size|`` lies in a sampled square. The masks of different
sequences are independent. ``True`` in a mask means *hidden* (the student does not see it).
"""

from __future__ import annotations

import math

import torch

__all__ = ["block_union", "clone_count", "inverse_block_mask", "num_visible", "visible_indices"]


def num_visible(num_patches: int, mask_ratio: float) -> int:
    """Exact number of visible patches per sequence: ``max(1, floor(N · (1 - mask_ratio)))``."""
    if num_patches < 1:
        raise ValueError(f"a band needs at least one patch, got {num_patches}")
    if not 0.0 < mask_ratio < 1.0:
        raise ValueError(f"mask_ratio must be in (0, 1), got {mask_ratio}")
    return max(1, math.floor(num_patches * (1.0 - mask_ratio) + 1e-9))


def block_union(corners: torch.Tensor, grid: tuple[int, int], block: int) -> torch.Tensor:
    """Boolean ``[S, Tp·Fp]`` union of ``block × block`` squares whose top-left patches are ``corners`` ``[S, M, 2]``."""
    tp, fp = grid
    bt, bf = min(block, tp), min(block, fp)
    s = corners.shape[0]
    dt, df = torch.meshgrid(torch.arange(bt), torch.arange(bf), indexing="ij")
    rows = corners[..., 0, None] + dt.reshape(1, 1, -1)  # [S, M, bt·bf]
    cols = corners[..., 1, None] + df.reshape(1, 1, -1)
    flat = (rows * fp + cols).reshape(s, -1)
    out = torch.zeros(s, tp * fp, dtype=torch.bool)
    out.scatter_(1, flat, True)
    return out


def inverse_block_mask(
    num_seq: int,
    grid: tuple[int, int],
    mask_ratio: float = 0.8,
    block: int = 5,
    adjust: float = 0.07,
    generator: torch.Generator | None = None,
    return_union: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Hidden-patch masks ``[num_seq, Tp·Fp]`` (bool, True = hidden) with exactly ``num_visible`` False per row.

    ``return_union=True`` also returns the visible block union before the count was made exact.
    """
    tp, fp = grid
    if tp < 1 or fp < 1 or num_seq < 1:
        raise ValueError(f"need a non-empty grid and at least one sequence, got grid {grid}, {num_seq} sequences")
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a positive integer, got {block!r}")
    n = tp * fp
    keep = num_visible(n, mask_ratio)
    bt, bf = min(block, tp), min(block, fp)
    n_blocks = max(1, round(n * (1.0 - mask_ratio + adjust) / (bt * bf)))
    rt = torch.randint(0, tp - bt + 1, (num_seq, n_blocks, 1), generator=generator)
    rf = torch.randint(0, fp - bf + 1, (num_seq, n_blocks, 1), generator=generator)
    union = block_union(torch.cat([rt, rf], dim=-1), grid, block)
    # exact count: random priorities, keep the `keep` best with union members ranked first
    prio = torch.rand(num_seq, n, generator=generator) + union.float() * 2.0
    order = prio.argsort(dim=1, descending=True, stable=True)
    visible = torch.zeros_like(union)
    visible.scatter_(1, order[:, :keep], True)
    hidden = ~visible
    return (hidden, union) if return_union else hidden


def visible_indices(hidden: torch.Tensor) -> torch.Tensor:
    """Token indices of the visible patches, ascending, ``[S, n_visible]`` (every row must have the same count)."""
    counts = (~hidden).sum(dim=1)
    if counts.numel() and not bool((counts == counts[0]).all()):
        raise ValueError("every sequence must have the same number of visible patches")
    order = torch.argsort(hidden.to(torch.int8), dim=1, stable=True)  # visible (0) first, in token order
    return order[:, : int(counts[0])]


def clone_count(num_bands: int, max_bands_per_sample: int) -> int:
    """Masked copies per band sequence so that a sample yields at most ``max_bands_per_sample`` (≥ 1) sequences."""
    if num_bands < 1 or max_bands_per_sample < 1:
        raise ValueError("num_bands and max_bands_per_sample must be positive")
    return max(1, max_bands_per_sample // num_bands)

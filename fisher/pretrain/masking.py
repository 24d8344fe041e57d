"""Inverse block masking (EAT's ``compute_block_mask_2d`` with ``inverse_mask=True``) on a (time, frequency) grid.

A band of ``Tp × Fp`` patches (token ``k`` ↔ ``(k // Fp, k % Fp)``, the encoder's order) with ``L = Tp·Fp`` patches
and visible share ``v = 1 - mask_ratio``:

1. draw ``int(L · (v + adjust) / block²)`` block *centres* uniformly over all ``L`` cells (with repetition);
2. around each centre mark the ``block × block`` square of offsets ``-(block // 2) … block - 1 - block // 2`` in
   both directions visible, each index clamped to the grid (a block at the edge is cut, not moved inside);
3. make the count exact, ``int(L · v)`` visible (at least 1): drop uniformly chosen visible cells if the union is
   larger, add uniformly chosen hidden cells if it is smaller.

So the edge rows/columns are visible less often than the middle ones, and a visible cell can be isolated (added in
step 3). ``adjust`` (0.07) compensates for overlapping blocks. Masks of different sequences are independent.
``True`` in a mask means *hidden* (the student does not see it).

Padded batches (:func:`padded_inverse_block_mask`): a sequence whose first ``r`` time rows are real and the rest
padding gets the mask of its ``r × Fp`` real grid (steps 1–3 on that grid); padding rows are always hidden.
"""

from __future__ import annotations

import torch

__all__ = [
    "block_union",
    "clone_count",
    "inverse_block_mask",
    "num_visible",
    "padded_inverse_block_mask",
    "visible_index",
]


def num_visible(num_patches: int, mask_ratio: float) -> int:
    """Exact number of visible patches per sequence: ``max(1, int(N · (1 - mask_ratio)))`` (EAT's ``int``)."""
    if num_patches < 1:
        raise ValueError(f"a band needs at least one patch, got {num_patches}")
    if not 0.0 < mask_ratio < 1.0:
        raise ValueError(f"mask_ratio must be in (0, 1), got {mask_ratio}")
    return max(1, int(num_patches * (1.0 - mask_ratio)))


def num_centres(num_patches: int, mask_ratio: float, block: int, adjust: float) -> int:
    """Block centres drawn per sequence: ``int(N · (1 - mask_ratio + adjust) / block²)`` (may be 0)."""
    return int(num_patches * ((1.0 - mask_ratio + adjust) / block**2))


def block_union(centres: torch.Tensor, grid: tuple[int, int], block: int) -> torch.Tensor:
    """Boolean ``[S, Tp·Fp]``: the cells of the clamped ``block × block`` squares around ``centres`` ``[S, M]``
    (flat cell indices)."""
    tp, fp = grid
    s = centres.shape[0]
    off = torch.arange(block) - block // 2
    dt, df = torch.meshgrid(off, off, indexing="ij")
    rows = (centres[..., None] // fp + dt.reshape(1, 1, -1)).clamp_(0, tp - 1)  # [S, M, block²]
    cols = (centres[..., None] % fp + df.reshape(1, 1, -1)).clamp_(0, fp - 1)
    out = torch.zeros(s, tp * fp, dtype=torch.bool)
    if centres.shape[1]:
        out.scatter_(1, (rows * fp + cols).reshape(s, -1), True)
    return out


def _check(num_seq: int, grid: tuple[int, int], block: int) -> None:
    tp, fp = grid
    if tp < 1 or fp < 1 or num_seq < 1:
        raise ValueError(f"need a non-empty grid and at least one sequence, got grid {grid}, {num_seq} sequences")
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a positive integer, got {block!r}")


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

    ``return_union=True`` also returns the visible block union (step 2) before the count was made exact.
    """
    _check(num_seq, grid, block)
    n = grid[0] * grid[1]
    keep = num_visible(n, mask_ratio)
    m = num_centres(n, mask_ratio, block, adjust)
    centres = torch.randint(0, n, (num_seq, m), generator=generator)
    union = block_union(centres, grid, block)
    # exact count: random priorities with union members ranked first, keep the `keep` best — this drops uniformly
    # chosen union cells when the union is too large and adds uniformly chosen other cells when it is too small
    prio = torch.rand(num_seq, n, generator=generator) + union.float() * 2.0
    order = prio.argsort(dim=1, descending=True)
    visible = torch.zeros_like(union)
    visible.scatter_(1, order[:, :keep], True)
    hidden = ~visible
    return (hidden, union) if return_union else hidden


def padded_inverse_block_mask(
    valid_rows: torch.Tensor,
    grid: tuple[int, int],
    mask_ratio: float = 0.8,
    block: int = 5,
    adjust: float = 0.07,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Masks ``[S, Tp·Fp]`` for sequences whose first ``valid_rows[s]`` time rows are real (the rest padding).

    Each sequence gets :func:`inverse_block_mask` of its ``valid_rows[s] × Fp`` real grid; padding is hidden.
    The visible count therefore differs between sequences of different real length.
    """
    tp, fp = grid
    valid_rows = torch.as_tensor(valid_rows, dtype=torch.long)
    if valid_rows.ndim != 1 or bool((valid_rows < 1).any()) or bool((valid_rows > tp).any()):
        raise ValueError(f"valid_rows must be a 1-D tensor of values in 1..{tp}, got {valid_rows.tolist()}")
    hidden = torch.ones(valid_rows.shape[0], tp * fp, dtype=torch.bool)
    for r in sorted(set(valid_rows.tolist())):
        rows = (valid_rows == r).nonzero().squeeze(1)
        sub = inverse_block_mask(rows.numel(), (r, fp), mask_ratio, block, adjust, generator=generator)
        hidden[rows, : r * fp] = sub
    return hidden


def visible_index(hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Token indices of the visible patches, ascending, padded to the largest count: ``(index, pad)`` both
    ``[S, n_max]``; ``pad`` is True on filler slots (their index points at a hidden token and must be ignored)."""
    counts = (~hidden).sum(dim=1)
    n_max = int(counts.max()) if counts.numel() else 0
    order = torch.argsort(hidden.to(torch.int8), dim=1, stable=True)  # visible (0) first, in token order
    pad = torch.arange(n_max)[None, :] >= counts[:, None]
    return order[:, :n_max], pad


def clone_count(num_bands: int, max_bands_per_sample: int) -> int:
    """Masked copies per band sequence so that a sample yields at most ``max_bands_per_sample`` (≥ 1) sequences."""
    if num_bands < 1 or max_bands_per_sample < 1:
        raise ValueError("num_bands and max_bands_per_sample must be positive")
    return max(1, max_bands_per_sample // num_bands)

"""The distillation objective: teacher targets (no gradient) and the student + decoder forward pass.

One step on band images ``bands`` ``[S, T, W]`` (S = batch · bands, T = the fixed grid's frames), each with
``valid_rows`` real time-patch rows (the rest is padding), ``C`` masked clones per band sequence::

    teacher:  patch_tokens(bands) → encode_tokens(padding_mask) → FFN outputs → targets y [S, N, D] (zero on
              padding), band target = mean of y over the real tokens [S, D]
    student:  patch_tokens(bands) [S, N, D] → C clones → its visible tokens (never padding) [S·C, n_vis, D]
              → encode_tokens → CLS [S·C, D] and visible outputs → decoder → [S·C, N, D]
    L_patch = mean of ℓ over hidden real patches;  L_band = sum (or mean) of ℓ(CLS, band target) over S·C rows

Padding follows the official remnant's ``convert_padding_mask`` design: padding tokens are a key padding mask in
every teacher attention (no token attends to them), they are excluded from the teacher's per-layer instance norm
and from the band-target mean, never visible to the student and never in a loss. The student *is* a
:class:`fisher.model.network.Fisher` (same module as inference); only the token selection is added here.
"""

from __future__ import annotations

import torch
from torch import nn

from fisher.model.network import Fisher
from fisher.pretrain.decoder import ConvDecoder
from fisher.pretrain.losses import reduce_rows, row_loss
from fisher.pretrain.targets import band_targets, patch_targets

__all__ = ["DistillationModel", "channel_std", "teacher_targets", "token_padding"]


def token_padding(valid_rows: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """``[S, Tp·Fp]`` bool, True on the tokens of padding rows (row ``≥ valid_rows[s]``)."""
    tp, fp = grid
    rows = torch.arange(tp * fp, device=valid_rows.device) // fp
    return rows[None, :] >= valid_rows[:, None]


def channel_std(x: torch.Tensor) -> torch.Tensor:
    """Mean over channels of the per-channel standard deviation across rows of ``[M, D]`` (collapse → 0)."""
    if x.shape[0] < 2:
        return x.new_zeros(())
    return x.detach().float().std(dim=0).mean()


@torch.no_grad()
def teacher_targets(
    teacher: Fisher,
    bands: torch.Tensor,
    *,
    top_k: int | None = None,
    instance_norm_layers: bool = True,
    layer_norm: bool = True,
    padding: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher patch targets ``[S, N, D]`` and band targets ``[S, D]`` (float32) from the unmasked bands.

    ``padding`` ``[S, N]`` (bool, True = padding token) or None for unpadded bands.
    """
    _, ffn = teacher.encode_tokens(teacher.patch_tokens(bands), return_layer_ffn=True, padding_mask=padding)
    valid = None if padding is None else ~padding
    y = patch_targets(
        [f[:, 1:] for f in ffn], top_k, instance_norm_layers=instance_norm_layers, layer_norm=layer_norm, valid=valid
    )
    return y, band_targets(y, valid)


class DistillationModel(nn.Module):
    """Student encoder + decoder; ``forward`` returns the loss terms and statistics (wrap this module in DDP)."""

    def __init__(self, student: Fisher, decoder: ConvDecoder) -> None:
        super().__init__()
        self.student, self.decoder = student, decoder

    def forward(
        self,
        bands: torch.Tensor,
        hidden: torch.Tensor,
        patch_target: torch.Tensor,
        band_target: torch.Tensor,
        clones: int,
        padding: torch.Tensor | None = None,
        band_reduction: str = "sum",
    ) -> dict[str, torch.Tensor]:
        """``bands`` ``[S, T, W]``; ``hidden`` ``[S·C, N]`` bool masks (clone-major per sequence: rows
        ``s·C … s·C + C - 1`` belong to sequence ``s``; padding must be hidden); targets ``[S, N, D]`` /
        ``[S, D]``; ``padding`` ``[S, N]`` bool or None.

        Returns ``loss_patch``, ``loss_band`` (scalars with gradient) and the detached statistics
        ``pred_std`` / ``target_std`` (hidden patches) and ``cls_std`` / ``band_target_std`` (band sequences).
        """
        from fisher.pretrain.masking import visible_index

        tokens = self.student.patch_tokens(bands)
        s, n, d = tokens.shape
        if hidden.shape != (s * clones, n):
            raise ValueError(f"masks must be [{s * clones}, {n}], got {tuple(hidden.shape)}")
        pad_tok = None if padding is None else padding.repeat_interleave(clones, dim=0).to(tokens.device)
        mask = hidden.to(tokens.device)
        if pad_tok is not None and bool((pad_tok & ~mask).any()):
            raise ValueError("a padding patch is visible: padding must always be hidden")
        index, slot_pad = visible_index(hidden.cpu())
        index, slot_pad = index.to(tokens.device), slot_pad.to(tokens.device)
        tokens = tokens.repeat_interleave(clones, dim=0)
        visible = torch.gather(tokens, 1, index.unsqueeze(-1).expand(-1, -1, d))
        any_pad = bool(slot_pad.any())
        out = self.student.encode_tokens(visible, padding_mask=slot_pad if any_pad else None)
        cfg = self.student.config
        grid = (bands.shape[1] // cfg.patch_size, cfg.freq_patches)
        pred = self.decoder(out[:, 1:], index, grid, slot_pad if any_pad else None)
        y = patch_target.repeat_interleave(clones, dim=0)
        scored = mask if pad_tok is None else mask & ~pad_tok
        p, t = pred[scored], y[scored]
        cls, yb = out[:, 0], band_target.repeat_interleave(clones, dim=0)
        return {
            "loss_patch": row_loss(p, t).mean(),
            "loss_band": reduce_rows(row_loss(cls, yb), band_reduction),
            "pred_std": channel_std(p),
            "target_std": channel_std(t),
            "cls_std": channel_std(cls),
            "band_target_std": channel_std(band_target),
        }

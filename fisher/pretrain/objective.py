"""The distillation objective: teacher targets (no gradient) and the student + decoder forward pass.

One step on band images ``bands`` ``[S, T, W]`` (S = batch · bands, T = the fixed grid's frames), each with
``valid_rows`` real time-patch rows (the rest is padding), ``C`` masked clones per band sequence::

    teacher:  patch_tokens(bands) → encode_tokens(padding_mask) → FFN outputs → targets y [S, N, D] (zero on
              padding), band target = mean of y over the real tokens [S, D]
    student:  patch_tokens(bands) [S, N, D] → C clones → its visible tokens (never padding) [S·C, n_vis, D]
              → encode_tokens → CLS [S·C, D] and visible outputs → decoder → [S·C, N, D]
    L_patch = mean of ℓ over hidden real patches;  L_band = sum (or mean) of ℓ(head(CLS), norm(band target))
    over S·C rows (head / norm: :mod:`fisher.pretrain.band_head`, identity by default as in EAT)

Padding follows the official remnant's ``convert_padding_mask`` design: padding tokens are a key padding mask in
every teacher attention (no token attends to them), they are excluded from the teacher's per-layer instance norm
and from the band-target mean, never visible to the student and never in a loss. The student *is* a
:class:`fisher.model.network.Fisher` (same module as inference); only the token selection is added here.
"""

from __future__ import annotations

import torch
from torch import nn

from fisher.model.network import Fisher
from fisher.pretrain.band_head import BandHead
from fisher.pretrain.decoder import ConvDecoder
from fisher.pretrain.losses import reduce_rows, row_loss
from fisher.pretrain.targets import band_targets, layer_mean_targets, patch_targets

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
    band_target: str = "patch_mean",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher patch targets ``[S, N, D]`` and band targets ``[S, D]`` (float32) from the unmasked bands.

    ``padding`` ``[S, N]`` (bool, True = padding token) or None for unpadded bands. ``band_target``:
    ``"patch_mean"`` (EAT: mean of the patch targets) or ``"layer_mean"`` (see :mod:`fisher.pretrain.targets`).
    """
    _, ffn = teacher.encode_tokens(teacher.patch_tokens(bands), return_layer_ffn=True, padding_mask=padding)
    valid = None if padding is None else ~padding
    layers = [f[:, 1:] for f in ffn]
    y = patch_targets(layers, top_k, instance_norm_layers=instance_norm_layers, layer_norm=layer_norm, valid=valid)
    if band_target == "layer_mean":
        return y, layer_mean_targets(layers, top_k, layer_norm=layer_norm, valid=valid)
    if band_target != "patch_mean":
        raise ValueError(f"targets.band_target must be 'patch_mean' or 'layer_mean', got {band_target!r}")
    return y, band_targets(y, valid)


def _visible_mean(tokens: torch.Tensor, slot_pad: torch.Tensor | None) -> torch.Tensor:
    """Mean of the student's visible output tokens ``[M, n, D]`` per row (filler slots excluded) → ``[M, D]``."""
    if slot_pad is None:
        return tokens.mean(dim=1)
    w = (~slot_pad).to(tokens.dtype).unsqueeze(-1)
    return (tokens * w).sum(dim=1) / w.sum(dim=1).clamp_min(1.0)


class DistillationModel(nn.Module):
    """Student encoder + decoder + band head; ``forward`` returns the loss terms and statistics (wrap this module
    in DDP). ``band_head`` default: no projection, no target standardisation (EAT)."""

    def __init__(self, student: Fisher, decoder: ConvDecoder, band_head: BandHead | None = None) -> None:
        super().__init__()
        self.student, self.decoder = student, decoder
        self.band_head = band_head if band_head is not None else BandHead(student.config.embed_dim)

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
        ``pred_std`` / ``target_std`` (hidden patches) and ``cls_std`` / ``band_target_std`` (band sequences), and
        the detached rows ``cls_rows`` / ``patch_rows`` ``[S·C, D]`` (student CLS, mean visible output) for the
        collapse diagnostics.
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
        cls = out[:, 0]
        yb = self.band_head.normalise(band_target).repeat_interleave(clones, dim=0)
        pred_band = self.band_head.project(cls)
        return {
            "loss_patch": row_loss(p, t).mean(),
            "loss_band": reduce_rows(row_loss(pred_band, yb), band_reduction),
            "pred_std": channel_std(p),
            "target_std": channel_std(t),
            "cls_std": channel_std(cls),
            "band_target_std": channel_std(band_target),
            "cls_rows": cls.detach(),
            "patch_rows": _visible_mean(out[:, 1:], slot_pad if any_pad else None).detach(),
        }

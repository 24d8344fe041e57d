"""The distillation objective: teacher targets (no gradient) and the student + decoder forward pass.

One step on band images ``bands`` ``[S, T, W]`` (S = batch · bands), ``C`` masked clones per band sequence::

    teacher:  patch_tokens(bands) → encode_tokens(.., return_layer_ffn) → targets y [S, N, D], band target [S, D]
    student:  patch_tokens(bands) [S, N, D] → C clones → keep the visible tokens [S·C, n_vis, D]
              → encode_tokens → CLS [S·C, D] and visible outputs → decoder → [S·C, N, D]
    L_patch = regression_loss(decoder output, y) over hidden patches;  L_band = regression_loss(CLS, band target)

The student *is* a :class:`fisher.model.network.Fisher` (same module as inference); only the token selection is added here.
"""

from __future__ import annotations

import torch
from torch import nn

from fisher.model.network import Fisher
from fisher.pretrain.decoder import ConvDecoder
from fisher.pretrain.losses import regression_loss
from fisher.pretrain.targets import band_targets, patch_targets

__all__ = ["DistillationModel", "teacher_targets"]


@torch.no_grad()
def teacher_targets(teacher: Fisher, bands: torch.Tensor, *, top_k: int | None = None,
                    instance_norm_layers: bool = True, layer_norm: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher patch targets ``[S, N, D]`` and band targets ``[S, D]`` (float32) from the unmasked bands."""
    _, ffn = teacher.encode_tokens(teacher.patch_tokens(bands), return_layer_ffn=True)
    y = patch_targets([f[:, 1:] for f in ffn], top_k, instance_norm_layers=instance_norm_layers,
                      layer_norm=layer_norm)
    return y, band_targets(y)


class DistillationModel(nn.Module):
    """Student encoder + decoder; ``forward`` returns ``(L_patch, L_band)`` (wrap this module in DDP)."""

    def __init__(self, student: Fisher, decoder: ConvDecoder) -> None:
        super().__init__()
        self.student, self.decoder = student, decoder

    def forward(self, bands: torch.Tensor, hidden: torch.Tensor, patch_target: torch.Tensor,
                band_target: torch.Tensor, clones: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``bands`` ``[S, T, W]``; ``hidden`` ``[S·C, N]`` bool masks (clone-major per sequence: rows
        ``s·C … s·C + C - 1`` belong to sequence ``s``); targets ``[S, N, D]`` / ``[S, D]``."""
        from fisher.pretrain.masking import visible_indices

        tokens = self.student.patch_tokens(bands)
        s, n, d = tokens.shape
        if hidden.shape != (s * clones, n):
            raise ValueError(f"masks must be [{s * clones}, {n}], got {tuple(hidden.shape)}")
        index = visible_indices(hidden.cpu()).to(tokens.device)
        tokens = tokens.repeat_interleave(clones, dim=0)
        visible = torch.gather(tokens, 1, index.unsqueeze(-1).expand(-1, -1, d))
        out = self.student.encode_tokens(visible)
        cfg = self.student.config
        grid = (bands.shape[1] // cfg.patch_size, cfg.freq_patches)
        pred = self.decoder(out[:, 1:], index, grid)
        y = patch_target.repeat_interleave(clones, dim=0)
        mask = hidden.to(tokens.device)
        loss_patch = regression_loss(pred[mask], y[mask])
        loss_band = regression_loss(out[:, 0], band_target.repeat_interleave(clones, dim=0))
        return loss_patch, loss_band

"""Teacher targets from the per-block FFN outputs (spec §10: instance norm per layer, average, layer norm).

For the top ``K`` blocks' MLP-branch outputs ``f_l`` ``[S, N, D]`` (CLS removed):

* ``instance_norm_layers``: each channel of each sequence normalised over its tokens (eps 1e-5, no affine);
* average over the ``K`` layers;
* ``layer_norm``: each token normalised over its ``D`` channels (eps 1e-5, no affine).

The patch target is that ``[S, N, D]`` tensor; the band target is its mean over the ``N`` tokens ``[S, D]``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["band_targets", "patch_targets"]


def patch_targets(layer_ffn: list[torch.Tensor], top_k: int | None = None, *, instance_norm_layers: bool = True,
                  layer_norm: bool = True) -> torch.Tensor:
    """Average of the top ``top_k`` (default all) layers' FFN outputs ``[S, N, D]`` → float32 ``[S, N, D]``."""
    if not layer_ffn:
        raise ValueError("need at least one layer output")
    k = len(layer_ffn) if top_k is None else top_k
    if not 1 <= k <= len(layer_ffn):
        raise ValueError(f"top_k must be in 1..{len(layer_ffn)}, got {top_k}")
    total = None
    for f in layer_ffn[-k:]:
        f = f.float()
        if instance_norm_layers:
            f = F.instance_norm(f.transpose(1, 2)).transpose(1, 2)
        total = f if total is None else total + f
    y = total / k
    if layer_norm:
        y = F.layer_norm(y, y.shape[-1:])
    return y


def band_targets(patch_target: torch.Tensor) -> torch.Tensor:
    """Band (utterance-level) target ``[S, D]``: the mean of the patch targets over tokens."""
    return patch_target.mean(dim=1)

"""Teacher targets from the per-block FFN outputs (spec §10: instance norm per layer, average, layer norm).

For the top ``K`` blocks' MLP-branch outputs ``f_l`` ``[S, N, D]`` (CLS removed):

* ``instance_norm_layers``: each channel of each sequence normalised over its tokens (eps 1e-5, no affine);
* average over the ``K`` layers;
* ``layer_norm``: each token normalised over its ``D`` channels (eps 1e-5, no affine).

The patch target is that ``[S, N, D]`` tensor; the band target is its mean over the ``N`` tokens ``[S, D]``
(``targets.band_target="patch_mean"``, EAT's). ``"layer_mean"`` (ours) keeps what instance norm removes: the mean
over a sequence's real tokens of each top-``K`` layer's raw FFN output, averaged over the layers (then layer norm
per row if ``layer_norm``) — the clip-level statistics that distinguish one recording from another.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["BAND_TARGETS", "band_targets", "layer_mean_targets", "patch_targets"]

BAND_TARGETS = ("patch_mean", "layer_mean")


def _instance_norm(f: torch.Tensor, valid: torch.Tensor | None, eps: float = 1e-5) -> torch.Tensor:
    """Normalise ``[S, N, D]`` per sequence and channel over its real tokens (``valid`` ``[S, N]``; None = all)."""
    if valid is None:
        return F.instance_norm(f.transpose(1, 2), eps=eps).transpose(1, 2)
    w = valid.to(f.dtype).unsqueeze(-1)
    count = w.sum(dim=1, keepdim=True).clamp_min(1.0)
    mean = (f * w).sum(dim=1, keepdim=True) / count
    var = ((f - mean).square() * w).sum(dim=1, keepdim=True) / count
    return (f - mean) / torch.sqrt(var + eps) * w


def patch_targets(
    layer_ffn: list[torch.Tensor],
    top_k: int | None = None,
    *,
    instance_norm_layers: bool = True,
    layer_norm: bool = True,
    valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """Average of the top ``top_k`` (default all) layers' FFN outputs ``[S, N, D]`` → float32 ``[S, N, D]``.

    ``valid`` ``[S, N]`` (bool, padded batches): instance norm uses only the real tokens; padding rows are zero.
    """
    if not layer_ffn:
        raise ValueError("need at least one layer output")
    k = len(layer_ffn) if top_k is None else top_k
    if not 1 <= k <= len(layer_ffn):
        raise ValueError(f"top_k must be in 1..{len(layer_ffn)}, got {top_k}")
    total = None
    for f in layer_ffn[-k:]:
        f = f.float()
        if instance_norm_layers:
            f = _instance_norm(f, valid)
        total = f if total is None else total + f
    y = total / k
    if layer_norm:
        y = F.layer_norm(y, y.shape[-1:])
    if valid is not None:
        y = y * valid.unsqueeze(-1).to(y.dtype)
    return y


def band_targets(patch_target: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Band (utterance-level) target ``[S, D]``: the mean of the patch targets over the (real) tokens."""
    if valid is None:
        return patch_target.mean(dim=1)
    w = valid.to(patch_target.dtype).unsqueeze(-1)
    return (patch_target * w).sum(dim=1) / w.sum(dim=1).clamp_min(1.0)


def layer_mean_targets(
    layer_ffn: list[torch.Tensor],
    top_k: int | None = None,
    *,
    layer_norm: bool = True,
    valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """Band targets ``[S, D]`` (float32): the mean over real tokens of each of the top ``top_k`` layers' raw FFN
    outputs ``[S, N, D]``, averaged over the layers, layer-normed per row if ``layer_norm``."""
    if not layer_ffn:
        raise ValueError("need at least one layer output")
    k = len(layer_ffn) if top_k is None else top_k
    if not 1 <= k <= len(layer_ffn):
        raise ValueError(f"top_k must be in 1..{len(layer_ffn)}, got {top_k}")
    y = torch.stack([band_targets(f.float(), valid) for f in layer_ffn[-k:]]).mean(dim=0)  # token means
    return F.layer_norm(y, y.shape[-1:]) if layer_norm else y

"""Contrastive objective of the stream training (``asd.md`` §3.6) and the early-stopping statistic.

* :func:`info_nce` — NT-Xent over ``2B`` views: ``z = normalise(cat(z1, z2))``, logits ``z zᵀ / τ`` with the diagonal
  removed, the positive of view ``i`` is the other view of the same clip; mean cross-entropy over all ``2B`` rows.
  With batch 64 this is the 128 × 128 similarity matrix of the report; τ = 0.07.
* :func:`variance_hinge` — the variance regulariser (VICReg-style): per embedding dimension the batch standard
  deviation ``σ_j = sqrt(var_j + eps)`` of the L2-normalised embeddings (unbiased variance), penalised by
  ``mean_j relu(γ - σ_j)``. ``γ`` defaults to ``1 / sqrt(D)``, the per-dimension std of embeddings spread evenly on
  the unit sphere, so the term is zero unless dimensions collapse.
* :func:`contrastive_loss` — ``info_nce + var_weight · (hinge(z1) + hinge(z2)) / 2``.
* :func:`embedding_spread` — the report's "embedding spread (pairwise L2 variance)", the early-stopping criterion on
  validation clips. Our precise definition: for the ``N`` L2-normalised validation embeddings ``u_i``,

  ``spread = 1 / (2 N²) · Σ_i Σ_j ‖u_i − u_j‖²``

  i.e. half the mean squared pairwise L2 distance over all ordered pairs, which equals the total (population)
  variance ``Σ_d Var(u_·d) = 1 − ‖mean_i u_i‖²``. 0 = collapse (all embeddings equal), 1 = embeddings centred on
  the origin (e.g. a pair of antipodal vectors, or orthonormal vectors in the limit of many). Unlike the mean
  pairwise distance (our earlier criterion), it weighs distances by their square.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["contrastive_loss", "embedding_spread", "info_nce", "variance_hinge"]


def _pair(z1: torch.Tensor, z2: torch.Tensor) -> None:
    if z1.ndim != 2 or z1.shape != z2.shape:
        raise ValueError(f"expected two [B, D] views of equal shape, got {tuple(z1.shape)} and {tuple(z2.shape)}")
    if z1.shape[0] < 2:
        raise ValueError("InfoNCE needs a batch of at least 2 clips (each clip's negatives are the other clips)")


def info_nce(z1: torch.Tensor, z2: torch.Tensor, tau: float = 0.07) -> torch.Tensor:
    """NT-Xent loss of two views ``[B, D]`` (row ``i`` of ``z1`` and ``z2`` are the same clip); a scalar."""
    _pair(z1, z2)
    if not tau > 0:
        raise ValueError(f"temperature tau must be > 0, got {tau!r}")
    b = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.T / tau
    logits = logits.masked_fill(torch.eye(2 * b, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)]).to(z.device)
    return F.cross_entropy(logits, target)


def variance_hinge(z: torch.Tensor, target: float | None = None, eps: float = 1e-4) -> torch.Tensor:
    """``mean_j relu(target - sqrt(var_j(normalise(z)) + eps))`` over the ``D`` dimensions; a scalar."""
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"variance_hinge needs [B >= 2, D] embeddings, got {tuple(z.shape)}")
    gamma = 1.0 / math.sqrt(z.shape[1]) if target is None else float(target)
    std = torch.sqrt(F.normalize(z, dim=1).var(dim=0) + eps)
    return torch.relu(gamma - std).mean()


def contrastive_loss(
    z1: torch.Tensor, z2: torch.Tensor, *, tau: float = 0.07, var_weight: float = 1.0, var_target: float | None = None
) -> tuple[torch.Tensor, dict[str, float]]:
    """Total training loss and its parts ``{"infonce", "variance"}`` (floats, for logging)."""
    nce = info_nce(z1, z2, tau)
    var = 0.5 * (variance_hinge(z1, var_target) + variance_hinge(z2, var_target))
    return nce + var_weight * var, {"infonce": float(nce.detach()), "variance": float(var.detach())}


def embedding_spread(z: torch.Tensor) -> float:
    """Pairwise-L2 variance of the L2-normalised rows of ``z`` ``[N >= 2, D]`` (float64 math; module docstring)."""
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"embedding_spread needs [N >= 2, D] embeddings, got {tuple(z.shape)}")
    u = F.normalize(z.detach().to(torch.float64), dim=1)
    d2 = torch.cdist(u, u).square()
    n = u.shape[0]
    return float(d2.sum() / (2 * n * n))

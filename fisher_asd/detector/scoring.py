"""Per-stream score normalisation and test-domain inference (the detector's steps 3 and 4, ``asd.md`` §3.2).

* :func:`normalise_scores` — ``"transductive"``: rank within each (domain) group of the clips scored together;
  ``"inductive"``: rank against the leave-one-out training scores of the clip's domain (all training clips of the
  machine when the domain is unknown or has no training clip); ``None``: raw distances.
* :func:`normalise_training` — the same scale for the training clips (their leave-one-out scores ranked within each
  training domain), used for thresholds.
* :func:`infer_domains` — ``domain_policy="nearest"``: a clip without a domain gets the domain whose bank rows are
  nearest, by the fusion-weighted mean over streams of the per-domain k-NN distance.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .bank import MemoryBank
from .ranknorm import ecdf_rank, rank_normalize

__all__ = ["infer_domains", "normalise_scores", "normalise_training"]


def normalise_scores(
    mode: str | None, raw: np.ndarray, domains: list[Any], bank: MemoryBank, loo: np.ndarray, *, ties: str = "average"
) -> np.ndarray:
    """Normalised scores ``[B]`` of one stream and machine; ``domains[i]`` is a name or ``None`` (per machine)."""
    if mode is None:
        return raw
    if mode == "transductive":
        return rank_normalize(raw, ["*" if d is None else d for d in domains], ties=ties)
    out = np.empty(raw.size)
    for d in dict.fromkeys(domains):
        members = [i for i, x in enumerate(domains) if x == d]
        ref = loo
        if d is not None and d in bank.domains:
            mask = bank.clip_domain == bank.domains.index(d)
            ref = loo[mask] if mask.any() else loo
        out[members] = ecdf_rank(raw[members], ref)
    return out


def normalise_training(mode: str | None, loo: np.ndarray, bank: MemoryBank, *, ties: str = "average") -> np.ndarray:
    """Leave-one-out training scores on the scale of :func:`normalise_scores`."""
    return loo if mode is None else rank_normalize(loo, bank.clip_domain, ties=ties)


def infer_domains(
    banks: dict[str, MemoryBank], weights: dict[str, float], emb: dict[str, np.ndarray], k: int, given: list[Any]
) -> list[Any]:
    """Fill the ``None`` entries of ``given`` with the nearest domain (see the module docstring)."""
    names = list(banks)
    domains = banks[names[0]].domains
    total = sum(weights[s] for s in names)
    dist = sum((weights[s] / total) * banks[s].domain_scores(emb[s], k) for s in names)
    nearest = [domains[j] for j in np.argmin(dist, axis=1)]
    return [g if g is not None else nearest[i] for i, g in enumerate(given)]

"""Per-stream score normalisation and test-domain inference (the detector's steps 3 and 4, ``asd.md`` §3.2).

* :func:`normalise_scores` — ``"transductive"``: rank within each (domain) group of the clips scored together;
  ``"inductive"``: rank against the leave-one-out training scores of the clip's domain (all training clips of the
  machine when the domain is unknown or has no training clip); ``None``: raw distances.
* :func:`normalise_training` — the same scale for the training clips (their leave-one-out scores ranked within each
  training domain), used for thresholds.
* :func:`check_rank_partitions` — transductive ranking needs several clips per (machine, domain) partition: one clip
  raises ``ValueError`` (its rank would be a constant 0.5, so ``predict`` clip by clip never flags anything), fewer
  than :data:`MIN_RANK_CLIPS` warn. ``rank_norm="inductive"`` is the mode for streaming / one-clip scoring.
* :func:`infer_domains` — ``domain_policy="nearest"``: a clip without a domain gets the domain whose bank rows are
  nearest, by the fusion-weighted mean over streams of the per-domain k-NN distance.
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Any

import numpy as np

from .bank import MemoryBank
from .ranknorm import ecdf_rank, rank_normalize

__all__ = ["MIN_RANK_CLIPS", "check_rank_partitions", "infer_domains", "normalise_scores", "normalise_training"]

#: Fewest clips per (machine, domain) partition for a meaningful transductive rank; fewer warn, one raises.
MIN_RANK_CLIPS = 5


def check_rank_partitions(machine: str, domains: list[Any], *, inferred: bool = False) -> None:
    """Check the partitions that transductive rank normalisation ranks within (``None`` = the whole machine).

    A partition of one clip raises ``ValueError`` — unless its domain was ``inferred`` by the domain policy (the
    caller passed more clips; then it warns) — and one of fewer than :data:`MIN_RANK_CLIPS` clips warns.
    """
    fix = (
        'use rank_norm="inductive" for streaming or one-clip scoring (it ranks each clip against the training '
        "clips), or score the whole test set of the machine in one call"
    )
    for domain, count in Counter(domains).items():
        where = f"(machine {machine!r}, {'all domains' if domain is None else f'domain {domain!r}'})"
        what = "inferred " if inferred else ""
        if count == 1 and not inferred:
            raise ValueError(
                f"transductive rank normalisation of partition {where} over 1 clip: a lone clip always gets 0.5, "
                f"whatever its score (predict would never flag it); {fix}"
            )
        if count < MIN_RANK_CLIPS:
            warnings.warn(
                f"transductive rank normalisation of {what}partition {where} over only {count} clip(s) "
                f"(fewer than MIN_RANK_CLIPS = {MIN_RANK_CLIPS}): the ranks are coarse; {fix}",
                UserWarning,
                stacklevel=4,
            )


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

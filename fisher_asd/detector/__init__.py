"""The ``fisher_asd`` detector: streams → memory banks (oversampling, MemMixup) → k-NN → rank normalisation → fusion.

Modules (one concept each): :mod:`.knn` (exact chunked k-NN), :mod:`.bank` (memory bank, oversampling, MemMixup),
:mod:`.ranknorm` (transductive / inductive rank normalisation), :mod:`.fusion` (weights), :mod:`.presets`
(System 1–4), :mod:`.augment` / :mod:`.losses` / :mod:`.train` (contrastive training), :mod:`.stream` (stream
configuration and building), :mod:`.data` (lazy clips, labels), :mod:`.detector` (:class:`Detector`),
:mod:`.persist` (save / load).
"""

from __future__ import annotations

from .bank import MemoryBank, build_bank, oversample_factors
from .config import StreamConfig
from .data import ClipFiles
from .detector import Detector
from .fusion import MEF6_WEIGHTS, fuse
from .knn import knn_distances, knn_score
from .presets import preset, preset_names
from .ranknorm import ecdf_rank, rank_normalize
from .train import TrainConfig

__all__ = [
    "MEF6_WEIGHTS",
    "ClipFiles",
    "Detector",
    "MemoryBank",
    "StreamConfig",
    "TrainConfig",
    "build_bank",
    "ecdf_rank",
    "fuse",
    "knn_distances",
    "knn_score",
    "oversample_factors",
    "preset",
    "preset_names",
    "rank_normalize",
]

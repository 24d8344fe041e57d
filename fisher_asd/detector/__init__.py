"""The ``fisher_asd`` detector: streams → memory banks (oversampling, MemMixup) → k-NN → rank normalisation → fusion.

Modules (one concept each): :mod:`.knn` (exact chunked k-NN), :mod:`.bank` (memory bank, oversampling, MemMixup),
:mod:`.ranknorm` (transductive / inductive rank normalisation), :mod:`.fusion` (weights by stream name),
:mod:`.presets` (the report's Systems 1–4), :mod:`.cliplength` (the fixed 160,000-sample clip policy),
:mod:`.augment` / :mod:`.losses` / :mod:`.train` (contrastive training), :mod:`.stream` (stream configuration and
building), :mod:`.data` (lazy clips, labels), :mod:`.settings` (:class:`DetectorSettings`: every constructor
setting once), :mod:`.detector` (:class:`Detector`), :mod:`.persist` (save / load), :mod:`.hub` (directory or hub id
of a fitted detector).
"""

from __future__ import annotations

from .bank import MemoryBank, build_bank, knn_distances, knn_score, oversample_factors
from .cliplength import ClipLength
from .data import ClipFiles
from .detector import Detector
from .fusion import MEF5_WEIGHTS, MEF6_WEIGHTS, fuse
from .presets import DetectorPreset, PresetStream, preset, preset_names
from .ranknorm import ecdf_rank, rank_normalize
from .settings import DetectorSettings
from .stream_config import StreamConfig
from .train import TrainConfig

__all__ = [
    "MEF5_WEIGHTS",
    "MEF6_WEIGHTS",
    "ClipFiles",
    "ClipLength",
    "Detector",
    "DetectorPreset",
    "DetectorSettings",
    "MemoryBank",
    "PresetStream",
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

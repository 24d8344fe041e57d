"""The embedding recipe, written once for every backend: validate, window, group, batch, accumulate, pool.

Recipes (``docs/recipes.md``):

* ``long="truncate"`` — the official GitHub README: the first 1024 frames only.
* ``long="chunk"`` (default) — consecutive 1024-frame windows, a trailing window shorter than 16 frames dropped,
  window embeddings averaged. Identical to the official output for clips of ≤ 1024 frames.
* ``pad_frames=True`` — zero-pad every window's normalised spectrogram in time to 1024 frames (the RMIS recipe).

The DC offset is removed per clip (the backend's float32 mean over the whole clip). Each window's STFT is computed
from its own samples (frames are independent, so this equals cutting the clip's full spectrogram, and memory stays
bounded). Windows of equal length are batched together (never padded), so a clip gives the same embedding alone as
inside any batch. Window vectors are accumulated per clip in float64 and averaged, then pooled over bands.

A backend (:class:`BandBackend`) only turns samples into spectrograms and spectrograms into per-band summaries:
:class:`fisher.model.backend.TorchBackend` (``Fisher.embed``) and :class:`fisher.deploy.runtime.OnnxBackend`
(``OnnxFisher.embed``). This module imports neither torch nor onnxruntime.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from fisher.recipe.framing import (
    MIN_FRAMES,
    check_options,
    frame_params,
    parse_summary,
    require_samples,
    summary_dim,
    window_spans,
)
from fisher.signals.checks import check_sr

__all__ = ["BandBackend", "EmbeddingRecipe", "embed_clips", "pool_bands"]


class BandBackend(Protocol):
    """What the recipe needs from a backend (torch or ONNX Runtime); ``Window`` = a 1-D array of samples."""

    def centre(self, clip: Any, stop: int) -> Any:
        """``clip[:stop]`` minus the mean of the whole clip (float32, the backend's own reduction)."""

    def spectrogram(self, window: Any) -> Any:
        """Centred samples of one analysis window → normalised log-magnitude ``[T_w, F]`` (time-padded to
        1024 frames when the recipe says ``pad_frames``)."""

    def encode(self, specs: list[Any]) -> np.ndarray:
        """Equal-length window spectrograms → per-band summaries ``[len(specs), bands, d]`` float32 numpy."""


def pool_bands(per_band: np.ndarray, pool: str) -> np.ndarray:
    """``[..., nb, d]`` → ``[..., nb·d]`` (concat), ``[..., d]`` (mean over bands) or unchanged (none)."""
    if pool == "concat":
        return per_band.reshape(*per_band.shape[:-2], -1)
    if pool == "mean":
        return per_band.mean(axis=-2)
    return per_band


@dataclass(frozen=True)
class EmbeddingRecipe:
    """Everything about how clips at one sampling rate become embeddings, built once from a model config.

    Attributes:
        sr: sampling rate in Hz (whole number). n_fft / hop: STFT window and hop in samples (25 ms / 10 ms).
        max_frames: frames per analysis window (1024). bands: sub-bands at ``sr``. summary: per-band summary in
        canonical order (``"cls"``, ``"cls+mean"`` …). band_dim: width ``d`` of one band's summary.
        pool / long / pad_frames / batch_size: the options of ``embed``.
    """

    sr: int
    n_fft: int
    hop: int
    win_ms: float
    hop_ms: float
    max_frames: int
    bands: int
    summary: str
    band_dim: int
    pool: str = "concat"
    long: str = "chunk"
    pad_frames: bool = False
    batch_size: int = 8

    @classmethod
    def build(
        cls,
        config: Any,
        sr: float,
        *,
        pool: str = "concat",
        long: str = "chunk",
        pad_frames: bool = False,
        batch_size: int = 8,
        summary: str | None = None,
    ) -> EmbeddingRecipe:
        """Validate the options and ``sr`` (``ValueError``/``TypeError`` naming what is allowed) against a
        :class:`fisher.recipe.fisher_config.FisherConfig`; ``summary=None`` takes ``config.summary``."""
        check_options(pool, long, pad_frames, batch_size)
        name = "+".join(parse_summary(config.summary if summary is None else summary))
        sr = check_sr(sr)  # the one sampling-rate check of an embed call
        n_fft, hop = frame_params(sr, config.win_ms, config.hop_ms)
        width = config.band_width
        return cls(
            sr=sr,
            n_fft=n_fft,
            hop=hop,
            win_ms=config.win_ms,
            hop_ms=config.hop_ms,
            max_frames=config.max_frames,
            bands=max(n_fft // 2 + 1, width) // width,  # = framing.num_bands(sr, width, win_ms)
            summary=name,
            band_dim=summary_dim(name, config.embed_dim, config.freq_patches),
            pool=pool,
            long=long,
            pad_frames=pad_frames,
            batch_size=batch_size,
        )

    @property
    def embedding_dim(self) -> int:
        """Size of the last axis of the pooled output (``bands·d`` for concat, ``d`` otherwise)."""
        return self.bands * self.band_dim if self.pool == "concat" else self.band_dim

    def windows(self, n_samples: int, where: str = "clip", long: str | None = None) -> list[tuple[int, int]]:
        """Sample spans of the analysis windows of a clip of ``n_samples`` (``ValueError`` below 16 frames)."""
        require_samples(n_samples, self.n_fft + (MIN_FRAMES - 1) * self.hop, self.sr, where)
        return window_spans(n_samples, self.n_fft, self.hop, self.max_frames, long or self.long)

    def frames(self, start: int, stop: int) -> int:
        """Frames of the spectrogram of window ``[start, stop)`` as the backend returns it (padding included)."""
        return self.max_frames if self.pad_frames else 1 + (stop - start - self.n_fft) // self.hop

    def pool_windows(self, per_band: np.ndarray) -> np.ndarray:
        """``[..., bands, d]`` → this recipe's ``pool``."""
        return pool_bands(per_band, self.pool)


def window_jobs(
    recipe: EmbeddingRecipe, backend: BandBackend, clips: Sequence[Any], single: bool
) -> tuple[list[list[tuple[int, Any, int, int]]], list[int]]:
    """Windows of every clip ``(clip index, centred samples, start, stop)`` grouped by frame count (equal lengths
    batch without padding) and cut into forward passes of ≤ ``batch_size``; plus the window count of each clip."""
    groups: dict[int, list[tuple[int, Any, int, int]]] = defaultdict(list)
    counts = []
    for i, clip in enumerate(clips):
        spans = recipe.windows(len(clip), where="waveform" if single else f"clip {i}")
        centred = backend.centre(clip, spans[-1][1])
        counts.append(len(spans))
        for start, stop in spans:
            groups[recipe.frames(start, stop)].append((i, centred, start, stop))
    size = recipe.batch_size
    return [items[s : s + size] for items in groups.values() for s in range(0, len(items), size)], counts


def embed_clips(
    recipe: EmbeddingRecipe,
    backend: BandBackend,
    clips: Sequence[Any],
    *,
    single: bool = False,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> np.ndarray:
    """Validated 1-D clips (the backend's array type) → pooled embeddings ``[B, dim]`` float32 numpy
    (``[B, bands, d]`` for ``pool="none"``). ``progress`` wraps the forward passes (a tqdm, say)."""
    jobs, counts = window_jobs(recipe, backend, clips, single)
    sums = np.zeros((len(clips), recipe.bands, recipe.band_dim), dtype=np.float64)
    for chunk in progress(jobs) if progress is not None else jobs:
        specs = [backend.spectrogram(centred[start:stop]) for _, centred, start, stop in chunk]
        for (i, *_), vec in zip(chunk, backend.encode(specs)):
            sums[i] += vec
    per_band = (sums / np.asarray(counts, dtype=np.float64)[:, None, None]).astype(np.float32)
    return recipe.pool_windows(per_band)

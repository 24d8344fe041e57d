"""Clip embedding with FISHER: validation, windowing of long clips, length-grouped batching and pooling.

Recipes (``docs/recipes.md``):

* ``long="truncate"`` — the official GitHub README: the first 1024 frames only.
* ``long="chunk"`` (default) — consecutive 1024-frame windows, a trailing window shorter than 16 frames dropped,
  window embeddings averaged. Identical to the official output for clips of ≤ 1024 frames.
* ``pad_frames=True`` — zero-pad every window's normalised spectrogram in time to 1024 frames (the RMIS recipe).

The DC offset is removed per clip (mean over the whole clip). Windows of equal length are batched together (never
padded), so a clip gives the same embedding alone as inside any batch.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from tqdm.auto import tqdm

from fisher.signals import as_clips, check_sr
from fisher.spectrogram import MIN_FRAMES, check_min_length, frame_params, log_spectrogram

if TYPE_CHECKING:
    from fisher.model import Fisher

__all__ = ["LONG_MODES", "POOLS", "clip_windows", "embed"]

POOLS = ("concat", "mean", "none")
LONG_MODES = ("chunk", "truncate")


def clip_windows(spec: torch.Tensor, max_frames: int, long: str, pad_frames: bool) -> list[torch.Tensor]:
    """Cut a ``[T, F]`` spectrogram into the analysis windows of the chosen recipe (each ``[T_w, F]``)."""
    if long == "truncate" or spec.shape[0] <= max_frames:
        windows = [spec[:max_frames]]
    else:
        windows = [w for w in torch.split(spec, max_frames) if w.shape[0] >= MIN_FRAMES]
    if pad_frames:
        windows = [torch.nn.functional.pad(w, (0, 0, 0, max_frames - w.shape[0])) for w in windows]
    return windows


def _check_options(pool: str, long: str, pad_frames: Any, batch_size: Any) -> None:
    if pool not in POOLS:
        raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
    if long not in LONG_MODES:
        raise ValueError(f"long must be one of {LONG_MODES}, got {long!r}")
    if not isinstance(pad_frames, bool):
        raise TypeError(f"pad_frames must be True or False, got {pad_frames!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


@torch.inference_mode()
def embed(
    model: Fisher,
    wave: Any,
    sr: float,
    *,
    pool: str = "concat",
    long: str = "chunk",
    pad_frames: bool = False,
    batch_size: int = 8,
    device: str | torch.device | None = None,
    show_progress: bool = False,
) -> np.ndarray | torch.Tensor:
    """Embed one clip or a batch of clips at sampling rate ``sr`` (Hz, required; never resampled).

    Args:
        wave: ``[N]`` (one clip), ``[B, N]`` or a list of 1-D clips of any lengths; float in [-1, 1) or integer
            PCM (scaled by its dtype's full scale). Each clip needs ≥ 16 STFT frames (0.175 s at 16 kHz).
        pool: ``"concat"`` band CLS vectors low → high (``bands·D``, official), ``"mean"`` over bands (``D`` at
            every rate) or ``"none"`` (``[bands, D]``).
        long: ``"chunk"`` or ``"truncate"`` for clips longer than 1024 frames.
        pad_frames: zero-pad each window to 1024 frames (RMIS recipe).
        batch_size: windows per forward pass (memory knob; results do not depend on it).
        device: run on this device (default: the model's).
        show_progress: tqdm bar over forward passes.
    Returns:
        float32 ``[dim]`` / ``[B, dim]`` (``[.., bands, D]`` for ``pool="none"``); numpy, or torch for torch input.
    """
    _check_options(pool, long, pad_frames, batch_size)
    sr = check_sr(sr)
    batch = as_clips(wave)
    cfg = model.config
    n_fft, hop = frame_params(sr, cfg.win_ms, cfg.hop_ms)
    param = next(model.parameters())
    device = torch.device(device) if device is not None else param.device
    if device != param.device:
        model.to(device)
    dtype = param.dtype

    # 1. spectrogram windows of every clip, grouped by length (equal lengths batch without padding)
    groups: dict[int, list[tuple[int, torch.Tensor]]] = defaultdict(list)
    n_windows = []
    for i, clip in enumerate(batch.clips):
        check_min_length(clip.numel(), sr, cfg.win_ms, cfg.hop_ms, where="waveform" if batch.single else f"clip {i}")
        keep = cfg.max_frames if long == "truncate" else None
        spec = log_spectrogram(clip, n_fft, hop, max_frames=keep, mean=cfg.spec_mean, std=cfg.spec_std,
                               std_coeff=cfg.spec_std_coeff)
        windows = clip_windows(spec, cfg.max_frames, long, pad_frames)
        n_windows.append(len(windows))
        for w in windows:
            groups[w.shape[0]].append((i, w))

    # 2. encode: all bands of up to batch_size windows per forward pass
    from fisher.model import split_bands

    nb = model.num_bands(sr)
    sums = torch.zeros(len(batch.clips), nb, cfg.embed_dim, dtype=torch.float64)
    jobs = [(items[s : s + batch_size]) for items in groups.values() for s in range(0, len(items), batch_size)]
    for chunk in tqdm(jobs, desc="fisher embed", unit="batch", disable=not show_progress):
        bands = torch.cat([split_bands(w, cfg.band_width) for _, w in chunk]).to(device=device, dtype=dtype)
        cls = model(bands).float().cpu().reshape(len(chunk), nb, cfg.embed_dim)  # clip-major, bands low → high
        for (i, _), vec in zip(chunk, cls):
            sums[i] += vec.double()
    per_band = (sums / torch.tensor(n_windows, dtype=torch.float64)[:, None, None]).float()

    # 3. pool over bands
    if pool == "concat":
        out = per_band.reshape(len(batch.clips), nb * cfg.embed_dim)
    elif pool == "mean":
        out = per_band.mean(dim=1)
    else:
        out = per_band
    if batch.single:
        out = out[0]
    if batch.torch_input:
        first = batch.clips[0]
        return out.to(first.device) if isinstance(first, torch.Tensor) else out
    return out.numpy()

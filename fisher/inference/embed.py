"""Clip embedding with FISHER: validation, windowing of long clips, length-grouped batching and pooling.

Recipes (``docs/recipes.md``):

* ``long="truncate"`` — the official GitHub README: the first 1024 frames only.
* ``long="chunk"`` (default) — consecutive 1024-frame windows, a trailing window shorter than 16 frames dropped,
  window embeddings averaged. Identical to the official output for clips of ≤ 1024 frames.
* ``pad_frames=True`` — zero-pad every window's normalised spectrogram in time to 1024 frames (the RMIS recipe).

The DC offset is removed per clip (float32 mean over the whole clip). Each window's STFT is computed from its own
samples (frames are independent, so this equals cutting the clip's full spectrogram, and memory stays bounded).
Windows of equal length are batched together (never padded), so a clip gives the same embedding alone as inside
any batch.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from fisher.model.bands import log_spectrogram, split_bands
from fisher.model.framing import check_min_length, check_options, frame_params, parse_summary, summary_dim, window_spans
from fisher.signals.validate import as_clips, check_sr

__all__ = ["WindowEncoder", "embed", "pool_bands"]


class WindowEncoder:
    """Turns centred sample windows into per-band summaries ``[nb, d]`` (``summary``, default ``config.summary``;
    CLS vectors ``[nb, D]`` for ``"cls"``) with one model copy and precision."""

    def __init__(
        self,
        model: torch.nn.Module,
        sr: float,
        *,
        pad_frames: bool = False,
        precision: str = "fp32",
        device: str | torch.device | None = None,
        summary: str | None = None,
    ) -> None:
        from fisher.inference.capabilities import check_device
        from fisher.inference.precision import inference_copy, input_dtype

        self.cfg = model.config
        self.n_fft, self.hop = frame_params(sr, self.cfg.win_ms, self.cfg.hop_ms)
        self.num_bands = model.num_bands(sr)
        self.pad_frames = pad_frames
        self.summary = "+".join(parse_summary(self.cfg.summary if summary is None else summary))
        self.dim = summary_dim(self.summary, self.cfg.embed_dim, self.cfg.freq_patches)
        param = next(model.parameters())
        self.device = check_device(device) if device is not None else param.device
        if self.device != param.device:
            model.to(self.device)
        if precision == "auto" or precision == "bf16":
            from fisher.inference.capabilities import resolve_precision, warn_if_emulated

            warn_if_emulated(precision, self.device)
            precision = resolve_precision(precision, self.device)
        self.precision = precision
        self.runner = inference_copy(model, precision, self.device)
        self.dtype = input_dtype(model, precision)

    def spectrogram(self, centred: torch.Tensor) -> torch.Tensor:
        """``[n]`` centred samples of one window → normalised ``[T_w, F]`` (padded to max_frames if asked)."""
        c = self.cfg
        spec = log_spectrogram(
            centred, self.n_fft, self.hop, remove_dc=False, mean=c.spec_mean, std=c.spec_std, std_coeff=c.spec_std_coeff
        )
        if self.pad_frames and spec.shape[0] < c.max_frames:
            spec = torch.nn.functional.pad(spec, (0, 0, 0, c.max_frames - spec.shape[0]))
        return spec

    @torch.inference_mode()
    def encode(self, specs: list[torch.Tensor]) -> torch.Tensor:
        """Equal-length window spectrograms → ``[len(specs), nb, d]`` float32 CPU (bands low → high; ``d`` the
        width of the summary, ``D`` for ``"cls"``)."""
        bands = torch.cat([split_bands(s, self.cfg.band_width) for s in specs])
        bands = bands.to(device=self.device, dtype=self.dtype)
        out = self.runner(bands, self.summary)  # explicit: "cls" must not fall back to a non-cls config default
        return out.float().cpu().reshape(len(specs), self.num_bands, self.dim)


def pool_bands(per_band: torch.Tensor, pool: str) -> torch.Tensor:
    """``[..., nb, D]`` → ``[..., nb·D]`` (concat), ``[..., D]`` (mean) or unchanged (none)."""
    if pool == "concat":
        return per_band.flatten(-2)
    if pool == "mean":
        return per_band.mean(dim=-2)
    return per_band


@torch.inference_mode()
def embed(
    model: torch.nn.Module,
    wave: Any,
    sr: float,
    *,
    pool: str = "concat",
    long: str = "chunk",
    pad_frames: bool = False,
    batch_size: int = 8,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    summary: str | None = None,
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
        precision: ``"fp32"`` (reference), ``"bf16"`` or ``"int8"`` (faster, approximate; see
            :mod:`fisher.inference.precision` for hardware caveats), or ``"auto"``: bf16 where it runs natively, else fp32
            (:func:`fisher.inference_capabilities` shows the choice and why).
        summary: what each band contributes (default ``model.config.summary``, ``"cls"`` for the official
            models): ``"cls"`` its CLS output (``D``, the paper's), ``"mean"`` the mean of its final patch outputs
            (``D``), ``"freq"`` the time-pooled grid of frequency patches (mean over time of each frequency patch,
            ``Fp·D``, the "temporal pooling" of EAT/BEATs-based DCASE systems), or a ``+``-joined combination
            (``"cls+mean"``, concatenated in the order cls, mean, freq).
        show_progress: tqdm bar over forward passes.
    Returns:
        float32 ``[dim]`` / ``[B, dim]`` (``[.., bands, d]`` for ``pool="none"``; ``dim`` =
        ``model.embedding_dim(sr, pool, summary)``); numpy, or torch for torch input.
    """
    check_options(pool, long, pad_frames, batch_size)
    if summary is not None:
        parse_summary(summary)
    sr = check_sr(sr)
    batch = as_clips(wave)
    cfg = model.config
    encoder = WindowEncoder(model, sr, pad_frames=pad_frames, precision=precision, device=device, summary=summary)

    # 1. windows of every clip, grouped by frame count (equal lengths batch without padding)
    groups: dict[int, list[tuple[int, torch.Tensor]]] = defaultdict(list)
    n_windows = []
    for i, clip in enumerate(batch.clips):
        check_min_length(clip.numel(), sr, cfg.win_ms, cfg.hop_ms, where="waveform" if batch.single else f"clip {i}")
        spans = window_spans(clip.numel(), encoder.n_fft, encoder.hop, cfg.max_frames, long)
        centred = clip[: spans[-1][1]] - clip.mean()  # per-clip DC removal over the whole clip
        n_windows.append(len(spans))
        for start, stop in spans:
            spec = encoder.spectrogram(centred[start:stop])
            groups[spec.shape[0]].append((i, spec))

    # 2. encode up to batch_size windows per forward pass, accumulate per clip
    sums = torch.zeros(len(batch.clips), encoder.num_bands, encoder.dim, dtype=torch.float64)
    jobs = [items[s : s + batch_size] for items in groups.values() for s in range(0, len(items), batch_size)]
    for chunk in tqdm(jobs, desc="fisher embed", unit="batch", disable=not show_progress):
        for (i, _), vec in zip(chunk, encoder.encode([spec for _, spec in chunk])):
            sums[i] += vec.double()
    per_band = (sums / torch.tensor(n_windows, dtype=torch.float64)[:, None, None]).float()

    out = pool_bands(per_band, pool)
    if batch.single:
        out = out[0]
    if batch.torch_input:
        return out.to(batch.clips[0].device)
    return out.numpy()

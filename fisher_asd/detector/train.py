"""Contrastive training of the trainable parts (heads, LoRA) of one stream on normal clips (``asd.md`` §3.6).

Recipe (defaults of :class:`TrainConfig`): every epoch the training clips are shuffled and cut into batches of 64 (a
left-over single clip joins the last batch). Each clip is made a **mono 16 kHz clip of 160,000 samples** — resampled
to ``augment_sr`` (16 kHz) and fixed in length by the detector's
:class:`~fisher_asd.detector.cliplength.ClipLength` (first 10 s, shorter clips tiled) — and two augmented views
(:func:`~fisher_asd.detector.augment.contrastive_view`) are drawn **at 16 kHz**; only then is each view resampled to
the stream's native rate (48 kHz for CLAP). Loss = NT-Xent (τ = 0.07) + ``var_weight`` × variance hinge
(:mod:`~fisher_asd.detector.losses`); AdamW (lr 1e-4, wd 1e-4) over the head / LoRA parameters only; up to 20
epochs.

* **Scope**: one model per stream over all clips of the machines in scope (self-supervised, no machine labels);
  the detector picks the scope (``train_machines``).
* **Modes**: the whole stream stays in ``eval()`` while training (no dropout, frozen BatchNorm statistics in every
  backbone); only ``requires_grad`` distinguishes the trainable parameters.
* **Early stopping** (``early_stop="spread"``): a seeded ``val_fraction`` of the clips (at least 2, none when fewer
  than 8 clips) is held out; after every epoch the validation **embedding spread** — the pairwise-L2 variance
  ``1/(2N²) Σ_ij ‖u_i − u_j‖²`` of their L2-normalised embeddings (fixed-length clips, no augmentation;
  :func:`~fisher_asd.detector.losses.embedding_spread`) — is measured. The state of the epoch with the largest
  spread is kept (the best-spread checkpoint); training stops after ``patience`` (3) epochs without an increase of
  at least ``min_delta`` (1e-4). Rationale: the failure mode of contrastive heads on near-identical machine sounds
  is collapse (spread → 0).
* **Reproducibility**: one ``torch.Generator`` seeded from ``(seed, crc32(stream name))`` drives shuffling and
  augmentation. **Checkpoints**: with ``checkpoint_dir`` the trainable tensors of every epoch are written as
  ``<dir>/<stream>/epoch_NN.safetensors`` (atomically) plus ``best.safetensors``.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fisher.files import atomic_write_path as atomic_write
from fisher.signals.resample import resample
from fisher_asd.encoders.base import RESAMPLE_METHOD

from .augment import contrastive_view
from .cliplength import ClipLength
from .losses import contrastive_loss, embedding_spread
from .stream import DetectorStream

__all__ = ["TrainConfig", "fixed_clips", "to_native", "train_stream"]

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Hyper-parameters of :func:`train_stream` (see the module docstring; times in seconds)."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-4
    weight_decay: float = 1e-4
    tau: float = 0.07
    var_weight: float = 1.0
    var_target: float | None = None
    noise_std: float = 0.005
    gain_db: float = 3.0
    drop_seconds: float = 0.5
    augment_sr: float = 16000.0
    early_stop: str | None = "spread"
    val_fraction: float = 0.1
    patience: int = 3
    min_delta: float = 1e-4
    checkpoint_dir: str | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"TrainConfig.{name} must be a positive int, got {v!r}")
        if self.batch_size < 2:
            raise ValueError("TrainConfig.batch_size must be >= 2 (InfoNCE needs negatives)")
        for name in ("lr", "tau", "augment_sr"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"TrainConfig.{name} must be a positive number, got {v!r}")
        if self.early_stop not in (None, "spread"):
            raise ValueError(f"TrainConfig.early_stop must be 'spread' or None, got {self.early_stop!r}")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"TrainConfig.val_fraction must be in [0, 1), got {self.val_fraction!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        if "segment_seconds" in data:
            raise ValueError(
                "TrainConfig.segment_seconds was replaced by the detector's clip-length policy: "
                "Detector(clip_samples=...) (samples at 16 kHz, default 160,000 = 10 s)"
            )
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {unknown}; allowed: {sorted(known)}")
        return cls(**data)


def fixed_clips(clips: list[torch.Tensor], sr: float, aug_sr: float, clip: ClipLength, who: str) -> torch.Tensor:
    """Clips at ``sr`` → resampled to ``aug_sr`` → fixed to ``clip.length_at(aug_sr)`` samples → ``[B, N]``."""
    return torch.stack([clip.apply(resample(c, sr, aug_sr, method=RESAMPLE_METHOD, who=who), aug_sr) for c in clips])


def to_native(x: torch.Tensor, aug_sr: float, native: float, who: str) -> torch.Tensor:
    """Resample every row of ``[B, N]`` from ``aug_sr`` to ``native`` Hz (the input itself when equal)."""
    if float(aug_sr) == float(native):
        return x
    return torch.stack([resample(row, aug_sr, native, method=RESAMPLE_METHOD, who=who) for row in x])


def _batches(n: int, size: int) -> list[tuple[int, int]]:
    """Consecutive ``(start, stop)`` batches of ``size``; a final batch of one clip joins the previous batch."""
    out = [(lo, min(lo + size, n)) for lo in range(0, n, size)]
    if len(out) > 1 and out[-1][1] - out[-1][0] < 2:
        out[-2:] = [(out[-2][0], n)]
    return [b for b in out if b[1] - b[0] >= 2]


def _save(state: dict[str, torch.Tensor], path: Path) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: save_file({k: v.contiguous() for k, v in state.items()}, tmp))


def train_stream(
    stream: DetectorStream,
    clips: Callable[[Sequence[int]], list[torch.Tensor]],
    n_clips: int,
    sr: float,
    config: TrainConfig,
    *,
    seed: int = 0,
    clip: ClipLength | None = None,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Train ``stream``'s head / LoRA in place; returns the history
    ``{"epochs": [{"epoch", "loss", "infonce", "variance", "spread"?}], "best_epoch", "stopped", "n_train", "n_val"}``.

    Args:
        stream: a :class:`DetectorStream` with ``trainable`` parts (its head already created).
        clips: ``clips(indices) -> list of 1-D float32 tensors at sr`` (lazy access to the training clips).
        n_clips: number of training clips (``>= 2``).
        sr: sampling rate of the clips in Hz.
        clip: the clip-length policy (default :class:`ClipLength` = 160,000 samples at 16 kHz).
    """
    params = stream.trainable_parameters()
    if not params:
        raise ValueError(f"stream {stream.name!r} has nothing to train (no head, no LoRA)")
    if n_clips < 2:
        raise ValueError(f"stream {stream.name!r}: contrastive training needs at least 2 clips, got {n_clips}")
    for p in params:
        p.requires_grad_(True)
    gen = torch.Generator().manual_seed(
        int(np.random.SeedSequence([seed, zlib.crc32(stream.name.encode())]).generate_state(1)[0])
    )
    native = stream.native_rate(sr)
    clip = clip or ClipLength()
    aug_sr = float(config.augment_sr)
    order = torch.randperm(n_clips, generator=gen).tolist()
    n_val = 0
    if config.early_stop == "spread" and n_clips >= 8:
        n_val = max(2, round(config.val_fraction * n_clips))
    val_idx, train_idx = order[:n_val], order[n_val:]
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    stream.eval()
    history: dict[str, Any] = {
        "epochs": [],
        "best_epoch": None,
        "stopped": "max_epochs",
        "n_train": len(train_idx),
        "n_val": n_val,
    }
    best, best_state, stale = -math.inf, None, 0
    n_batches = len(_batches(len(train_idx), config.batch_size))
    total = config.epochs * n_batches
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=f"train {stream.name}", disable=not show_progress, leave=False)
    ckpt = Path(config.checkpoint_dir) / stream.name if config.checkpoint_dir else None
    try:
        for epoch in range(config.epochs):
            perm = [train_idx[i] for i in torch.randperm(len(train_idx), generator=gen).tolist()]
            losses, parts = [], {"infonce": 0.0, "variance": 0.0}
            for lo, hi in _batches(len(perm), config.batch_size):
                idx = perm[lo:hi]
                x = fixed_clips(clips(idx), sr, aug_sr, clip, stream.name)
                views = [
                    to_native(
                        contrastive_view(
                            x,
                            aug_sr,
                            generator=gen,
                            noise_std=config.noise_std,
                            gain_db=config.gain_db,
                            drop_seconds=config.drop_seconds,
                        ),
                        aug_sr,
                        native,
                        stream.name,
                    )
                    for _ in range(2)
                ]
                v1, v2 = views
                loss, part = contrastive_loss(
                    stream(v1, native),
                    stream(v2, native),
                    tau=config.tau,
                    var_weight=config.var_weight,
                    var_target=config.var_target,
                )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                losses.append(float(loss.detach()))
                for k in parts:
                    parts[k] += part[k] / n_batches
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{losses[-1]:.3f}")
            record: dict[str, Any] = {
                "epoch": epoch + 1,
                "loss": float(np.mean(losses)) if losses else float("nan"),
                **parts,
            }
            state = stream.trainable_state()
            if ckpt is not None:
                _save(state, ckpt / f"epoch_{epoch + 1:02d}.safetensors")
            if n_val:
                with torch.no_grad():
                    val = fixed_clips(clips(val_idx), sr, aug_sr, clip, stream.name)
                    z = stream(to_native(val, aug_sr, native, stream.name), native)
                record["spread"] = embedding_spread(z)
                if record["spread"] > best + config.min_delta:
                    best, best_state, stale = record["spread"], copy.deepcopy(state), 0
                    history["best_epoch"] = epoch + 1
                else:
                    stale += 1
            else:
                best_state, history["best_epoch"] = copy.deepcopy(state), epoch + 1
            history["epochs"].append(record)
            log.info("stream %s epoch %d: %s", stream.name, epoch + 1, record)
            if n_val and stale >= config.patience:
                history["stopped"] = "early_stop"
                break
    finally:
        bar.close()
        for p in params:
            p.requires_grad_(False)
    if best_state is not None:
        stream.load_trainable_state(best_state)
        if ckpt is not None:
            _save(best_state, ckpt / "best.safetensors")
    return history

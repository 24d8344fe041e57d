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


@dataclass
class _Run:
    """What one :func:`train_stream` call works with (fixed at the start) and its running state."""

    stream: DetectorStream
    clips: Callable[[Sequence[int]], list[torch.Tensor]]
    sr: float
    config: TrainConfig
    clip: ClipLength
    gen: torch.Generator
    params: list[torch.nn.Parameter]
    train_idx: list[int]
    val_idx: list[int]
    ckpt: Path | None
    native: float = 0.0
    aug_sr: float = 0.0
    best: float = -math.inf
    best_state: dict[str, torch.Tensor] | None = None
    stale: int = 0
    history: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.native = self.stream.native_rate(self.sr)
        self.aug_sr = float(self.config.augment_sr)
        self.history = {
            "epochs": [],
            "best_epoch": None,
            "stopped": "max_epochs",
            "n_train": len(self.train_idx),
            "n_val": len(self.val_idx),
        }

    @property
    def name(self) -> str:
        return self.stream.name

    def fixed(self, idx: Sequence[int]) -> torch.Tensor:
        """The clips ``idx`` at ``aug_sr``, fixed in length → ``[B, N]``."""
        return fixed_clips(self.clips(idx), self.sr, self.aug_sr, self.clip, self.name)

    def view(self, x: torch.Tensor) -> torch.Tensor:
        """One augmented view of ``x`` (drawn at ``aug_sr``), resampled to the stream's native rate."""
        cfg = self.config
        v = contrastive_view(
            x,
            self.aug_sr,
            generator=self.gen,
            noise_std=cfg.noise_std,
            gain_db=cfg.gain_db,
            drop_seconds=cfg.drop_seconds,
        )
        return to_native(v, self.aug_sr, self.native, self.name)


def _start(
    stream: DetectorStream,
    clips: Callable[[Sequence[int]], list[torch.Tensor]],
    n_clips: int,
    sr: float,
    config: TrainConfig,
    seed: int,
    clip: ClipLength | None,
) -> _Run:
    """Check the inputs, unfreeze the trainable parameters, seed the generator and hold out the validation clips."""
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
    order = torch.randperm(n_clips, generator=gen).tolist()
    n_val = 0
    if config.early_stop == "spread" and n_clips >= 8:
        n_val = max(2, round(config.val_fraction * n_clips))
    ckpt = Path(config.checkpoint_dir) / stream.name if config.checkpoint_dir else None
    return _Run(stream, clips, sr, config, clip or ClipLength(), gen, params, order[n_val:], order[:n_val], ckpt)


def _train_epoch(run: _Run, opt: torch.optim.Optimizer, epoch: int, n_batches: int, bar: Any) -> dict[str, Any]:
    """One pass over the shuffled training clips → the epoch's record ``{"epoch", "loss", "infonce", "variance"}``."""
    cfg, native = run.config, run.native
    perm = [run.train_idx[i] for i in torch.randperm(len(run.train_idx), generator=run.gen).tolist()]
    losses, parts = [], {"infonce": 0.0, "variance": 0.0}
    for lo, hi in _batches(len(perm), cfg.batch_size):
        x = run.fixed(perm[lo:hi])
        v1, v2 = [run.view(x) for _ in range(2)]
        loss, part = contrastive_loss(
            run.stream(v1, native),
            run.stream(v2, native),
            tau=cfg.tau,
            var_weight=cfg.var_weight,
            var_target=cfg.var_target,
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        for k in parts:
            parts[k] += part[k] / n_batches
        bar.update(1)
        bar.set_postfix(epoch=epoch + 1, loss=f"{losses[-1]:.3f}")
    return {"epoch": epoch + 1, "loss": float(np.mean(losses)) if losses else float("nan"), **parts}


def _end_epoch(run: _Run, epoch: int, record: dict[str, Any]) -> bool:
    """Checkpoint the epoch, measure the validation spread, keep the best state; ``True`` = stop early."""
    state = run.stream.trainable_state()
    if run.ckpt is not None:
        _save(state, run.ckpt / f"epoch_{epoch + 1:02d}.safetensors")
    if run.val_idx:
        with torch.no_grad():
            z = run.stream(to_native(run.fixed(run.val_idx), run.aug_sr, run.native, run.name), run.native)
        record["spread"] = embedding_spread(z)
        if record["spread"] > run.best + run.config.min_delta:
            run.best, run.best_state, run.stale = record["spread"], copy.deepcopy(state), 0
            run.history["best_epoch"] = epoch + 1
        else:
            run.stale += 1
    else:
        run.best_state, run.history["best_epoch"] = copy.deepcopy(state), epoch + 1
    run.history["epochs"].append(record)
    log.info("stream %s epoch %d: %s", run.name, epoch + 1, record)
    return bool(run.val_idx) and run.stale >= run.config.patience


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
    from tqdm.auto import tqdm

    run = _start(stream, clips, n_clips, sr, config, seed, clip)
    opt = torch.optim.AdamW(run.params, lr=config.lr, weight_decay=config.weight_decay)
    stream.eval()
    n_batches = len(_batches(len(run.train_idx), config.batch_size))
    bar = tqdm(total=config.epochs * n_batches, desc=f"train {stream.name}", disable=not show_progress, leave=False)
    try:
        for epoch in range(config.epochs):
            if _end_epoch(run, epoch, _train_epoch(run, opt, epoch, n_batches, bar)):
                run.history["stopped"] = "early_stop"
                break
    finally:
        bar.close()
        for p in run.params:
            p.requires_grad_(False)
    if run.best_state is not None:
        stream.load_trainable_state(run.best_state)
        if run.ckpt is not None:
            _save(run.best_state, run.ckpt / "best.safetensors")
    return run.history

"""The pretraining loop: single process or DDP (``torchrun``; gloo on CPU, nccl on GPU).

Step ``s`` (0-based) on rank ``r`` with ``A = train.accumulate`` micro-batches:

1. reseed torch's global RNG from ``(seed, s, r)`` (masks, decoder noise, dropout) → steps are reproducible;
2. micro-batches = stream positions ``s·A … s·A + A - 1`` (``SignalStream.batch``; read, resampled and turned into
   sub-bands ``[B·nb, T, W]`` on a fixed ``T = crop_frames`` grid, in ``data.num_workers`` worker processes);
3. per micro-batch: teacher targets (no grad, padding masked), ``C = max(1, max_bands_per_sample // nb)`` inverse
   block masks per band sequence (padding always hidden), student + decoder losses, backward of ``loss / A``;
4. gradient clipping, AdamW with ``lr_at(s)`` (DDP averages gradients);
5. teacher EMA update with ``ema_decay_at(s)``.

Checkpoints (rank 0, atomic, see :mod:`fisher.pretrain.state`) every ``ckpt_every`` steps and when ``fit`` returns;
resuming from one reproduces the uninterrupted run exactly (same world size and threads) and refuses a config that
differs in anything but the schedule length (:mod:`fisher.pretrain.resume`). Logs: one JSON line per ``log_every``
steps in ``<out_dir>/log.jsonl`` (loss terms, target / prediction spread, lr, EMA decay, rate, throughput).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from fisher.files import atomic_write_text
from fisher.pretrain.data import SignalStream
from fisher.pretrain.ema import ema_update, make_teacher
from fisher.pretrain.init import initial_model
from fisher.pretrain.loader import Prepared, prepare, prepared_batches
from fisher.pretrain.masking import clone_count, padded_inverse_block_mask
from fisher.pretrain.objective import teacher_targets, token_padding
from fisher.pretrain.pretrain_config import PretrainConfig
from fisher.pretrain.resume import check_resumable
from fisher.pretrain.schedule import ema_decay_at, lr_at
from fisher.pretrain.sources import find_files
from fisher.pretrain.state import latest_checkpoint, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from fisher.pretrain.validate import checked_signals

__all__ = ["Trainer", "pretrain"]

log = logging.getLogger("fisher.pretrain")


def _step_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, np.uint64)[0] >> 1)


def _setup_distributed(device: torch.device) -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _pick_device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def _autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


_STEP_KEYS = ("lr", "ema_decay", "sr", "bands", "clones", "frames", "grad_norm", "clip_ratio", "sequences", "audio_s")


def _mean_or_none(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


class Trainer:
    """Build student, teacher, decoder, optimiser and data stream from a :class:`PretrainConfig`; ``fit`` trains."""

    def __init__(self, config: PretrainConfig) -> None:
        if not isinstance(config, PretrainConfig):
            raise TypeError(f"config must be a PretrainConfig, got {type(config).__name__}")
        self.config = cfg = config
        if cfg.train.threads:
            torch.set_num_threads(cfg.train.threads)
        self.device = _pick_device(cfg.train.device)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        self.rank, self.world_size = _setup_distributed(self.device)
        self.out_dir = Path(cfg.train.out_dir)
        self.amp_dtype = _autocast_dtype(cfg.train.precision, self.device)
        self.model = initial_model(cfg).to(self.device).train()
        self.student = self.model.student
        self.fisher_config = fc = self.student.config
        self.ddp = self.model
        if self.world_size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.ddp = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.teacher = make_teacher(self.student)
        cls_decay = cfg.optim.cls_weight_decay
        named = list(self.model.named_parameters())
        decay = [p for n, p in named if p.ndim >= 2 or (cls_decay and n.endswith("cls_token"))]
        no_decay = [p for n, p in named if not (p.ndim >= 2 or (cls_decay and n.endswith("cls_token")))]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": cfg.optim.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=cfg.optim.lr,
            betas=cfg.optim.betas,
        )
        self.scaler = torch.amp.GradScaler(self.device.type) if self.amp_dtype == torch.float16 else None
        if not cfg.data.sources:
            raise ValueError("data.sources is empty: list signal files, folders, glob patterns or CSV manifests")
        signals = checked_signals(
            find_files(cfg.data.sources), npz_sr=cfg.data.npz_sr, config=fc, min_frames=cfg.data.min_frames
        )
        dc = cfg.data
        self.stream = SignalStream(
            signals,
            fc,
            batch_size=dc.batch_size,
            crop_frames=dc.crop_frames,
            min_frames=dc.min_frames,
            rates=dc.rates,
            f_max=dc.f_max,
            seed=cfg.train.seed,
            rank=self.rank,
            world_size=self.world_size,
            rate_set=dc.rate_set,
            gain_db=dc.gain_db,
        )
        self.probe = None
        if cfg.train.validation and cfg.train.diag_every:
            from fisher.pretrain.diagnostics import ValidationProbe

            self.probe = ValidationProbe.from_manifest(cfg.train.validation, fc, datasets=cfg.train.validation_datasets)
        self.step = 0
        self.last_checkpoint: Path | None = None
        self._resume()

    # ------------------------------------------------------------------ checkpoints
    def _resume(self) -> None:
        resume = self.config.train.resume
        path = latest_checkpoint(self.out_dir) if resume == "auto" else (Path(resume) if resume else None)
        if path is not None:
            self.load(path)

    def state(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "world_size": self.world_size,
            "config": self.config.to_dict(),
            "model_config": self.fisher_config.to_dict(),
            "student": self.student.state_dict(),
            "teacher": self.teacher.state_dict(),
            "decoder": self.model.decoder.state_dict(),
            "band_head": self.model.band_head.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "rng": rng_state(),
            "data": {"seed": self.config.train.seed, "step": self.step, "world_size": self.world_size},
        }

    def save(self) -> Path | None:
        """Write a checkpoint of the current step (rank 0 only; other ranks return None)."""
        if self.rank != 0:
            return None
        self.last_checkpoint = save_checkpoint(self.out_dir, self.state(), self.config.train.keep_last)
        return self.last_checkpoint

    def load(self, path: str | Path) -> None:
        ckpt = load_checkpoint(path)
        check_resumable(ckpt["config"], self.config.to_dict(), path)
        if ckpt["world_size"] != self.world_size:
            raise ValueError(
                f"{path} was written by {ckpt['world_size']} process(es); this run has "
                f"{self.world_size} — an exact resume needs the same world size"
            )
        self.student.load_state_dict(ckpt["student"])
        self.teacher.load_state_dict(ckpt["teacher"])
        self.model.decoder.load_state_dict(ckpt["decoder"])
        if "band_head" in ckpt:
            self.model.band_head.load_state_dict(ckpt["band_head"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scaler is not None and ckpt["scaler"] is not None:
            self.scaler.load_state_dict(ckpt["scaler"])
        set_rng_state(ckpt["rng"])
        self.step = int(ckpt["step"])
        self._trim_log()
        log.info("resumed from %s at step %d", path, self.step)

    def _trim_log(self) -> None:
        path = self.out_dir / "log.jsonl"
        if self.rank != 0 or not path.is_file():
            return
        keep = [ln for ln in path.read_text().splitlines() if ln and json.loads(ln).get("step", 0) <= self.step]
        atomic_write_text(path, "".join(ln + "\n" for ln in keep))

    # ------------------------------------------------------------------ training
    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    STATS = ("loss", "loss_patch", "loss_band", "pred_std", "target_std", "cls_std", "band_target_std")

    def _micro_step(self, prepared: Prepared) -> tuple[torch.Tensor, dict[str, Any]]:
        """Forward one prepared micro-batch → (loss with gradient, record)."""
        cfg, fc = self.config, self.fisher_config
        batch, bands = prepared.batch, prepared.bands.to(self.device)
        nb = bands.shape[0] // len(batch.refs)
        clones = clone_count(nb, cfg.max_bands(fc))
        grid = (batch.frames // fc.patch_size, fc.freq_patches)
        rows = torch.from_numpy(batch.valid() // fc.patch_size).repeat_interleave(nb)  # [S] real time rows
        hidden = padded_inverse_block_mask(
            rows.repeat_interleave(clones), grid, cfg.masking.mask_ratio, cfg.block_size(fc), cfg.masking.adjust
        )
        padding = token_padding(rows, grid).to(self.device)
        padding = padding if bool(padding.any()) else None
        with self._autocast():
            y, yb = teacher_targets(
                self.teacher,
                bands,
                top_k=cfg.targets.top_k,
                instance_norm_layers=cfg.targets.instance_norm_layers,
                layer_norm=cfg.targets.layer_norm,
                padding=padding,
                band_target=cfg.targets.band_target,
            )
            out = self.ddp(bands, hidden, y, yb, clones, padding, cfg.loss.band_reduction)
            loss = cfg.loss.patch_weight * out["loss_patch"] + cfg.loss.band_weight * out["loss_band"]
        rows = {"cls": out.pop("cls_rows"), "patch": out.pop("patch_rows")}
        rec = {k: float(v.detach()) for k, v in out.items()}
        rec["_rows"] = rows
        rec.update(
            loss=float(loss.detach()),
            sr=batch.sr,
            bands=nb,
            clones=clones,
            frames=batch.frames,
            sequences=bands.shape[0] * clones,
            audio_s=float(batch.valid().sum()) * fc.hop_ms / 1000.0,
            padded=float(1.0 - batch.valid().sum() / (batch.frames * len(batch.refs))),
        )
        return loss, rec

    def train_step(self, batches: Iterator[Prepared] | None = None) -> dict[str, float]:
        """Run step ``self.step`` (``train.accumulate`` micro-batches, from ``batches`` when given — positions
        ``step·accumulate …`` — else prepared here) and advance the counter; returns this rank's loss terms,
        statistics and schedule values (micro-batch averages; counts summed)."""
        cfg, s = self.config, self.step
        acc = cfg.train.accumulate
        torch.manual_seed(_step_seed(cfg.train.seed, s, self.rank, 3))
        lr = lr_at(
            s,
            lr=cfg.optim.lr,
            min_lr=cfg.optim.min_lr,
            warmup_steps=cfg.optim.warmup_steps,
            total_steps=cfg.train.steps,
        )
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        recs = []
        for a in range(acc):
            sync = a == acc - 1 or self.world_size == 1
            ctx = contextlib.nullcontext() if sync else self.ddp.no_sync()
            with ctx:
                prepared = next(batches) if batches is not None else prepare(self.stream, s * acc + a)
                if prepared.index != s * acc + a:
                    raise RuntimeError(f"batch position {prepared.index} arrived for {s * acc + a}")
                loss, rec = self._micro_step(prepared)
                loss = loss / acc
                if self.scaler is not None:
                    self.scaler.scale(loss).backward()
                else:
                    loss.backward()
            recs.append(rec)
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        grad_norm = None
        if cfg.optim.clip_grad:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.optim.clip_grad))
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        anneal = cfg.ema.anneal_steps if cfg.ema.anneal_steps is not None else cfg.train.steps
        decay = ema_decay_at(s, decay=cfg.ema.decay, end_decay=cfg.ema.end_decay, anneal_steps=anneal)
        ema_update(self.teacher, self.student, decay)
        self.step += 1
        out = {k: float(np.mean([r[k] for r in recs])) for k in self.STATS}
        if cfg.train.diag_every and self.step % cfg.train.diag_every == 0:
            out.update(self._diagnostics(recs[-1]["_rows"]))
        out.update(
            step=self.step,
            lr=lr,
            ema_decay=decay,
            sr=recs[-1]["sr"],
            bands=recs[-1]["bands"],
            clones=recs[-1]["clones"],
            frames=recs[-1]["frames"],
            grad_norm=grad_norm,
            clip_ratio=None if grad_norm is None else min(1.0, cfg.optim.clip_grad / max(grad_norm, 1e-12)),
            sequences=sum(r["sequences"] for r in recs),
            audio_s=sum(r["audio_s"] for r in recs),
            padded=float(np.mean([r["padded"] for r in recs])),
        )
        return out

    def _diagnostics(self, rows: dict[str, torch.Tensor]) -> dict[str, float]:
        """Collapse indicators on this step's cloned band sequences (train mode, masked views) and, with a
        ``train.validation`` manifest, on its fixed labelled clips (eval mode, unmasked; keys ``val_*``)."""
        from fisher.pretrain.diagnostics import collapse_flags, embedding_stats, norm_gamma

        stats = {**embedding_stats(rows["cls"], rows["patch"]), "gamma_norm": norm_gamma(self.student)}
        if self.probe is not None:
            stats.update({f"val_{k}": v for k, v in self.probe.evaluate(self.student).items()})
        flags = collapse_flags({k[4:]: v for k, v in stats.items() if k.startswith("val_")} or stats)
        for reason in flags:
            log.warning("step %d: possible collapse: %s", self.step, reason)
        stats["collapse_flags"] = len(flags)
        return stats

    def fit(self, until: int | None = None) -> list[dict[str, float]]:
        """Train up to step ``until`` (default ``train.steps``); checkpoint at the end. Returns per-step records."""
        cfg = self.config.train
        until = cfg.steps if until is None else min(until, cfg.steps)
        if self.rank == 0:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            text = json.dumps(self.config.to_dict(), indent=2) + "\n"
            atomic_write_text(self.out_dir / "config.json", text)
        history, window, t0 = [], [], time.perf_counter()
        acc, dc = self.config.train.accumulate, self.config.data
        batches = (
            prepared_batches(
                self.stream, self.step * acc, until * acc, num_workers=dc.num_workers, prefetch=dc.prefetch
            )
            if self.step < until
            else iter(())
        )
        while self.step < until:
            rec = self.train_step(batches)
            history.append(rec)
            window.append(rec)
            if self.step % cfg.log_every == 0 or self.step == until:
                self._log(window, time.perf_counter() - t0)
                window, t0 = [], time.perf_counter()
            if self.step % cfg.ckpt_every == 0 and self.step < until:
                self.save()
        self.save()
        return history

    def _log(self, window: list[dict[str, float]], seconds: float) -> None:
        terms = torch.tensor([[r[k] for k in self.STATS] for r in window]).mean(0)
        counts = torch.tensor([sum(r["sequences"] for r in window), sum(r["audio_s"] for r in window)])
        if self.world_size > 1:  # nccl reduces device tensors only
            terms, counts = terms.to(self.device), counts.double().to(self.device)
            dist.all_reduce(terms)
            dist.all_reduce(counts)
            terms, counts = terms.cpu() / self.world_size, counts.cpu()
        last = window[-1]
        rec = {
            "step": self.step,
            **{k: float(v) for k, v in zip(self.STATS, terms)},
            "lr": last["lr"],
            "ema_decay": last["ema_decay"],
            "sr": last["sr"],
            "grad_norm": last["grad_norm"],
            "grad_norm_mean": _mean_or_none([r["grad_norm"] for r in window]),
            "clip_ratio": _mean_or_none([r["clip_ratio"] for r in window]),
            "padded": last["padded"],
            "seq_per_s": float(counts[0]) / seconds,
            "audio_s_per_s": float(counts[1]) / seconds,
            "steps_per_s": len(window) / seconds,
        }
        diag = next((r for r in reversed(window) if "gamma_norm" in r), None)
        if diag is not None:  # the latest collapse diagnostics of this window (train.diag_every)
            rec.update({k: v for k, v in diag.items() if k not in rec and k not in self.STATS and k not in _STEP_KEYS})
        if self.rank == 0:
            log.info(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items()))
            with (self.out_dir / "log.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(rec) + "\n")


def pretrain(config: PretrainConfig | dict | str | Path, until: int | None = None) -> Trainer:
    """Train from a config object, dict or YAML/JSON path (resuming if configured); returns the trainer."""
    if isinstance(config, (str, Path)):
        config = PretrainConfig.load(config)
    elif isinstance(config, dict):
        config = PretrainConfig.from_dict(config)
    trainer = Trainer(config)
    trainer.fit(until)
    return trainer

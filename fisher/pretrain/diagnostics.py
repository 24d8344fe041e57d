"""Live collapse diagnostics of a pretraining run (``docs/pretraining.md``, "Collapse diagnostics").

A self-distillation run can collapse — the CLS becomes nearly the same vector for every clip — while its loss looks
fine. These functions measure that directly on embeddings:

* :func:`embedding_stats` — spread, pairwise cosine and effective rank of CLS / mean-patch rows;
* :func:`norm_gamma` — the scale of the output tokens of the post-norm ViT (last ``norm2`` weight);
* :func:`collapse_flags` — human-readable reasons for every crossed threshold;
* :class:`ValidationProbe` — a fixed set of labelled segments, embedded on demand: the statistics above plus a
  cosine k-NN accuracy sealed by recording (a segment is never matched to its own recording).
"""

from __future__ import annotations

import csv
import math
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fisher.model.bands import log_spectrogram, split_bands
from fisher.recipe.fisher_config import FisherConfig
from fisher.recipe.framing import frame_params, min_samples
from fisher.signals.reader import ChannelId, SignalFile

if TYPE_CHECKING:
    from fisher.model.network import Fisher

__all__ = ["ValidationProbe", "collapse_flags", "embedding_stats", "knn_predict", "norm_gamma"]

EPS = 1e-12
BATCH = 128  # band sequences per forward pass in ValidationProbe.evaluate


def _rows(x: torch.Tensor, name: str) -> torch.Tensor:
    x = torch.as_tensor(x).detach().to("cpu", torch.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"{name} must be [M, D] with M >= 2 rows, got {tuple(x.shape)}")
    return x


def _mean_cos(x: torch.Tensor) -> float:
    """Mean cosine over the ``M(M-1)`` ordered pairs ``i != j`` (zero rows count as cosine 0)."""
    m = x.shape[0]
    u = x / x.norm(dim=1, keepdim=True).clamp_min(EPS)
    total = float(u.sum(0).square().sum()) - float(u.square().sum())  # sum over i != j of u_i · u_j
    return total / (m * (m - 1))


def _spread(x: torch.Tensor) -> float:
    """Mean over rows of ``‖x_i − mean‖ / ‖mean‖`` (0 when every row is the mean, zero norms guarded)."""
    mean = x.mean(0)
    dev = (x - mean).norm(dim=1)
    return float((dev / max(float(mean.norm()), EPS)).mean())


def _effective_rank(x: torch.Tensor) -> float:
    """``exp(entropy(s / Σs))`` of the singular values of the centred rows; 0 when all rows are identical."""
    centred = x - x.mean(0)
    s = torch.linalg.svdvals(centred)
    scale = max(float(x.norm()), EPS)
    if float(s.sum()) <= 1e-10 * scale:
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def embedding_stats(cls: torch.Tensor, mean_patch: torch.Tensor) -> dict[str, float]:
    """Collapse statistics of ``[M, D]`` CLS rows and the matching ``[M, D]`` mean-patch rows (float64, detached).

    Returns ``cls_cos`` (mean pairwise cosine, → 1 when collapsed), ``cls_spread`` (mean ‖cls_i − mean‖ / ‖mean‖,
    → 0), ``cls_rank`` (effective rank of the centred rows; ≈ 1 rank collapse, 0 all rows identical),
    ``cls_patch_gap`` (mean ‖cls_i − mean_patch_i‖ / ‖cls_i‖) and ``mean_cos`` / ``mean_spread`` for the mean-patch
    rows.
    """
    c, p = _rows(cls, "cls"), _rows(mean_patch, "mean_patch")
    if c.shape != p.shape:
        raise ValueError(f"cls {tuple(c.shape)} and mean_patch {tuple(p.shape)} must have the same shape")
    gap = (c - p).norm(dim=1) / c.norm(dim=1).clamp_min(EPS)
    return {
        "cls_cos": _mean_cos(c),
        "cls_spread": _spread(c),
        "cls_rank": _effective_rank(c),
        "cls_patch_gap": float(gap.mean()),
        "mean_cos": _mean_cos(p),
        "mean_spread": _spread(p),
    }


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if hasattr(model, "module") and not hasattr(model, "blocks") else model  # DDP


def norm_gamma(model: torch.nn.Module) -> float:
    """L2 norm of ``model.blocks[-1].norm2.weight``: the scale of the output tokens of a post-norm ViT."""
    return float(_unwrap(model).blocks[-1].norm2.weight.detach().double().norm())


def collapse_flags(
    stats: dict[str, float], *, min_spread: float = 0.02, max_cos: float = 0.995, min_rank: float = 1.5
) -> list[str]:
    """One human-readable reason per crossed threshold (empty list: healthy). Missing keys are ignored; a key
    ``k`` absent from ``stats`` is also looked up as ``val_k`` (a log record of validation values)."""
    what = {
        "cls": "the CLS is nearly the same for every clip",
        "mean": "the mean patch output is nearly the same for every clip",
    }
    checks = []
    for part, name in (("cls", "CLS"), ("mean", "Mean-patch")):
        checks.append((f"{part}_spread", "<", min_spread, f"{name} spread", what[part]))
        checks.append((f"{part}_cos", ">", max_cos, f"{name} mean pairwise cosine", what[part]))
    checks.append(("cls_rank", "<", min_rank, "CLS effective rank", "the CLS varies along at most one direction"))
    flags = []
    for key, op, limit, label, meaning in checks:
        name = key if key in stats else f"val_{key}"
        if name not in stats or stats[name] is None:
            continue
        value = float(stats[name])
        if not math.isfinite(value):
            flags.append(f"{label} ({name}) is {value}: the embeddings are not finite")
        elif (value < limit) if op == "<" else (value > limit):
            flags.append(f"{label} {value:.4g} {op} {limit:g}: {meaning}")
    return flags


def knn_predict(
    x: torch.Tensor, labels: Sequence[int], groups: Sequence[int], k: int, *, center: bool = True
) -> np.ndarray:
    """Sealed cosine k-NN predictions: row ``i``'s neighbours come only from rows of other ``groups``; majority
    vote of the ``k`` nearest, ties broken by the nearest. Returns the predicted label per row (-1: no neighbour).

    ``center`` subtracts the mean row first: post-norm outputs share a large common component that otherwise
    dominates every cosine (measured on the shipped demo model: centring raises the probe, e.g. 0.25 → 0.37 on
    the DCASE 2023 sample, and lowers it for a random initialisation)."""
    u = x.detach().to("cpu", torch.float64)
    if center:
        u = u - u.mean(0)
    u = u / u.norm(dim=1, keepdim=True).clamp_min(EPS)
    sim = (u @ u.T).numpy()
    labels, groups = np.asarray(labels), np.asarray(groups)
    sim[groups[:, None] == groups[None, :]] = -np.inf
    pred = np.full(len(labels), -1)
    for i in range(len(labels)):
        order = np.argsort(-sim[i], kind="stable")
        near = [j for j in order[:k] if np.isfinite(sim[i, j])]
        if not near:
            continue
        votes = np.bincount(labels[near])
        tied = set(np.flatnonzero(votes == votes.max()))
        pred[i] = next(int(labels[j]) for j in near if labels[j] in tied)  # nearest of the tied labels
    return pred


def _macro(pred: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean([np.mean(pred[labels == c] == c) for c in np.unique(labels)]))


class ValidationProbe:
    """A fixed labelled set of signal segments for live collapse checks.

    Args:
        items: ``(path, label, group)`` per recording; ``group`` is the recording id (k-NN sealing unit).
        config: the model's :class:`FisherConfig` (framing and spectrogram normalisation).
        seconds: segment length; up to ``max_segments`` non-overlapping segments per file, spread evenly (a
            shorter file gives one segment of its whole length).
        k: neighbours of the k-NN probe.
        channel: channel of every file (``fisher.signals.reader`` rules); ``None`` takes the first.

    Segments are grouped by sampling rate: statistics and k-NN are computed within a rate (their band counts
    differ) and averaged, weighted by segments; a rate with a single recording cannot be probed and is dropped with a
    warning.
    """

    def __init__(
        self,
        items: Sequence[tuple[str | Path, str, str]],
        config: FisherConfig,
        *,
        seconds: float = 2.0,
        max_segments: int = 4,
        k: int = 5,
        channel: ChannelId | None = None,
    ) -> None:
        if not isinstance(config, FisherConfig):
            raise TypeError(f"config must be a FisherConfig, got {type(config).__name__}")
        if not seconds > 0 or max_segments < 1 or k < 1:
            raise ValueError(f"need seconds > 0, max_segments >= 1, k >= 1; got {seconds}, {max_segments}, {k}")
        items = list(items)
        if not items:
            raise ValueError("ValidationProbe needs labelled recordings, got none")
        self.config, self.k = config, int(k)
        self.classes = sorted({str(label) for _, label, _ in items})
        group_ids = {g: i for i, g in enumerate(dict.fromkeys(str(g) for _, _, g in items))}
        per_rate: dict[float, list[tuple[torch.Tensor, int, int]]] = defaultdict(list)
        bad = []
        for path, label, group in items:
            try:
                sr, specs = self._read(Path(path), float(seconds), int(max_segments), channel)
            except (ValueError, OSError, TypeError) as err:
                bad.append(f"{path} ({err})")
                continue
            per_rate[sr].extend((s, self.classes.index(str(label)), group_ids[str(group)]) for s in specs)
        if bad:
            raise ValueError(f"{len(bad)} probe file(s) cannot be used: {'; '.join(bad[:10])}")
        for sr in sorted(per_rate):
            if len({g for _, _, g in per_rate[sr]}) < 2:
                warnings.warn(f"probe: only one recording at {sr:g} Hz; its segments are dropped", stacklevel=2)
                del per_rate[sr]
        labels = {lab for rows in per_rate.values() for _, lab, _ in rows}
        groups = {g for rows in per_rate.values() for _, _, g in rows}
        if len(labels) < 2 or len(groups) < 2:
            raise ValueError(
                f"the probe needs at least 2 labels and 2 recordings (groups) at one sampling rate; got "
                f"{len(labels)} label(s) and {len(groups)} recording(s)"
            )
        # per rate: {frames: band images [n, nb, T, W]} and the label / group of each segment (in segment order)
        self.rates: dict[float, dict[str, Any]] = {}
        for sr, rows in sorted(per_rate.items()):
            by_frames: dict[int, list[int]] = defaultdict(list)
            for i, (spec, _, _) in enumerate(rows):
                by_frames[spec.shape[0]].append(i)
            order = [i for idx in by_frames.values() for i in idx]
            self.rates[sr] = {
                "bands": [
                    torch.stack([split_bands(rows[i][0], config.band_width) for i in idx]) for idx in by_frames.values()
                ],
                "labels": np.array([rows[i][1] for i in order]),
                "groups": np.array([rows[i][2] for i in order]),
            }

    def _read(self, path: Path, seconds: float, max_segments: int, channel: ChannelId | None) -> tuple[float, list]:
        """``(sr, [normalised spectrogram [T, F] per segment])`` of one file."""
        c = self.config
        f = SignalFile(path)
        try:
            ids = f.select(channel) if channel is not None else [f.channels[0]]
            n_fft, hop = frame_params(f.sr, c.win_ms, c.hop_ms)
            total = f.length(ids[0]) if len(ids) == 1 else min(f.length(i) for i in ids)
            need = min_samples(f.sr, c.win_ms, c.hop_ms, frames=c.patch_size)
            if total < need:
                raise ValueError(f"{total} samples is shorter than one {c.patch_size}-frame patch ({need} samples)")
            n = min(round(seconds * f.sr), total, min_samples(f.sr, c.win_ms, c.hop_ms, frames=c.max_frames))
            count = min(max_segments, total // n)
            starts = np.linspace(0, total - n, count).round().astype(int) if count > 1 else [0]
            specs = []
            for s in starts:
                x = torch.from_numpy(f.read(ids if len(ids) > 1 else ids[0], int(s), int(s) + n))
                x = x - x.mean()  # per-segment DC removal (float32)
                spec = log_spectrogram(
                    x, n_fft, hop, remove_dc=False, mean=c.spec_mean, std=c.spec_std, std_coeff=c.spec_std_coeff
                )
                if not torch.isfinite(spec).all():
                    raise ValueError("non-finite samples")
                specs.append(spec)
            return f.sr, specs
        finally:
            f.close()

    @classmethod
    def from_manifest(
        cls, csv_path: str | Path, config: FisherConfig, *, datasets: Iterable[str] | None = None, **kw: Any
    ) -> ValidationProbe:
        """Build from a manifest CSV (columns ``path`` relative to the CSV's folder, ``label``, ``recording_id``;
        ``dataset`` when ``datasets`` filters). ``kw`` go to the constructor."""
        csv_path = Path(csv_path)
        if not csv_path.is_file():
            raise ValueError(f"manifest not found: {csv_path}")
        keep = None if datasets is None else {datasets} if isinstance(datasets, str) else set(datasets)
        with csv_path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            need = {"path", "label", "recording_id"} | ({"dataset"} if keep is not None else set())
            missing = need - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{csv_path}: missing column(s) {sorted(missing)}")
            items = [
                (csv_path.parent / row["path"], row["label"], row["recording_id"])
                for row in reader
                if keep is None or row["dataset"] in keep
            ]
        if not items:
            raise ValueError(f"{csv_path}: no rows" + ("" if keep is None else f" for datasets {sorted(keep)}"))
        return cls(items, config, **kw)

    def __len__(self) -> int:
        return sum(len(r["labels"]) for r in self.rates.values())

    def __repr__(self) -> str:
        rates = ", ".join(f"{sr:g} Hz" for sr in self.rates)
        return f"ValidationProbe({len(self)} segments, {len(self.classes)} labels, rates: {rates}, k={self.k})"

    def _embed(self, model: torch.nn.Module, bands: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Band images ``[n, nb, T, W]`` → concatenated per-band CLS and mean-patch outputs ``[n, nb·D]`` each."""
        param = next(model.parameters())
        n = bands.shape[0]
        flat = bands.flatten(0, 1)
        cls_parts, mean_parts = [], []
        for s in range(0, flat.shape[0], BATCH):
            x = flat[s : s + BATCH].to(device=param.device, dtype=param.dtype)
            out = model.encode_tokens(model.patch_tokens(x))
            cls_parts.append(out[:, 0].double().cpu())
            mean_parts.append(out[:, 1:].mean(dim=1).double().cpu())
        return torch.cat(cls_parts).reshape(n, -1), torch.cat(mean_parts).reshape(n, -1)

    def evaluate(self, model: Fisher) -> dict[str, float]:
        """Embed every segment with ``model`` (eval mode, no grad; its mode is restored) and return
        :func:`embedding_stats` plus ``probe_cls`` / ``probe_mean`` (macro accuracy of the sealed cosine k-NN on the
        concatenated band CLS / mean-patch vectors) and ``gamma_norm``."""
        model = _unwrap(model)
        was_training = model.training
        model.eval()
        stats: dict[str, float] = defaultdict(float)
        preds: dict[str, list[np.ndarray]] = {"cls": [], "mean": []}
        labels = []
        try:
            with torch.no_grad():
                for rate in self.rates.values():
                    pairs = [self._embed(model, b) for b in rate["bands"]]
                    cls, mean = torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])
                    weight = len(rate["labels"]) / len(self)
                    for key, value in embedding_stats(cls, mean).items():
                        stats[key] += weight * value
                    preds["cls"].append(knn_predict(cls, rate["labels"], rate["groups"], self.k))
                    preds["mean"].append(knn_predict(mean, rate["labels"], rate["groups"], self.k))
                    labels.append(rate["labels"])
        finally:
            model.train(was_training)
        y = np.concatenate(labels)
        stats["probe_cls"] = _macro(np.concatenate(preds["cls"]), y)
        stats["probe_mean"] = _macro(np.concatenate(preds["mean"]), y)
        stats["gamma_norm"] = norm_gamma(model)
        return dict(stats)

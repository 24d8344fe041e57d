"""``run_bench``: time every inference path of one FISHER model on this machine and pick the settings to use.

Protocol: ``batch`` synthetic gearbox clips (:func:`fisher.signals.synth.bearing_signal`, every other one faulty) of
``seconds`` at ``sr``; every path is warmed up on one clip (that builds the bf16 / int8 copies and the ONNX session);
then rounds run until the time budget would be exceeded (at least one round): each round times the GEMM reference and
every path once, round-robin (the order rotates by one each round), so drift of a shared machine hits all of them
alike. The best time of each counts.
Accuracy compares each path's first full-batch output with torch fp32's (per clip cosine similarity, minimum over
clips; largest absolute difference).
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fisher.bench.machine import (
    analytic_flops,
    busy_warning,
    counted_flops,
    gemm_reference,
    load_average,
    machine_facts,
    pass_tokens,
)
from fisher.bench.paths import BenchPath, build_paths
from fisher.model.network import Fisher
from fisher.recipe.fisher_config import FisherConfig
from fisher.signals.synth import bearing_signal

__all__ = ["EXACT_COSINE", "INT8_COSINE", "MIN_GAIN", "BenchResult", "PathResult", "recommend", "run_bench"]

EXACT_COSINE = 0.9999  # a path counts as exact when every clip's embedding is at least this close to fp32's
INT8_COSINE = 0.999  # int8 is approximate: recommended only above this (and then labelled "approximate")
GEMM = "gemm"  # the reference's key among the timed jobs
MIN_GAIN = 1.05  # a path must beat fp32 by 5 % to be recommended over it (timing noise of a shared machine)


@dataclass
class PathResult:
    """One inference path: best time of embedding the batch, rates and accuracy vs torch fp32."""

    name: str
    label: str
    seconds: float
    clips_per_s: float
    gflop_per_s: float  # analytic FLOPs / best time
    gemm_ratio: float  # gflop_per_s / the GEMM reference rate
    speedup: float  # torch fp32 best time / this best time
    min_cosine: float
    max_abs_diff: float
    approximate: bool
    note: str
    same_as: str | None = None  # runs the same computation as this path (auto resolving to fp32)


@dataclass
class BenchResult:
    """Everything ``fisher bench`` prints; ``to_dict()`` is its ``--json`` object."""

    machine: dict[str, Any]
    workload: dict[str, Any]
    flops: dict[str, Any]
    gemm: dict[str, Any]
    paths: list[PathResult]
    recommendation: dict[str, Any]
    skipped: dict[str, str] = field(default_factory=dict)
    rounds: int = 0
    budget_s: float = 0.0
    elapsed_s: float = 0.0

    def path(self, name: str) -> PathResult:
        return next(p for p in self.paths if p.name == name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _clips(batch: int, seconds: float, sr: int) -> np.ndarray:
    return np.stack([bearing_signal(sr, seconds, fault=bool(i % 2), seed=i) for i in range(batch)])


def _accuracy(out: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """(min over clips of the cosine similarity, max |out - ref|), in float64."""
    a, b = out.reshape(len(out), -1).astype(np.float64), ref.reshape(len(ref), -1).astype(np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cos = np.einsum("ij,ij->i", a, b) / np.maximum(norms, 1e-300)
    return float(min(cos.min(), 1.0)), float(np.abs(a - b).max())


def _warm_up(paths: list[BenchPath], clip: np.ndarray, skipped: dict[str, str]) -> list[BenchPath]:
    """Run each path once on one clip (not fp32 and its twins: the FLOP count ran it); a path that fails (e.g. int8
    without torch.ao) is skipped with its reason."""
    kept = []
    for p in paths:
        try:
            if p.name != "fp32" and p.same_as != "fp32":
                p.run(clip)
        except (ValueError, RuntimeError, NotImplementedError) as err:
            skipped[p.name] = f"failed: {(str(err).splitlines() or [''])[0][:200]}"
            continue
        kept.append(p)
    return kept


def _rounds(
    paths: list[BenchPath], gemm: Callable[[], None], clips: np.ndarray, budget: float, start: float
) -> tuple[dict[str, float], float, dict[str, np.ndarray], int]:
    """Best time per path, best GEMM time, first output per path, rounds run (stops before exceeding the budget).

    Each round runs the GEMM reference and every path once; the order rotates by one each round, so no path always
    follows the same neighbour."""
    jobs: list[tuple[str, Callable[[], Any]]] = [(GEMM, gemm), *((p.name, partial(p.run, clips)) for p in paths)]
    best = dict.fromkeys([name for name, _ in jobs], float("inf"))
    outputs: dict[str, np.ndarray] = {}
    rounds = 0
    while True:
        t_round = time.perf_counter()
        shift = rounds % len(jobs)
        for name, job in jobs[shift:] + jobs[:shift]:
            t0 = time.perf_counter()
            out = job()
            best[name] = min(best[name], time.perf_counter() - t0)
            if name != GEMM:
                outputs.setdefault(name, out)
        rounds += 1
        now = time.perf_counter()
        if now - start + (now - t_round) > budget:  # the next round would overrun the budget
            gemm_best = best.pop(GEMM)
            return best, gemm_best, outputs, rounds


def recommend(paths: list[PathResult]) -> dict[str, Any]:
    """The fastest path that is exact (min cosine ≥ 0.9999) — or int8 at ≥ 0.999, labelled approximate — and at
    least 5 % faster than torch fp32; else fp32. A path running fp32's very computation (``same_as``) is never
    picked. Returns ``{"path", "label", "speedup", "approximate", "line", "how"}``."""
    fp32 = next(p for p in paths if p.name == "fp32")
    ok = [p for p in paths if p.min_cosine >= (INT8_COSINE if p.approximate else EXACT_COSINE) and not p.same_as]
    best = min(ok, key=lambda p: p.seconds)
    if best.speedup < MIN_GAIN:
        best = fp32
    line = f"use: {best.label}"
    if best.approximate:
        line += f" (approximate: min cosine {best.min_cosine:.5f} vs fp32)"
    if best is fp32:
        line += f" (the default): no other path was >= {MIN_GAIN:.2f}x faster with cosine >= {EXACT_COSINE}"
    else:
        line += f", {best.speedup:.2f}x fp32"
    how = {
        "fp32": "model.embed(wave, sr)",
        "auto": 'model.embed(wave, sr, precision="auto")',
        "int8": 'model.embed(wave, sr, precision="int8")',
        "onnx-fp32": "fisher export onnx MODEL model.onnx"
        + (" --outputs cls" if "outputs=cls" in best.note else "")
        + '; fisher.OnnxFisher("model.onnx").embed(wave, sr)',
    }.get(best.name, "")
    return {
        "path": best.name,
        "label": best.label,
        "speedup": best.speedup,
        "approximate": best.approximate,
        "line": line,
        "how": how,
    }


def _path_results(
    paths: list[BenchPath], best: dict[str, float], outputs: dict[str, np.ndarray], batch: int, flop: float, gemm: float
) -> list[PathResult]:
    out = []
    for p in paths:
        t = best[p.name]
        cos, diff = (1.0, 0.0) if p.name == "fp32" else _accuracy(outputs[p.name], outputs["fp32"])
        rate = flop * batch / t / 1e9
        out.append(
            PathResult(
                name=p.name,
                label=p.label,
                seconds=t,
                clips_per_s=batch / t,
                gflop_per_s=rate,
                gemm_ratio=rate / gemm,
                speedup=best["fp32"] / t,
                min_cosine=cos,
                max_abs_diff=diff,
                approximate=p.approximate,
                note=p.note,
                same_as=p.same_as,
            )
        )
    return out


def _workload(model: Fisher, name: str, batch: int, seconds: float, sr: int, n_samples: int) -> dict[str, Any]:
    c = model.config
    return {
        "model": name,
        "embed_dim": c.embed_dim,
        "depth": c.depth,
        "band_width": c.band_width,
        "params": sum(p.numel() for p in model.parameters()),
        "batch": batch,
        "seconds": seconds,
        "sr": sr,
        "samples_per_clip": n_samples,
        "bands": model.num_bands(sr),
        "threads": torch.get_num_threads(),
    }


def _flops(model: Fisher, clip: np.ndarray, sr: int) -> dict[str, Any]:
    """Analytic and counted FLOPs per clip, in GFLOP (the counted call doubles as the fp32 warm-up)."""
    cls_only = bool(model.inference_chunk_tokens) and model.config.summary == "cls"  # see Fisher.forward
    parts = analytic_flops(model.config, sr, clip.size, cls_only=cls_only)
    counted = counted_flops(model, clip, sr)
    return {
        "analytic_gflop_per_clip": parts["total"] / 1e9,
        "linear_gflop_per_clip": parts["linear"] / 1e9,
        "attention_gflop_per_clip": parts["attention"] / 1e9,
        "patch_gflop_per_clip": parts["patch"] / 1e9,
        "counted_gflop_per_clip": counted["torch"] / 1e9,
        "counted_with_attention_gflop_per_clip": counted["with_attention"] / 1e9,
        "note": "rates use the analytic FLOPs; torch.utils.flop_counter.FlopCounterMode (counted) sees embed's "
        "attention through the fisher::band_attention operator (chunked inference path) but not torch's CPU "
        "scaled_dot_product_attention kernel called directly (layer-by-layer path); "
        "fisher.compute.flops.flop_counter adds that kernel (counted_with_attention)",
    }


def run_bench(
    model: Fisher | FisherConfig,
    *,
    name: str | None = None,
    batch: int = 8,
    seconds: float = 10.0,
    sr: int = 16000,
    threads: int | None = None,
    budget: float = 45.0,
    onnx: bool = True,
) -> BenchResult:
    """Measure ``model`` on this CPU: FLOPs, the GEMM reference, every inference path, and the recommendation.

    Args:
        model: a :class:`fisher.model.network.Fisher` (run on the CPU), or a config for random weights (seed 0).
        name: how the model is described in the report (default: from its config).
        batch: clips per ``embed`` call (also the windows per forward pass).
        seconds: duration of each synthetic clip.
        sr: sampling rate of the clips in Hz (whole number).
        threads: torch intra-op threads for the run (restored afterwards; default: torch's current); ONNX Runtime
            gets the same number.
        budget: seconds for the whole measurement; rounds stop before exceeding it (at least one round runs).
        onnx: also time ONNX Runtime fp32 when ``onnxruntime`` and ``onnx`` import.
    Returns:
        :class:`BenchResult`; :func:`fisher.bench.report.format_report` prints it as ``fisher bench`` does.
    """
    start, load = time.perf_counter(), load_average()
    if isinstance(model, FisherConfig):
        torch.manual_seed(0)
        model = Fisher(model)
    if any(t.device.type != "cpu" or t.dtype != torch.float32 for t in model.parameters()):
        model = copy.deepcopy(model).to("cpu", torch.float32)  # the caller's model is left as it is
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        clips = _clips(batch, seconds, sr)
        c = model.config
        name = name or "model"
        workload = _workload(model, name, batch, seconds, sr, clips.shape[1])
        flops = _flops(model, clips[:1], sr)
        rows = pass_tokens(c, sr, clips.shape[1], batch, batch)
        gemm, gemm_flop, layers = gemm_reference(model, rows)
        gemm_reference(model, pass_tokens(c, sr, clips.shape[1], 1, batch))[0]()  # warm-up on one clip's tokens
        with tempfile.TemporaryDirectory(prefix="fisher-bench-") as tmp:
            paths, skipped = build_paths(model, sr, batch, torch.get_num_threads(), Path(tmp), onnx=onnx)
            paths = _warm_up(paths, clips[:1], skipped)
            best, best_gemm, outputs, rounds = _rounds(paths, gemm, clips, budget, start)
        gemm_rate = gemm_flop / best_gemm / 1e9
        gemm_info = {"gflop_per_s": gemm_rate, "rows": rows, "linear_layers": layers, "seconds": best_gemm}
        flop = flops["analytic_gflop_per_clip"] * 1e9
        results = _path_results(paths, best, outputs, batch, flop, gemm_rate)
        machine = machine_facts()
        machine["load_average"] = load
        machine["warning"] = busy_warning(load, machine["logical_cpus"])
        return BenchResult(
            machine=machine,
            workload=workload,
            flops=flops,
            gemm=gemm_info,
            paths=results,
            recommendation=recommend(results),
            skipped=skipped,
            rounds=rounds,
            budget_s=budget,
            elapsed_s=time.perf_counter() - start,
        )
    finally:
        torch.set_num_threads(previous)

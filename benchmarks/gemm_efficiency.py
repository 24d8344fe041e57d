"""How close ``Fisher.embed`` (fp32) runs to this CPU's own GEMM throughput, side by side with the official eager
code, the previous layer-by-layer path, ``precision="auto"`` and ONNX Runtime — all in one process, interleaved.

Usage: ``python benchmarks/gemm_efficiency.py [--scales tiny,small] [--rounds 7] [--batch 8] [--seconds 10]
[--threads 2] [--json out.json]``

For each scale (random weights, seed 0, depth 12) and ``--batch`` clips of ``--seconds`` s at 16 kHz:

* **FLOPs** of each torch path's call counted by ``torch.utils.flop_counter.FlopCounterMode`` (it counts the linear
  layers, the patch convolution and ``embed``'s attention, which runs as the operator ``fisher::band_attention`` with
  a registered formula; it does *not* count torch's CPU SDPA kernel called directly, as the layer-by-layer and
  official paths do), and with the CPU SDPA formula added (``fisher.compute.flops.flop_counter``). ``embed`` with
  the default ``summary="cls"`` computes the last block for the CLS token alone, so it counts fewer FLOPs than the
  official code; ONNX paths (not countable by torch) get the full model's count, attention included.
  **Analytic** FLOPs are the official architecture's (``../shared/spec/fisher.md`` §13, attention included), the
  same for every path: "ratio (analytic)" is a rate of work-equivalent FLOPs.
* **GEMM reference**: ``F.linear`` over the model's own linear layers (their weights and shapes) on inputs of the same
  token count as the embed call (sequences × tokens), its FLOP rate; timed twice per round (right after ``embed``
  and after the last path: ONNX Runtime's spinning threads slow what runs right after them), best time.
* **paths**, timed round-robin within each round (drift of a shared machine hits all alike), best time over the
  rounds: ``embed`` (chunked inference path), ``embed-layerwise`` (``inference_chunk_tokens=None``: the whole batch
  layer by layer, the 0.3.0 path), ``official-batched`` / ``official-per-clip`` (``benchmarks/official_eager.py``),
  ``auto`` (``precision="auto"``), ``onnx-fp32`` (``OnnxFisher``, if onnxruntime is installed; sequences in chunks of ~1536 tokens) and
  ``onnx-fp32-whole`` (``chunk_tokens=None``: each batch in one session run), ``onnx-cls`` (``export_onnx(...,
  outputs="cls")``: the CLS-only graph, last block for the CLS token alone, in chunks).

Printed per path: best ms, clips/s, GFLOP/s counted, **ratio** = the path's counted GFLOP/s ÷ the GEMM
reference's GFLOP/s (the issue's measure), ratio with the analytic FLOPs, speed-up vs each official mode, max |Δ| vs
the official output.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from official_eager import OfficialEager

from fisher import Fisher, FisherConfig
from fisher.compute.flops import flop_counter

SR = 16000


def cpu_flags() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        flags = next(line for line in lines if line.startswith("flags")).split()
        name = next(line for line in lines if line.startswith("model name")).split(":", 1)[1].strip()
    except (OSError, StopIteration):
        return platform.processor()
    keep = [f for f in flags if f in ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")]
    return f"{name} ({' '.join(keep)})"


def counted_flops(run) -> tuple[int, int]:
    """FLOPs of one call of ``run``: torch's counter as is, and with the CPU SDPA formula (fisher.compute.flops)."""
    with FlopCounterMode(display=False) as counter:
        run()
    with flop_counter() as full:
        run()
    return counter.get_total_flops(), full.get_total_flops()


def analytic_flops(model: Fisher, batch: int, seconds: float) -> tuple[float, int, int]:
    """(FLOPs incl. attention, sequences, tokens per sequence) of one embed call."""
    c = model.config
    frames = min(1 + (int(seconds * SR) - int(0.025 * SR)) // int(0.010 * SR), c.max_frames)
    n = (frames // c.patch_size) * c.freq_patches + 1
    sequences = batch * model.num_bands(SR)
    d = c.embed_dim
    per_seq = c.depth * (24 * n * d * d + 4 * n * n * d) + 2 * (n - 1) * c.patch_size**2 * d
    return float(sequences * per_seq), sequences, n


def linear_suite(model: Fisher, tokens: int) -> tuple[list, float]:
    """Inputs ``[tokens, in]`` for every linear layer of the model, and their total FLOPs."""
    g = torch.Generator().manual_seed(1)
    suite, flops = [], 0.0
    for mod in model.modules():
        if isinstance(mod, torch.nn.Linear):
            suite.append((torch.randn(tokens, mod.in_features, generator=g), mod.weight.detach(), mod.bias.detach()))
            flops += 2.0 * tokens * mod.in_features * mod.out_features
    return suite, flops


def run_linear(suite: list) -> None:
    with torch.inference_mode():
        for x, w, b in suite:
            F.linear(x, w, b)


def build_paths(model: Fisher, clips: np.ndarray, tmp: Path) -> dict:
    official = OfficialEager(model)
    layerwise = Fisher(model.config)
    layerwise.load_state_dict(model.state_dict())
    layerwise.inference_chunk_tokens = None
    paths = {
        "embed": lambda: model.embed(clips, SR),
        "embed-layerwise": lambda: layerwise.embed(clips, SR),
        "official-batched": lambda: official.embed(clips, SR),
        "official-per-clip": lambda: official.embed_per_clip(clips, SR),
        "auto": lambda: model.embed(clips, SR, precision="auto"),
    }
    try:
        from fisher import OnnxFisher, export_onnx

        onnx = OnnxFisher(export_onnx(model, tmp / "fp32.onnx"), threads=torch.get_num_threads())
        whole = OnnxFisher(tmp / "fp32.onnx", threads=torch.get_num_threads())
        whole.chunk_tokens = None
        cls = OnnxFisher(export_onnx(model, tmp / "cls.onnx", outputs="cls"), threads=torch.get_num_threads())
        paths["onnx-fp32"] = lambda: onnx.embed(clips, SR)
        paths["onnx-fp32-whole"] = lambda: whole.embed(clips, SR)
        paths["onnx-cls"] = lambda: cls.embed(clips, SR)
    except ImportError as exc:
        print(f"onnx-fp32 skipped: {exc}")
    return paths


def measure(scale: str, args: argparse.Namespace) -> dict:
    torch.manual_seed(0)
    model = Fisher(FisherConfig.preset(scale))
    rng = np.random.default_rng(0)
    clips = (0.1 * rng.standard_normal((args.batch, int(args.seconds * SR)))).astype(np.float32)
    analytic, sequences, n = analytic_flops(model, args.batch, args.seconds)
    suite, lin_flops = linear_suite(model, sequences * n)
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_paths(model, clips, Path(tmp))
        # what each torch path computes, counted as the check does (a plain FlopCounterMode);
        # ONNX Runtime runs the full graph: the layer-by-layer count with attention (no CLS-only last block)
        counts = {k: counted_flops(f) for k, f in paths.items() if not k.startswith("onnx")}
        full_model = counts["embed-layerwise"][1]
        counts.update({k: (full_model, full_model) for k in paths if k.startswith("onnx")})
        if "onnx-cls" in paths:  # the CLS-only graph does what embed does
            counts["onnx-cls"] = counts["embed"]
        counted, counted_sdpa = counts["embed"]
        reference = paths["official-batched"]()
        diffs = {k: float(np.abs(f() - reference).max()) for k, f in paths.items()}  # warm-up + check
        run_linear(suite)
        best = {k: float("inf") for k in [*paths, "F.linear"]}
        # F.linear runs twice per round: right after embed, and last (after ONNX Runtime, whose idle threads keep
        # spinning for a while and slow whatever follows by up to 10 %); its best time counts
        linear = ("F.linear", lambda: run_linear(suite))
        order = [("embed", paths["embed"]), linear, *((k, f) for k, f in paths.items() if k != "embed"), linear]
        for _ in range(args.rounds):
            for k, f in order:
                t0 = time.perf_counter()
                f()
                best[k] = min(best[k], time.perf_counter() - t0)
    gemm_rate = lin_flops / best["F.linear"]
    rows = []
    for k in paths:
        t = best[k]
        rows.append(
            {
                "path": k,
                "ms": 1e3 * t,
                "clips_per_s": args.batch / t,
                "gflops_counted": counts[k][0] / t / 1e9,
                "gflops_analytic": analytic / t / 1e9,
                "ratio": counts[k][0] / t / gemm_rate,
                "ratio_analytic": analytic / t / gemm_rate,
                "vs_official_batched": best["official-batched"] / t,
                "vs_official_per_clip": best["official-per-clip"] / t,
                "max_abs_diff": diffs[k],
            }
        )
    return {
        "scale": scale,
        "counted_gflop": counted / 1e9,
        "counted_with_sdpa_gflop": counted_sdpa / 1e9,
        "counted_gflop_per_path": {k: v[0] / 1e9 for k, v in counts.items()},
        "analytic_gflop": analytic / 1e9,
        "tokens": sequences * n,
        "gemm_ms": 1e3 * best["F.linear"],
        "gemm_gflops": gemm_rate / 1e9,
        "rows": rows,
    }


def print_result(r: dict) -> None:
    print(
        f"\n{r['scale']}: embed counted {r['counted_gflop']:.2f} GFLOP ({r['counted_with_sdpa_gflop']:.2f} with SDPA), "
        f"official architecture analytic {r['analytic_gflop']:.2f} GFLOP, "
        f"{r['tokens']} tokens; F.linear over the model's layers {r['gemm_ms']:.0f} ms = {r['gemm_gflops']:.1f} GFLOP/s"
    )
    print(
        "| path | best ms | clips/s | GFLOP/s counted | ratio | ratio (analytic) | × official batched | × official per clip | max abs Δ |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for x in r["rows"]:
        print(
            f"| {x['path']} | {x['ms']:.0f} | {x['clips_per_s']:.2f} | {x['gflops_counted']:.1f} | {x['ratio']:.3f} | "
            f"{x['ratio_analytic']:.3f} | {x['vs_official_batched']:.2f} | {x['vs_official_per_clip']:.2f} | "
            f"{x['max_abs_diff']:.1e} |"
        )


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", default="tiny,small")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"CPU: {cpu_flags()}; torch {torch.__version__}, {args.threads} threads, load {os.getloadavg()[0]:.2f}")
    results = []
    for scale in args.scales.split(","):
        results.append(measure(scale, args))
        print_result(results[-1])
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()

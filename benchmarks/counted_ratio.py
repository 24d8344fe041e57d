"""The issue-21 check, stated plainly: FLOPs of ``Fisher.embed`` counted by a plain
``torch.utils.flop_counter.FlopCounterMode``, divided by its best time, over the FLOP rate of ``F.linear`` on the
model's own linear layers at the same token count, timed in the same interleaved rounds.

Usage: ``python benchmarks/counted_ratio.py [--scales tiny,small] [--rounds 9] [--threads 2] [--json out.json]``

8 clips × 10 s at 16 kHz, random weights (seed 0), fp32. The token count is measured, not derived: the rows that
pass through the first block's qkv projection during one embed call (a forward hook, removed before timing). Two
``F.linear`` references are timed, because the issue does not say which inputs to use and the rate depends on it:

* ``shared``: one random ``[T, in]`` input per input width, reused by every layer of that width (cache-resident);
* ``per-layer``: a fresh random ``[T, in]`` input for every layer (as ``benchmarks/gemm_efficiency.py``).

Printed per scale: counted GFLOP, best ms of ``embed``, each reference's GFLOP/s and the ratio against it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gemm_efficiency import linear_suite, run_linear

from fisher import Fisher, FisherConfig
from fisher.bench.machine import gemm_reference

SR = 16000


def token_rows(model: Fisher, clips: np.ndarray) -> int:
    """Rows through the first block's qkv projection in one ``embed`` call (= sequences × tokens)."""
    rows: list[int] = []
    hook = model.blocks[0].attn.qkv.register_forward_hook(
        lambda m, i, o: rows.append(i[0].reshape(-1, m.in_features).shape[0])
    )
    try:
        model.embed(clips, SR)
    finally:
        hook.remove()
    return sum(rows)


def references(model: Fisher, rows: int) -> tuple[dict, float]:
    """``{"shared": run, "per-layer": run}`` applying ``F.linear`` to every linear layer, and their FLOPs: the
    shared-input reference of ``fisher bench`` and the per-layer one of ``benchmarks/gemm_efficiency.py``."""
    shared, flops, _ = gemm_reference(model, rows)
    suite, suite_flops = linear_suite(model, rows)
    assert suite_flops == flops  # the same layers and shapes
    return {"shared": shared, "per-layer": lambda: run_linear(suite)}, flops


def measure(scale: str, rounds: int) -> dict:
    torch.manual_seed(0)
    model = Fisher(FisherConfig.preset(scale)).eval()
    clips = (0.1 * np.random.default_rng(0).standard_normal((8, 10 * SR))).astype(np.float32)
    model.embed(clips, SR)  # warm-up
    with FlopCounterMode(display=False) as counter:
        model.embed(clips, SR)
    flops = counter.get_total_flops()
    rows = token_rows(model, clips)
    refs, ref_flops = references(model, rows)
    runs = {"embed": lambda: model.embed(clips, SR), **refs}
    best = {k: float("inf") for k in runs}
    for _ in range(rounds):
        for k, run in runs.items():
            t = time.perf_counter()
            run()
            best[k] = min(best[k], time.perf_counter() - t)
    rate = flops / best["embed"]
    out = {"scale": scale, "counted_gflop": flops / 1e9, "token_rows": rows, "embed_ms": best["embed"] * 1e3}
    for k in refs:
        out[f"{k}_gflop_per_s"] = ref_flops / best[k] / 1e9
        out[f"ratio_{k}"] = rate / (ref_flops / best[k])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="tiny,small")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = []
    for scale in args.scales.split(","):
        r = measure(scale, args.rounds)
        results.append(r)
        print(
            f"{scale}: counted {r['counted_gflop']:.2f} GFLOP, {r['token_rows']} rows, embed {r['embed_ms']:.0f} ms; "
            f"F.linear shared {r['shared_gflop_per_s']:.1f} GFLOP/s -> ratio {r['ratio_shared']:.3f}; "
            f"per-layer {r['per-layer_gflop_per_s']:.1f} GFLOP/s -> ratio {r['ratio_per-layer']:.3f}"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"threads": args.threads, "torch": torch.__version__, "results": results}, fh, indent=2)


if __name__ == "__main__":
    main()

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
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from fisher import Fisher, FisherConfig

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
    """``{"shared": run, "per-layer": run}`` applying ``F.linear`` to every linear layer, and their FLOPs."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    g = torch.Generator().manual_seed(1)
    shared = {w: torch.randn(rows, w, generator=g) for w in {m.in_features for m in layers}}
    own = [torch.randn(rows, m.in_features, generator=g) for m in layers]
    flops = sum(2.0 * rows * m.in_features * m.out_features for m in layers)

    def run(inputs) -> None:
        with torch.inference_mode():
            for m, x in zip(layers, inputs, strict=True):
                F.linear(x, m.weight, m.bias)

    return {"shared": lambda: run([shared[m.in_features] for m in layers]), "per-layer": lambda: run(own)}, flops


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

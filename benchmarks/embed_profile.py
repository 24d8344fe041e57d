"""Where the time of ``Fisher.embed`` (fp32) goes, stage by stage, with the FLOPs of each stage and its GFLOP/s.

Usage: ``python benchmarks/embed_profile.py [--scales tiny,small] [--cases 16000:1,16000:10,16000:60,8000:10,48000:10,96000:10]
[--batch 4] [--rounds 3] [--threads 2] [--json out.json]``

Each case ``sr:seconds`` embeds ``--batch`` clips. The instrumented run replays exactly what ``embed`` does on the
chunked inference path (``fisher.model.inference_path``) — spectrogram per window, band split, patch convolution,
CLS + context LayerNorm, then per block the qkv projection, attention (SDPA), output projection, residual +
LayerNorm, MLP up-projection, GELU, down-projection, residual + LayerNorm, then the summary, window accumulation and
pooling — timing every stage with ``time.perf_counter`` (CPU ops are synchronous). "Python / other" is the
instrumented run's wall time minus the sum of its stages; the real ``embed`` time is printed beside it. Best of
``--rounds``.

FLOPs (1 multiply-add = 2): linear layers ``2·tokens·in·out``; attention ``4·N²·D`` per sequence and layer; patch
convolution ``2·(N−1)·256·D`` per sequence; real FFT ``≈ 2.5·n·log2(n)`` per frame. Norms, GELU, residuals, STFT
magnitude/log and pooling are element-wise: their FLOPs are not counted (shown as "–").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from fisher import Fisher, FisherConfig
from fisher.model.bands import split_bands
from fisher.model.inference_path import sequences_per_chunk
from fisher.recipe.plan import EmbeddingRecipe, window_jobs

STAGES = [
    "STFT (log-magnitude)",
    "band split",
    "patch embedding",
    "CLS + context norm",
    "qkv projection",
    "attention (SDPA)",
    "output projection",
    "residual + norm1",
    "MLP up (fc1)",
    "GELU",
    "MLP down (fc2)",
    "residual + norm2",
    "summary + pooling",
]


class Clock:
    def __init__(self) -> None:
        self.t = defaultdict(float)
        self.flops = defaultdict(float)

    def run(self, stage: str, fn, flops: float = 0.0):
        t0 = time.perf_counter()
        out = fn()
        self.t[stage] += time.perf_counter() - t0
        self.flops[stage] += flops
        return out


def block(clk: Clock, b, x: torch.Tensor, s: int, n: int) -> torch.Tensor:
    d = x.shape[-1]
    h = b.attn.num_heads
    t = s * n
    qkv = clk.run("qkv projection", lambda: b.attn.qkv(x), 6.0 * t * d * d)
    q, k, v = qkv.view(s, n, 3, h, d // h).permute(2, 0, 3, 1, 4).unbind(0)
    a = clk.run(
        "attention (SDPA)",
        lambda: F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(t, d),
        4.0 * s * n * n * d,
    )
    y = clk.run("output projection", lambda: b.attn.proj(a), 2.0 * t * d * d)
    hid = clk.run("residual + norm1", lambda: b.norm1(y.add_(x)))
    up = clk.run("MLP up (fc1)", lambda: b.mlp.fc1(hid), 8.0 * t * d * d)
    g = clk.run("GELU", lambda: F.gelu(up))
    z = clk.run("MLP down (fc2)", lambda: b.mlp.fc2(g), 8.0 * t * d * d)
    return clk.run("residual + norm2", lambda: b.norm2(z.add_(hid)))


def encode(clk: Clock, m: Fisher, specs: list[torch.Tensor]) -> np.ndarray:
    c = m.config
    bands = clk.run("band split", lambda: torch.cat([split_bands(s, c.band_width) for s in specs]))
    tokens = clk.run(
        "patch embedding",
        lambda: m.patch_tokens(bands),
        2.0 * bands.shape[0] * (bands.shape[1] // 16) * (c.band_width // 16) * 256 * c.embed_dim,
    )
    s_total, n, d = tokens.shape
    length = n + 1
    out = tokens.new_empty(s_total, length, d)
    step = sequences_per_chunk(length, m.inference_chunk_tokens)
    for start in range(0, s_total, step):
        part = tokens[start : start + step]
        s = part.shape[0]
        x = clk.run(
            "CLS + context norm",
            lambda part=part, s=s: m.context_norm(torch.cat([m.cls_token.expand(s, 1, d), part], 1)).view(
                s * length, d
            ),
        )
        for b in m.blocks:
            x = block(clk, b, x, s, length)
        out[start : start + s] = x.view(s, length, d)
    return clk.run("summary + pooling", lambda: m.summarise(out, "cls").numpy())


@torch.inference_mode()
def instrumented(m: Fisher, clips: np.ndarray, sr: int) -> tuple[Clock, float]:
    from fisher.model.backend import TorchBackend

    clk = Clock()
    t0 = time.perf_counter()
    recipe = EmbeddingRecipe.build(m.config, sr)
    backend = TorchBackend(m, recipe)
    jobs, _ = window_jobs(recipe, backend, [torch.from_numpy(c) for c in clips], False)
    fft = 2.5 * recipe.n_fft * math.log2(recipe.n_fft)
    for chunk in jobs:
        specs = [
            clk.run("STFT (log-magnitude)", lambda w=w: backend.spectrogram(w), fft * recipe.frames(a, b))
            for _, c, a, b in chunk
            for w in [c[a:b]]
        ]
        encode(clk, m, specs)
    return clk, time.perf_counter() - t0


def profile_case(m: Fisher, sr: int, seconds: float, batch: int, rounds: int) -> dict:
    rng = np.random.default_rng(0)
    clips = (0.1 * rng.standard_normal((batch, int(seconds * sr)))).astype(np.float32)
    m.embed(clips, sr)
    best_embed, best = float("inf"), None
    for _ in range(rounds):
        t0 = time.perf_counter()
        m.embed(clips, sr)
        best_embed = min(best_embed, time.perf_counter() - t0)
        clk, wall = instrumented(m, clips, sr)
        if best is None or wall < best[1]:
            best = (clk, wall)
    clk, wall = best
    rows = [{"stage": s, "ms": 1e3 * clk.t[s], "gflop": clk.flops[s] / 1e9} for s in STAGES]
    rows.append({"stage": "Python / other", "ms": 1e3 * (wall - sum(clk.t.values())), "gflop": 0.0})
    return {
        "sr": sr,
        "seconds": seconds,
        "batch": batch,
        "embed_ms": 1e3 * best_embed,
        "wall_ms": 1e3 * wall,
        "rows": rows,
    }


def print_case(scale: str, r: dict) -> None:
    total_flop = sum(x["gflop"] for x in r["rows"])
    print(
        f"\n{scale}, {r['batch']} × {r['seconds']:g} s at {r['sr']} Hz: embed {r['embed_ms']:.0f} ms, instrumented "
        f"{r['wall_ms']:.0f} ms, {total_flop:.2f} GFLOP → {total_flop / r['wall_ms'] * 1e3:.1f} GFLOP/s overall"
    )
    print("| stage | ms | share | GFLOP | GFLOP/s |")
    print("|---|---|---|---|---|")
    for x in r["rows"]:
        rate = f"{x['gflop'] / x['ms'] * 1e3:.1f}" if x["gflop"] and x["ms"] > 0 else "–"
        flop = f"{x['gflop']:.2f}" if x["gflop"] else "–"
        print(f"| {x['stage']} | {x['ms']:.1f} | {x['ms'] / r['wall_ms']:.1%} | {flop} | {rate} |")


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", default="tiny,small")
    p.add_argument("--cases", default="16000:1,16000:10,16000:60,8000:10,48000:10,96000:10")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, load average {os.getloadavg()[0]:.2f}")
    out = {}
    for scale in args.scales.split(","):
        torch.manual_seed(0)
        m = Fisher(FisherConfig.preset(scale))
        for case in args.cases.split(","):
            sr, seconds = case.split(":")
            r = profile_case(m, int(sr), float(seconds), args.batch, args.rounds)
            print_case(scale, r)
            out[f"{scale}@{case}"] = r
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()

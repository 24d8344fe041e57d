"""Embedding throughput of full-depth FISHER tiny / mini / small on CPU, side by side with a plain fp32 matmul.

Usage: ``python benchmarks/embed_throughput.py [--runs 5] [--batch 8] [--seconds 10] [--threads 2]``

For each scale (random weights, depth 12): a batch of ``--batch`` clips of ``--seconds`` s at 16 kHz is embedded
``--runs`` times after one warm-up; the median wall time gives clips/s and achieved GFLOP/s (analytic FLOPs of
docs/performance.md: linear layers + attention + patch embedding). The ratio column divides that by the fp32
matmul rate measured in the same process (median of square matmuls of the same thread count), i.e. how close
the model runs to the machine's GEMM speed. Peak RSS is the process maximum after each scale.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np
import torch

from fisher import Fisher, FisherConfig
from fisher.spectrogram import frame_params, num_bands, num_frames


def analytic_gflop(config: FisherConfig, sr: float, seconds: float) -> float:
    """FLOPs per clip (1 multiply-add = 2 FLOPs) of the encoder; elementwise work is not counted."""
    frames = min(num_frames(int(seconds * sr), sr), config.max_frames)
    n = (frames // config.patch_size) * config.freq_patches + 1
    d = config.embed_dim
    per_band = config.depth * (24 * n * d * d + 4 * n * n * d) + 2 * (n - 1) * config.patch_size**2 * d
    return num_bands(sr, config.band_width) * per_band / 1e9


def matmul_gflops(size: int = 1536, runs: int = 7) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t0)
    return 2 * size**3 / statistics.median(times) / 1e9


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--sr", type=float, default=16000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scales", default="tiny,mini,small")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    waves = (0.1 * rng.standard_normal((args.batch, int(args.seconds * args.sr)))).astype(np.float32)

    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, batch={args.batch} x {args.seconds:g} s "
          f"@ {args.sr:g} Hz, median of {args.runs} runs after warm-up; n_fft/hop={frame_params(args.sr)}")
    rows = []
    for scale in args.scales.split(","):
        model = Fisher(FisherConfig.preset(scale))
        model.embed(waves[:2], args.sr)  # warm-up
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            model.embed(waves, args.sr, batch_size=args.batch)
            times.append(time.perf_counter() - t0)
        mm = matmul_gflops()  # measured right after the model, same conditions
        t = statistics.median(times)
        gflop = analytic_gflop(model.config, args.sr, args.seconds)
        rate = gflop * args.batch / t
        rows.append((scale, gflop, args.batch / t, rate, mm, rate / mm, peak_rss_mb()))
        del model

    print(f"{'scale':6} {'GFLOP/clip':>10} {'clips/s':>8} {'GFLOP/s':>8} {'matmul GFLOP/s':>14} {'ratio':>6} "
          f"{'peak RSS MB':>11}")
    for scale, gflop, cps, rate, mm, ratio, rss in rows:
        print(f"{scale:6} {gflop:>10.2f} {cps:>8.2f} {rate:>8.1f} {mm:>14.1f} {ratio:>6.2f} {rss:>11.0f}")


if __name__ == "__main__":
    main()

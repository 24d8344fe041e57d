"""Embedding throughput of full-depth FISHER tiny / mini / small on CPU, side by side with a plain fp32 matmul,
for each inference precision (fp32 / bf16 / int8).

Usage: ``python benchmarks/embed_throughput.py [--runs 5] [--batch 8] [--seconds 10] [--threads 2]
[--precisions fp32,bf16,int8]``

Fidelity of the reduced precisions: mean cosine similarity to the fp32 embeddings of real signals from
``../shared/data`` (drone audio at 16 kHz, CWRU vibration at 12 kHz; ``$FISHER_SHARED`` overrides the location).

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
from fisher.model.bands import frame_params, num_bands, num_frames


def analytic_gflop(config: FisherConfig, sr: float, seconds: float) -> float:
    """FLOPs per clip (1 multiply-add = 2 FLOPs) of the encoder; elementwise work is not counted."""
    frames = min(num_frames(int(seconds * sr), sr), config.max_frames)
    n = (frames // config.patch_size) * config.freq_patches + 1
    d = config.embed_dim
    per_band = config.depth * (24 * n * d * d + 4 * n * n * d) + 2 * (n - 1) * config.patch_size**2 * d
    return num_bands(sr, config.band_width) * per_band / 1e9


def matmul_gflops(m: int = 1536, k: int = 1536, n: int = 1536, runs: int = 7) -> float:
    """fp32 GEMM rate ``[m, k] @ [k, n]`` (median of ``runs``)."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    torch.mm(a, b)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t0)
    return 2 * m * k * n / statistics.median(times) / 1e9


def model_gemm_gflops(config: FisherConfig, sr: float, seconds: float, batch: int) -> float:
    """fp32 rate of the model's own MLP GEMM shape ``[S·N, D] @ [D, 4D]`` for this batch."""
    frames = min(num_frames(int(seconds * sr), sr), config.max_frames)
    tokens = ((frames // config.patch_size) * config.freq_patches + 1) * num_bands(sr, config.band_width) * batch
    return matmul_gflops(tokens, config.embed_dim, config.mlp_dim, runs=3)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_signals() -> list[tuple[np.ndarray, int]]:
    """Up to 8 drone clips (16 kHz) and 8 CWRU drive-end clips (12 kHz), 10 s each; empty if data is missing."""
    import os
    from pathlib import Path

    import soundfile as sf

    root = Path(os.environ.get("FISHER_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data"
    out = []
    for path in sorted((root / "uav_propeller_cw").glob("*/*.flac"))[::8][:8]:
        wave, sr = sf.read(path, dtype="float32")
        out.append((wave[: 10 * sr], sr))
    for path in sorted((root / "cwru_12k_drive_end").glob("[BIO]*_0.npz"))[:8]:
        rec = np.load(path, allow_pickle=False)
        out.append((rec["DE"][: 10 * 12000].astype(np.float32), int(rec["fs"])))
    return out


def fidelity(model: Fisher, signals: list[tuple[np.ndarray, int]], precision: str) -> float:
    """Mean cosine similarity between ``precision`` and fp32 embeddings over the real signals."""
    if not signals:
        return float("nan")
    cos = []
    for wave, sr in signals:
        a = model.embed(wave, sr)
        b = model.embed(wave, sr, precision=precision)
        cos.append(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    return float(np.mean(cos))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--sr", type=float, default=16000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scales", default="tiny,mini,small")
    ap.add_argument("--precisions", default="fp32,bf16,int8")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    waves = (0.1 * rng.standard_normal((args.batch, int(args.seconds * args.sr)))).astype(np.float32)

    precisions = args.precisions.split(",")
    signals = real_signals()
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, batch={args.batch} x {args.seconds:g} s "
          f"@ {args.sr:g} Hz, median of {args.runs} runs after warm-up; n_fft/hop={frame_params(args.sr)}; "
          f"fidelity on {len(signals)} real signals")
    rows = []
    for scale in args.scales.split(","):
        model = Fisher(FisherConfig.preset(scale))
        gflop = analytic_gflop(model.config, args.sr, args.seconds)
        base = None
        for precision in precisions:
            model.embed(waves[:2], args.sr, precision=precision)  # warm-up (and build the reduced copy)
            times, mms, gemms = [], [], []
            for _ in range(args.runs):
                mms.append(matmul_gflops(runs=3))  # interleaved with the model runs: same conditions
                gemms.append(model_gemm_gflops(model.config, args.sr, args.seconds, args.batch))
                t0 = time.perf_counter()
                model.embed(waves, args.sr, batch_size=args.batch, precision=precision)
                times.append(time.perf_counter() - t0)
            t, mm, gemm = statistics.median(times), statistics.median(mms), statistics.median(gemms)
            base = t if precision == "fp32" else base
            rate = gflop * args.batch / t
            cos = 1.0 if precision == "fp32" else fidelity(model, signals, precision)
            speedup = base / t if base else float("nan")
            rows.append((scale, precision, gflop, args.batch / t, rate, mm, rate / mm, rate / gemm, speedup, cos,
                         peak_rss_mb()))
        del model

    print(f"{'scale':6} {'prec':5} {'GFLOP/clip':>10} {'clips/s':>8} {'GFLOP/s':>8} {'matmul GFLOP/s':>14} "
          f"{'ratio':>6} {'ratio(model GEMM)':>17} {'speed-up':>8} {'cos vs fp32':>11} {'peak RSS MB':>11}")
    for scale, prec, gflop, cps, rate, mm, ratio, ratio_gemm, speedup, cos, rss in rows:
        print(f"{scale:6} {prec:5} {gflop:>10.2f} {cps:>8.2f} {rate:>8.1f} {mm:>14.1f} {ratio:>6.2f} "
              f"{ratio_gemm:>17.2f} {speedup:>8.2f} {cos:>11.5f} {rss:>11.0f}")
    print("ratio = achieved model GFLOP/s (analytic FLOPs) / square fp32 matmul (1536^3) GFLOP/s; ratio(model GEMM) = "
          "the same / the model's own MLP GEMM shape [S*N, D] @ [D, 4D]; both measured interleaved in this run; "
          "speed-up = fp32 time / this precision's time")


if __name__ == "__main__":
    main()

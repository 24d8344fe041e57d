"""Embedding throughput of full-depth FISHER tiny / mini / small on CPU, side by side with a plain fp32 matmul,
for each inference path (torch fp32 / bf16 / int8 / auto, ONNX Runtime fp32 / static int8), on two kinds of CPU.

Usage: ``python benchmarks/embed_throughput.py [--runs 5] [--batch 8] [--seconds 10] [--threads 2]
[--precisions fp32,bf16,int8,auto,onnx-fp32,onnx-int8] [--kinds native,avx2]``

CPU kinds: each kind runs in its own subprocess, one after the other in the same invocation. ``native`` is this
machine; ``avx2`` emulates an AVX2-only CPU (no AVX-512, AVX512-BF16, AMX or VNNI) by starting the subprocess with
``ONEDNN_MAX_CPU_ISA=AVX2`` (oneDNN: bf16 / int8 kernels), ``MKL_ENABLE_INSTRUCTIONS=AVX2`` (MKL: fp32 GEMM) and
``ATEN_CPU_CAPABILITY=avx2`` (torch's vectorised element-wise kernels). ONNX Runtime's MLAS kernels and FBGEMM (torch's
dynamic int8) pick their ISA from CPUID and have no such switch: the ``onnx-*`` and ``int8`` rows of the ``avx2``
table still use this machine's full ISA (AVX-512 VNNI / AMX) and are marked ``*`` — measure those on a real AVX2 CPU.
``auto`` is ``precision="auto"`` (:func:`fisher.inference_capabilities`), which sees the emulation variables.

Fidelity of the reduced precisions: mean cosine similarity to the fp32 embeddings of real signals from
``../shared/data`` (drone audio at 16 kHz, CWRU vibration at 12 kHz; ``$FISHER_SHARED`` overrides the location).

For each scale (random weights, depth 12): a batch of ``--batch`` clips of ``--seconds`` s at 16 kHz is embedded
``--runs`` times after one warm-up; the median wall time gives clips/s and achieved GFLOP/s (analytic FLOPs of
docs/performance.md: linear layers + attention + patch embedding). The ratio column divides that by the fp32
matmul rate measured in the same process (median of square matmuls of the same thread count), i.e. how close
the model runs to the machine's GEMM speed. Within each run the paths are timed round-robin, so drift of the shared
machine hits all of them alike. Peak RSS is the process maximum after each scale (all paths of that kind loaded).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from fisher import Fisher, FisherConfig, OnnxFisher, export_onnx, inference_capabilities
from fisher.recipe.framing import frame_params, num_bands, num_frames

KINDS = {
    "native": {},
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"},
}


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


def fidelity(model: Fisher, signals: list[tuple[np.ndarray, int]], run) -> float:
    """Mean cosine similarity between ``run(wave, sr)`` and the torch fp32 embeddings over the real signals."""
    if not signals:
        return float("nan")
    cos = []
    for wave, sr in signals:
        a = model.embed(wave, sr)
        b = run(wave, sr)
        cos.append(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    return float(np.mean(cos))


def runners(model: Fisher, precisions: list[str], signals: list, threads: int, tmp: Path) -> dict:
    """``{name: (embed(wave, sr, batch_size) callable, note)}`` for every requested inference path."""
    out = {}
    for p in precisions:
        if p.startswith("onnx"):
            continue
        note = inference_capabilities().auto if p == "auto" else ""
        out[p] = (lambda w, sr, bs=8, p=p: model.embed(w, sr, batch_size=bs, precision=p), note)
    if any(p.startswith("onnx") for p in precisions):
        fp32_path = export_onnx(model, tmp / "fp32.onnx")
        onnx_fp32 = OnnxFisher(fp32_path, threads=threads)
        size = f"{fp32_path.stat().st_size / 1e6:.0f} MB"
        if "onnx-fp32" in precisions:
            out["onnx-fp32"] = (lambda w, sr, bs=8: onnx_fp32.embed(w, sr, batch_size=bs), size)
        if "onnx-int8" in precisions:
            from fisher.deploy.quantize import calibration_bands, quantize_onnx_int8

            cal = calibration_bands(onnx_fp32, signals[::2], max_windows=16)  # calibrate on every other signal
            int8_path = quantize_onnx_int8(fp32_path, tmp / "int8.onnx", cal)
            onnx_int8 = OnnxFisher(int8_path, threads=threads)
            out["onnx-int8"] = (
                lambda w, sr, bs=8: onnx_int8.embed(w, sr, batch_size=bs),
                f"{int8_path.stat().st_size / 1e6:.0f} MB",
            )
    return out


def measure(args: argparse.Namespace) -> list[dict]:
    """All rows of one CPU kind (this process)."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    waves = (0.1 * rng.standard_normal((args.batch, int(args.seconds * args.sr)))).astype(np.float32)
    signals = real_signals()
    rows = []
    for scale in args.scales.split(","):
        model = Fisher(FisherConfig.preset(scale))
        gflop = analytic_gflop(model.config, args.sr, args.seconds)
        with tempfile.TemporaryDirectory() as tmp:
            paths = runners(model, args.precisions.split(","), signals, args.threads, Path(tmp))
            for run, _ in paths.values():
                run(waves[:2], args.sr)  # warm-up (and build the reduced copies)
            times: dict[str, list[float]] = {name: [] for name in paths}
            mms, gemms = [], []
            for _ in range(args.runs):  # round-robin over the paths: drift of the shared machine hits all alike
                mms.append(matmul_gflops(runs=3))
                gemms.append(model_gemm_gflops(model.config, args.sr, args.seconds, args.batch))
                for name, (run, _) in paths.items():
                    t0 = time.perf_counter()
                    run(waves, args.sr, args.batch)
                    times[name].append(time.perf_counter() - t0)
            mm, gemm = statistics.median(mms), statistics.median(gemms)
            base = statistics.median(times["fp32"]) if "fp32" in times else None
            for name, (run, note) in paths.items():
                t = statistics.median(times[name])
                rate = gflop * args.batch / t
                held_out = signals[1::2] if name == "onnx-int8" else signals
                cos = 1.0 if name == "fp32" else fidelity(model, held_out, lambda w, sr, run=run: run(w, sr))
                rows.append(
                    {
                        "scale": scale,
                        "path": name,
                        "note": note,
                        "gflop": gflop,
                        "cps": args.batch / t,
                        "rate": rate,
                        "mm": mm,
                        "ratio": rate / mm,
                        "ratio_gemm": rate / gemm,
                        "speedup": base / t if base else float("nan"),
                        "cos": cos,
                        "rss": peak_rss_mb(),
                    }
                )
        del model
    return rows


def print_table(kind: str, rows: list[dict], args: argparse.Namespace) -> None:
    caps = json.loads(rows[0]["caps"]) if rows and "caps" in rows[0] else {}
    print(
        f"\n== CPU kind: {kind} ({' '.join(f'{k}={v}' for k, v in KINDS[kind].items()) or 'no emulation'}); "
        f"precision='auto' -> {caps.get('auto')}: {caps.get('reasons', {}).get('bf16', '')}"
    )
    print(
        f"{'scale':6} {'path':9} {'GFLOP/clip':>10} {'clips/s':>8} {'GFLOP/s':>8} {'matmul GFLOP/s':>14} "
        f"{'ratio':>6} {'ratio(model GEMM)':>17} {'speed-up':>8} {'cos vs fp32':>11} {'peak RSS MB':>11}  note"
    )
    for r in rows:
        star = "*" if kind != "native" and (r["path"].startswith("onnx") or r["path"] == "int8") else ""
        print(
            f"{r['scale']:6} {r['path'] + star:9} {r['gflop']:>10.2f} {r['cps']:>8.2f} {r['rate']:>8.1f} "
            f"{r['mm']:>14.1f} {r['ratio']:>6.2f} {r['ratio_gemm']:>17.2f} {r['speedup']:>8.2f} {r['cos']:>11.5f} "
            f"{r['rss']:>11.0f}  {r['note']}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--sr", type=float, default=16000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scales", default="tiny,mini,small")
    ap.add_argument("--precisions", default="fp32,bf16,int8,auto,onnx-fp32,onnx-int8")
    ap.add_argument("--kinds", default="native,avx2", help=f"CPU kinds, each in a subprocess: {','.join(KINDS)}")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:  # one CPU kind: print the rows as JSON on the last line
        rows = measure(args)
        caps = json.dumps(inference_capabilities().to_dict())
        print(json.dumps([{**r, "caps": caps} for r in rows]))
        return

    print(
        f"torch {torch.__version__}, threads={args.threads}, batch={args.batch} x {args.seconds:g} s "
        f"@ {args.sr:g} Hz, median of {args.runs} runs after warm-up; n_fft/hop={frame_params(args.sr)}; "
        f"fidelity on {len(real_signals())} real signals (onnx-int8: the half not used for calibration)"
    )
    results = {}
    for kind in args.kinds.split(","):
        if kind not in KINDS:
            raise SystemExit(f"unknown CPU kind {kind!r}; allowed: {', '.join(KINDS)}")
        env = {**os.environ, **KINDS[kind]}
        cmd = [sys.executable, __file__, "--child", *sys.argv[1:]]
        done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
        print_table(kind, results[kind], args)
    print(
        "\nratio = achieved model GFLOP/s (analytic FLOPs) / square fp32 matmul (1536^3) GFLOP/s; ratio(model GEMM) = "
        "the same / the model's own MLP GEMM shape [S*N, D] @ [D, 4D]; both measured interleaved in this run; "
        "speed-up = torch fp32 time / this path's time in the same process; note: what 'auto' resolved to, or "
        "the ONNX file size; * = ONNX Runtime / FBGEMM ignore the emulation variables (full ISA of this machine)"
    )
    if len(results) > 1:
        kinds = list(results)
        print(f"\nclips/s {kinds[1]} / {kinds[0]} (same invocation, one kind after the other):")
        for a, b in zip(results[kinds[0]], results[kinds[1]]):
            print(f"  {a['scale']:6} {a['path']:9} {b['cps'] / a['cps']:.2f}")


if __name__ == "__main__":
    main()

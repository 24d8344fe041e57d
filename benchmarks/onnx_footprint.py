"""Edge sizing of the torch-free runtime: ONNX file size, resident memory and clips/s of ``OnnxFisher``.

Usage: ``python benchmarks/onnx_footprint.py [--scales tiny,mini,small] [--threads 1] [--batch 4] [--seconds 10]``

For each scale (random weights, depth 12) the parent exports fp32 ONNX and a static int8 copy (calibrated on real
signals from ``$FISHER_SHARED/data``, as in ``embed_throughput.py``); each file is then measured in a fresh
subprocess in which ``import torch`` is blocked, i.e. exactly what an edge gateway with numpy, scipy and
onnxruntime runs. Reported: file MB, RSS after ``import fisher`` + loading the model, peak RSS (VmHWM) after
embedding ``--batch`` clips of ``--seconds`` s at 16 kHz, and the median clips/s of 3 runs after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

CHILD = textwrap.dedent("""
    import json, statistics, sys, time
    sys.modules["torch"] = None  # prove the runtime never needs torch
    import numpy as np
    import fisher

    def rss(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    path, threads, batch, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    model = fisher.OnnxFisher(path, threads=threads)
    loaded = rss("VmRSS")
    waves = (0.1 * np.random.default_rng(0).standard_normal((batch, int(seconds * 16000)))).astype(np.float32)
    model.embed(waves[:1], 16000)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        model.embed(waves, 16000, batch_size=batch)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"loaded": loaded, "peak": rss("VmHWM"), "cps": batch / statistics.median(times)}))
""")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="tiny,mini,small")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()

    import torch

    from fisher import Fisher, FisherConfig, OnnxFisher, export_onnx
    from fisher.deploy.quantize import calibration_bands, quantize_onnx_int8

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from embed_throughput import real_signals

    signals = real_signals()
    print(
        f"OnnxFisher in a torch-free subprocess, threads={args.threads}, batch={args.batch} x {args.seconds:g} s "
        "@ 16 kHz, median of 3 runs after warm-up"
    )
    print(f"{'scale':6} {'file':5} {'MB':>6} {'RSS loaded MB':>13} {'peak RSS MB':>11} {'clips/s':>8}")
    for scale in args.scales.split(","):
        torch.manual_seed(0)
        model = Fisher(FisherConfig.preset(scale))
        with tempfile.TemporaryDirectory() as tmp:
            fp32 = export_onnx(model, Path(tmp) / "fp32.onnx")
            cal = calibration_bands(OnnxFisher(fp32), signals[::2], max_windows=16)
            int8 = quantize_onnx_int8(fp32, Path(tmp) / "int8.onnx", cal)
            for label, path in (("fp32", fp32), ("int8", int8)):
                cmd = [sys.executable, "-c", CHILD, str(path), str(args.threads), str(args.batch), str(args.seconds)]
                out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
                print(
                    f"{scale:6} {label:5} {path.stat().st_size / 1e6:>6.1f} {out['loaded']:>13.0f} "
                    f"{out['peak']:>11.0f} {out['cps']:>8.2f}"
                )


if __name__ == "__main__":
    main()

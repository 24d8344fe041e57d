"""Peak memory of ``Fisher.embed_file`` on long recordings: 1 min vs 1 h of 64 kHz signal, side by side.

Usage: ``python benchmarks/streaming_memory.py [--minutes 1,60] [--sr 64000] [--scale tiny] [--depth 12]``

Each file (synthetic machine-like signal, 16-bit FLAC, written block by block to a temporary folder) is embedded in
a fresh subprocess so peaks do not mix. Reported: the process's peak RSS (VmHWM) minus its RSS right after loading
the model, wall time and windows/s. Target: < 1 GB above the loaded model for 1 h at 64 kHz.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

CHILD = r"""
import json, sys, time, torch
from fisher import Fisher, FisherConfig
def status(key):
    return int([l.split()[1] for l in open("/proc/self/status") if l.startswith(key)][0]) / 1024
torch.set_num_threads(int(sys.argv[4]))
torch.manual_seed(0)
model = Fisher(FisherConfig.preset(sys.argv[2], depth=int(sys.argv[3])))
base = status("VmRSS")
t0 = time.perf_counter()
res = model.embed_file(sys.argv[1], batch_size=8)
print(json.dumps({"base": base, "peak": status("VmHWM"), "seconds": time.perf_counter() - t0,
                  "windows": len(res.windows), "dim": res.windows.shape[1]}))
"""


def write_signal(path: Path, minutes: float, sr: int) -> None:
    rng = np.random.default_rng(0)
    block = 60 * sr
    with sf.SoundFile(str(path), "w", sr, 1, subtype="PCM_16") as f:
        for start in range(0, int(minutes * 60 * sr), block):
            t = (start + np.arange(block)) / sr
            x = (
                0.3 * np.sin(2 * np.pi * 50 * t)
                + 0.1 * np.sin(2 * np.pi * 3150 * t)
                + 0.05 * rng.standard_normal(block)
            )
            f.write((np.clip(x, -1, 1) * 32767).astype(np.int16))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", default="1,60")
    ap.add_argument("--sr", type=int, default=64000)
    ap.add_argument("--scale", default="tiny")
    ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in [float(m) for m in args.minutes.split(",")]:
            path = Path(tmp) / f"{minutes:g}min.flac"
            t0 = time.perf_counter()
            write_signal(path, minutes, args.sr)
            write_s = time.perf_counter() - t0
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(path), args.scale, str(args.depth), str(args.threads)],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append((minutes, path.stat().st_size / 2**20, write_s, r))
            path.unlink()
    print(f"FISHER-{args.scale} depth {args.depth}, {args.sr} Hz mono FLAC, batch_size=8, {args.threads} threads")
    print(
        f"{'minutes':>7} {'file MB':>8} {'windows':>7} {'dim':>5} {'embed s':>8} {'win/s':>6} "
        f"{'RSS model MB':>12} {'peak MB':>8} {'peak-model MB':>13}"
    )
    for minutes, mb, _, r in rows:
        print(
            f"{minutes:>7g} {mb:>8.1f} {r['windows']:>7} {r['dim']:>5} {r['seconds']:>8.1f} "
            f"{r['windows'] / r['seconds']:>6.2f} {r['base']:>12.0f} {r['peak']:>8.0f} {r['peak'] - r['base']:>13.0f}"
        )
    if len(rows) >= 2:
        a, b = rows[0][3], rows[-1][3]
        print(
            f"ratio of peak-above-model ({rows[-1][0]:g} min / {rows[0][0]:g} min): "
            f"{(b['peak'] - b['base']) / max(a['peak'] - a['base'], 1):.2f}"
        )


if __name__ == "__main__":
    main()

"""Embed real industrial signals from ../shared/data with FISHER at their native sampling rates.

* drone propeller sound, 16 kHz (flac)
* CWRU bearing vibration, drive-end (DE) and fan-end (FE) accelerometers, 12 kHz and 48 kHz (npz)

Run: ``python examples/embed_signals.py [--model tiny|DIR|FILE.pt]``. Without cached official weights a random
FISHER-tiny is used (and said so): the shapes and the pipeline are the point here, not the numbers.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from fisher.demo.command import load_model


def shared_data() -> Path:
    root = Path(os.environ.get("FISHER_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    if not (root / "data").is_dir():
        raise SystemExit(f"shared data not found under {root}; set FISHER_SHARED to the folder holding data/")
    return root / "data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="tiny")
    args = ap.parse_args()
    data = shared_data()
    model, how = load_model(args.model, offline=True, random_init=False)
    print(f"model: {how}\n")
    print(f"{'signal':48} {'sr':>6} {'seconds':>7} {'bands':>5} {'concat':>12} {'mean':>8}")

    def show(name: str, clips: list[np.ndarray], sr: int) -> None:
        concat = model.embed(clips, sr)
        mean = model.embed(clips, sr, pool="mean")
        secs = np.mean([len(c) for c in clips]) / sr
        print(f"{name:48} {sr:>6} {secs:>7.1f} {model.num_bands(sr):>5} {concat.shape!s:>12} {mean.shape!s:>8}")

    drone = sorted((data / "uav_propeller_cw" / "normal").glob("*.flac"))[:2]
    for path in drone:
        wave, sr = sf.read(path, dtype="int16")  # integer PCM is scaled by its full scale
        show(f"drone {path.name}", [wave], sr)

    for name in ("Normal_0_48k", "IR007_0", "B014_1", "OR021at6_2"):
        rec = np.load(data / "cwru_12k_drive_end" / f"{name}.npz", allow_pickle=False)
        sr = int(rec["fs"])
        # channels are separate clips: one embedding per accelerometer
        show(f"CWRU {name} (DE, FE)", [rec["DE"].astype(np.float32), rec["FE"].astype(np.float32)], sr)


if __name__ == "__main__":
    main()

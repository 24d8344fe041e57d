"""Embed real drone-propeller recordings with two fisher_asd encoders: ``logstft`` and ``fisher``.

Data: ``uav_propeller_cw`` from the shared corpus (16 kHz on-board microphone, 30 s flights; normal and broken
propellers), located through ``$FISHER_SHARED`` or ``../shared`` beside the repository. Each flight is cut into
three 10 s windows and embedded; per encoder the script prints the embedding shape and a leave-one-flight-out
distance of every flight to the normal flights (a first look, not an evaluation).

FISHER uses the shipped self-pretrained ``demo`` weights (offline; not the official FISHER release) — pass
``--fisher small`` (or a directory / ``.pt``) for the official weights. Run: ``python examples/asd_encoders.py``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import soundfile as sf


def shared_data() -> Path:
    """``$FISHER_SHARED/data`` or ``../shared/data`` beside the repository."""
    root = Path(os.environ.get("FISHER_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    if not (root / "data" / "uav_propeller_cw").is_dir():
        raise SystemExit(f"shared data not found under {root}; set FISHER_SHARED to the folder holding data/")
    return root / "data" / "uav_propeller_cw"


def load_flights(folder: Path, per_class: int) -> tuple[list[np.ndarray], list[str], int]:
    """First ``per_class`` flights of each class → (10 s windows, labels, sr)."""
    windows, labels, rate = [], [], None
    for cls in ("normal", "1_broken", "2_broken", "3_4_broken"):
        for path in sorted((folder / cls).glob("*.flac"))[:per_class]:
            pcm, sr = sf.read(path, dtype="int16")
            rate = rate or sr
            if sr != rate:
                raise SystemExit(f"{path.name}: {sr} Hz differs from {rate} Hz")
            win = 10 * sr
            for start in range(0, len(pcm) - win + 1, win):
                windows.append(pcm[start : start + win])  # int16 PCM: the encoders scale it by 2**-15
                labels.append(cls)
    return windows, labels, int(rate)


def distance_to_normals(emb: np.ndarray, labels: list[str], per_flight: int) -> dict[str, float]:
    """Mean cosine distance of each flight to the centroid of the *other* normal flights, averaged per class."""
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    flights = unit.reshape(-1, per_flight, unit.shape[1]).mean(1)
    flight_labels = labels[::per_flight]
    normal = [i for i, c in enumerate(flight_labels) if c == "normal"]
    out: dict[str, list[float]] = {}
    for i, cls in enumerate(flight_labels):
        ref = flights[[j for j in normal if j != i]].mean(0)
        cos = float(flights[i] @ ref / (np.linalg.norm(flights[i]) * np.linalg.norm(ref)))
        out.setdefault(cls, []).append(1.0 - cos)
    return {cls: float(np.mean(v)) for cls, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description="embed drone audio with logstft and fisher")
    ap.add_argument("--per-class", type=int, default=3, help="flights per class (default 3)")
    ap.add_argument(
        "--fisher", default=None, help="FISHER name / directory / .pt (default: the shipped 'demo' weights, offline)"
    )
    args = ap.parse_args()

    from fisher_asd.encoders import create_encoder

    windows, labels, sr = load_flights(shared_data(), args.per_class)
    per_flight = 3
    print(f"{len(windows)} windows of 10 s at {sr} Hz from {len(windows) // per_flight} flights")
    model = args.fisher or "demo"
    encoders = [create_encoder("logstft"), create_encoder("fisher", model=model, pool="concat")]
    for enc in encoders:
        emb = enc.embed(windows, sr, batch_size=8)
        print(f"\n{enc.name}: embeddings {emb.shape} (embedding_dim({sr}) = {enc.embedding_dim(sr)})")
        for cls, d in distance_to_normals(np.asarray(emb, dtype=np.float64), labels, per_flight).items():
            print(f"  {cls:<11} mean cosine distance to the other normal flights: {d:.4f}")
    if args.fisher is None:
        print("\n(fisher used the shipped 'demo' weights, not the official FISHER release)")


if __name__ == "__main__":
    main()

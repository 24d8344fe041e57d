"""Real-signal check of the detector: UAV propeller audio as a DCASE-style task (``../shared/data/uav_propeller_cw``).

Protocol (the data README's suggestion, fixed here): the 26 normal flights sorted by run number; runs 01–16 train,
the other 10 normal and all 36 anomalous flights (1, 2, 3–4 broken propellers) test. Every 30 s flight is cut into
three consecutive 10 s windows (16 kHz); the detector sees windows (48 train, 138 test) and a flight's score is the
mean of its three window scores. One machine, one domain (``"source"``).

Detectors (offline, no pretrained weights): ``logstft``; ``fisher`` = FISHER tiny (depth 12) with **random**
weights, ``pool="concat"``; and their fusion (equal weights). k = 5, MemMixup on (no target domain, so no
oversampling), rank normalisation transductive (as published) and inductive (online).

Printed per detector: flight-level AUC, pAUC (max FPR 0.1, McClish), the official-style score = harmonic mean of
{AUC, pAUC} (epsilon floor, DCASE 2020 per-section convention since there are no domains), the window-level AUC,
the batch scoring time per test window (all 138 windows in one call) and the online latency of one window scored
alone (inductive, median of 5). These are development numbers on a small corpus, not a benchmark result.

Usage: ``python benchmarks/asd_real.py [--data ../shared/data] [--threads 2]``
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import soundfile as sf
import torch

SR = 16000
WINDOW = 10 * SR


def load(root: Path) -> tuple[list[np.ndarray], list[str], list[int]]:
    """Flights (float32), names and labels, checked against MANIFEST.csv (sha256)."""
    manifest = {}
    with open(root / "MANIFEST.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            manifest[row["path"]] = row["sha256"]
    folder = root / "uav_propeller_cw"
    waves, names, labels = [], [], []
    for path in sorted(folder.glob("*/*.flac")):
        rel = path.relative_to(root).as_posix()
        if hashlib.sha256(path.read_bytes()).hexdigest() != manifest.get(rel):
            raise ValueError(f"{rel}: sha256 does not match MANIFEST.csv")
        data, sr = sf.read(str(path), dtype="float32")
        if sr != SR:
            raise ValueError(f"{rel}: {sr} Hz, expected {SR}")
        waves.append(data)
        names.append(path.stem)
        labels.append(0 if path.parent.name == "normal" else 1)
    return waves, names, labels


def windows(flights: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive full 10 s windows of every flight → ``([W, 160000], flight index [W])``."""
    out, owner = [], []
    for i, f in enumerate(flights):
        for s in range(0, f.size - WINDOW + 1, WINDOW):
            out.append(f[s : s + WINDOW])
            owner.append(i)
    return np.stack(out), np.array(owner)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from fisher import FisherConfig
    from fisher.eval.metrics import EPS, hmean, partial_auc, roc_auc
    from fisher_asd import Detector

    waves, _names, labels = load(Path(args.data))
    normal = [i for i, y in enumerate(labels) if y == 0]
    train_idx = normal[:16]
    test_idx = [i for i in range(len(waves)) if i not in train_idx]
    x_train, _ = windows([waves[i] for i in train_idx])
    x_test, owner = windows([waves[i] for i in test_idx])
    y_flight = np.array([labels[i] for i in test_idx])
    print(
        f"UAV propeller (cw_square): train {len(train_idx)} normal flights = {len(x_train)} windows; test "
        f"{int((y_flight == 0).sum())} normal + {int(y_flight.sum())} anomalous flights = {len(x_test)} windows "
        f"of 10 s at {SR} Hz; {args.threads} threads"
    )

    fisher_enc = ("fisher", {"model": FisherConfig.preset("tiny"), "pool": "concat"})
    torch.manual_seed(0)
    systems = {
        "logstft": ["logstft"],
        "fisher (random tiny)": [fisher_enc],
        "logstft + fisher": ["logstft", fisher_enc],
    }
    header = (
        f"{'detector':<22}{'rank norm':<14}{'AUC':>7}{'pAUC':>7}{'score':>7}{'win AUC':>9}{'s/window':>10}"
        f"{'online s':>10}{'fit s':>8}"
    )
    print(header)
    print("-" * len(header))
    for label, encoders in systems.items():
        for rank_norm in ("transductive", "inductive"):
            torch.manual_seed(0)  # the same random FISHER weights in every row
            det = Detector(encoders, rank_norm=rank_norm, k=5, seed=0)
            t0 = time.perf_counter()
            det.fit(x_train, SR, machine="uav", domain="source")
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            win = det.score(x_test, SR, machine="uav", domain="source")
            per_window = (time.perf_counter() - t0) / len(x_test)
            flight = np.array([win[owner == j].mean() for j in range(len(test_idx))])
            auc, pauc = roc_auc(y_flight, flight), partial_auc(y_flight, flight, max_fpr=0.1)
            official = hmean([auc, pauc], floor=EPS)
            win_auc = roc_auc(y_flight[owner], win)
            online = float("nan")
            if rank_norm == "inductive":
                times = []
                for j in range(5):
                    t0 = time.perf_counter()
                    det.score(x_test[j], SR, machine="uav", domain="source")
                    times.append(time.perf_counter() - t0)
                online = statistics.median(times)
            print(
                f"{label:<22}{rank_norm:<14}{auc:>7.4f}{pauc:>7.4f}{official:>7.4f}{win_auc:>9.4f}"
                f"{per_window:>10.4f}{online:>10.4f}{fit_s:>8.1f}"
            )


if __name__ == "__main__":
    main()

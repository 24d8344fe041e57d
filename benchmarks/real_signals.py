"""Real-signal report: ``logstft`` vs FISHER tiny with RANDOM weights on the shared corpus (../shared/data).

Usage::

    python benchmarks/real_signals.py [--data ../shared/data] [--cache DIR] [--encoders logstft,random-tiny]

Precision check (issue 7): ``--encoders random-tiny,random-tiny@bf16,random-tiny@int8`` puts the reduced-precision
FISHER columns beside fp32 in one run.

Tasks (all splits sealed: windows of one recording never appear on both sides):

1. CWRU drive-end fault type (inner race / ball / outer race; 12 kHz, DE channel): leave-one-load-out over the
   4 motor loads (train 27 recordings, test 9), 2 s segments, RMIS fault-diagnosis k-NN (k = 5, cosine-weighted) per
   segment, segment logits summed per recording; macro accuracy over recordings, mean of the 4 folds.
2. UAV propeller anomaly detection (16 kHz): memory bank = the 10 s windows of the first 16 normal flights; 1-NN
   cosine distance per window, mean over the 3 windows of a flight; AUC and McClish pAUC(0.1) over the 46 test
   flights (10 normal, 36 with broken propellers).
3. UAV 4-class (0 / 1 / 2 / 3-4 broken propellers): 10 s windows, RMIS fault-diagnosis protocol with sealed random
   splits by flight (test 0.5, 5 runs, seeds 111-115), macro accuracy over windows.

FISHER runs with the RMIS recipe (window zero-padded to 1024 frames, bands concatenated) and random weights
(``torch.manual_seed(0)``): these are NOT pretrained-weight numbers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from fisher.eval.datasets import cwru_manifest, folder_manifest
from fisher.eval.metrics import partial_auc, roc_auc
from fisher.eval.rmis import (
    embed_files,
    fault_diagnosis,
    knn_logits,
    knn_mean_distance,
    macro_accuracy,
    resolve_encoder,
)


def cwru_leave_one_load_out(root: Path, encoder, cache) -> float:
    items = cwru_manifest(root / "cwru_12k_drive_end")
    embs = embed_files(items, encoder, window_s=2.0, segment_s=2.0, cache_dir=cache, desc="cwru")
    classes = sorted({it.label for it in items})
    y = np.array([classes.index(it.label) for it in items])
    loads = np.array([it.meta["load_hp"] for it in items])
    accs = []
    for load in sorted(set(loads)):
        train = np.flatnonzero(loads != load)
        test = np.flatnonzero(loads == load)
        bank = np.concatenate([embs[i] for i in train])
        bank_y = np.concatenate([[y[i]] * embs[i].shape[0] for i in train])
        pred = [knn_logits(bank, bank_y, embs[i], n_classes=len(classes), k=5).sum(axis=0).argmax() for i in test]
        accs.append(macro_accuracy(y[test], np.array(pred)))
    return 100 * float(np.mean(accs))


def _uav(root: Path, encoder, cache):
    items = folder_manifest(root / "uav_propeller_cw")
    embs = embed_files(items, encoder, window_s=10.0, segment_s=10.0, cache_dir=cache, desc="uav")
    return items, embs


def uav_anomaly(items, embs) -> tuple[float, float]:
    normal = [i for i, it in enumerate(items) if it.label == "normal"]  # sorted by run number
    train, test = normal[:16], [i for i in range(len(items)) if i not in normal[:16]]
    bank = np.concatenate([embs[i] for i in train])
    scores = np.array([knn_mean_distance(embs[i], bank, 1).mean() for i in test])
    labels = np.array([int(items[i].label != "normal") for i in test])
    return 100 * roc_auc(labels, scores), 100 * partial_auc(labels, scores)


def uav_four_class(items, embs) -> float:
    labels = [it.label for it, e in zip(items, embs) for _ in range(e.shape[0])]
    groups = [it.group for it, e in zip(items, embs) for _ in range(e.shape[0])]
    classes = ["normal", "1_broken", "2_broken", "3_4_broken"]
    res = fault_diagnosis(np.concatenate(embs), labels, groups, test_size=0.5, runs=5, seed=111, k=5, classes=classes)
    return res.score


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=here.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=None, help="embedding cache folder")
    parser.add_argument("--encoders", default="logstft,random-tiny")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"data folder not found: {args.data}", file=sys.stderr)
        return 1
    names = args.encoders.split(",")
    columns = {}
    for name in names:
        t0 = time.perf_counter()
        enc = resolve_encoder(name)
        items, embs = _uav(args.data, enc, args.cache)
        auc, pauc = uav_anomaly(items, embs)
        columns[name] = {
            "cwru": cwru_leave_one_load_out(args.data, enc, args.cache),
            "auc": auc,
            "pauc": pauc,
            "four": uav_four_class(items, embs),
            "dim": embs[0].shape[1],
            "seconds": time.perf_counter() - t0,
        }
    label = {"logstft": "logstft", "random-tiny": "FISHER tiny (random)"}
    head = ["task", "metric", *[label.get(n, n) for n in names]]
    rows = [
        [
            "CWRU DE fault type, 3 classes, leave-one-load-out",
            "macro acc %",
            *[f"{columns[n]['cwru']:.2f}" for n in names],
        ],
        ["UAV propeller AD, 46 test flights", "AUC %", *[f"{columns[n]['auc']:.2f}" for n in names]],
        ["UAV propeller AD, 46 test flights", "pAUC(0.1) %", *[f"{columns[n]['pauc']:.2f}" for n in names]],
        ["UAV 4-class (0/1/2/3-4 broken), 5 sealed runs", "macro acc %", *[f"{columns[n]['four']:.2f}" for n in names]],
        ["embedding size at 16 kHz", "dim", *[str(columns[n]["dim"]) for n in names]],
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    fmt = lambda r: " | ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    print(fmt(head))
    print("-|-".join("-" * w for w in widths))
    for r in rows:
        print(fmt(r))
    print("FISHER weights are random (torch.manual_seed(0)), not pretrained; development data (see ../shared/data).")
    cache = "on (re-runs reuse embeddings)" if args.cache else "off"
    times = ", ".join(f"{label.get(n, n)} {columns[n]['seconds']:.0f} s" for n in names)
    print(f"wall time: {times}; embedding cache {cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

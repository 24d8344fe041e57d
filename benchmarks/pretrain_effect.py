"""Does pretraining help? Pretrain a small FISHER on the training part of ``../shared/data`` and compare k-NN quality
of the pretrained encoder with the same architecture at its random initialisation and with the ``logstft`` baseline.

Split (fixed, by recording — no recording is on both sides):

* UAV propeller flights (``uav_propeller_cw``): per class a seeded shuffle puts 10 normal and 5 of each broken class
  in the held-out part **B** (25 flights); the other 37 flights are part **A**.
* CWRU drive-end faults: loads 0-2 HP are **A**, load 3 HP is **B** (+ the healthy 48 kHz recording in **A**).
* DCASE 2020 machine ID 00: the 30 normal training clips are pretraining data only.

Pretraining uses the files of **A** only (all channels, multi-rate batches). Evaluation (``fisher.eval.rmis`` tools, RMIS
windowing: 10 s windows for UAV, 2 s for CWRU, zero-padded to 1024 frames):

* ``drone4 A→B``: 4-class (0 / 1 / 2 / 3-4 broken) k-NN (k = 5, cosine, similarity-weighted), reference = A windows,
  queries = B windows; macro accuracy over windows.
* ``drone4 RMIS``: the RMIS fault-diagnosis protocol on all 62 flights (sealed by flight, test 50 %, 10 runs); note
  that 37 of these flights were seen *unlabelled* during pretraining.
* ``CWRU3 load3``: fault type (IR / ball / OR) k-NN, reference = loads 0-2, queries = load 3; macro accuracy.
* ``drone AD AUC``: anomaly score = cosine distance to the nearest A-normal window, mean over a flight's windows;
  ROC AUC over the 25 B flights (10 normal, 15 anomalous).

Usage: ``python benchmarks/pretrain_effect.py --steps 400 --max-minutes 22 --out /tmp/fisher-pretrain-effect``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
UAV_TEST = {"normal": 10, "1_broken": 5, "2_broken": 5, "3_4_broken": 5}


def split(data: Path) -> dict:
    """Files of part A (pretraining) and the labelled evaluation items."""
    rng = np.random.default_rng(0)
    uav = []
    for cls, n_test in UAV_TEST.items():
        files = sorted((data / "uav_propeller_cw" / cls).glob("*.flac"))
        held = set(rng.permutation(len(files))[:n_test].tolist())
        uav += [{"path": f, "label": cls, "group": f.stem, "part": "B" if i in held else "A"}
                for i, f in enumerate(files)]
    from fisher.eval.datasets import cwru_manifest

    cwru = [{"path": it.path, "label": it.label, "group": it.group, "channel": it.channel,
             "part": "B" if it.meta["load_hp"] == 3 else "A"} for it in cwru_manifest(data / "cwru_12k_drive_end")]
    train = [str(u["path"]) for u in uav if u["part"] == "A"]
    train += sorted(str(p) for p in (data / "cwru_12k_drive_end").glob("*.npz") if not p.stem.endswith("_3"))
    train += sorted(str(p) for p in (data / "dcase2020_task2_dev_id00" / "train").glob("*.wav"))
    return {"uav": uav, "cwru": cwru, "train": train}


def pretrain(train_files: list[str], args: argparse.Namespace) -> tuple[Path, dict, float, int]:
    from fisher.pretrain import PretrainConfig, Trainer, export_encoder

    cfg = PretrainConfig.from_dict({
        "model": {"preset": "tiny", "overrides": {"depth": args.depth, "embed_dim": args.dim,
                                                   "num_heads": args.dim // 64}},
        "decoder": {"dim": args.dim, "layers": 3, "groups": 16},
        "masking": {"max_bands_per_sample": 8},
        "optim": {"lr": 5e-4, "warmup_steps": max(1, args.steps // 10)},
        "ema": {"decay": 0.99, "end_decay": 0.999},
        "data": {"sources": train_files, "batch_size": 4, "crop_frames": 1024},
        "train": {"steps": args.steps, "out_dir": str(args.out / "run"), "log_every": 25, "ckpt_every": 10**9,
                  "keep_last": 1, "threads": args.threads, "resume": None, "seed": 0},
    })
    trainer = Trainer(cfg)
    t0 = time.perf_counter()
    while trainer.step < args.steps and time.perf_counter() - t0 < 60 * args.max_minutes:
        trainer.fit(until=min(trainer.step + 25, args.steps))
        print(f"  step {trainer.step}: {json.loads((args.out / 'run' / 'log.jsonl').read_text().splitlines()[-1])}",
              flush=True)
    wall = time.perf_counter() - t0
    ckpt = trainer.save()
    export_encoder(ckpt, args.out / "student")
    export_encoder(ckpt, args.out / "teacher", which="teacher")
    return ckpt, cfg.to_dict(), wall, trainer.step


def embed_items(encoder, items: list[dict], seconds: float) -> tuple[np.ndarray, list[dict]]:
    from fisher.eval.datasets import read_signal
    from fisher.eval.rmis import rmis_windows, segments

    rows, meta = [], []
    for it in items:
        x, sr = read_signal(it["path"], channel=it.get("channel"))
        wins = rmis_windows(x, sr, seconds) if seconds >= 10 else segments(x, sr, seconds)
        emb = np.asarray(encoder.embed([np.asarray(w) for w in wins], sr), dtype=np.float64).reshape(len(wins), -1)
        rows.append(emb)
        meta += [it] * len(wins)
    return np.concatenate(rows), meta


def evaluate(encoder, data: dict) -> dict[str, float]:
    from fisher.eval.metrics import roc_auc
    from fisher.eval.rmis import fault_diagnosis, knn_classify, knn_mean_distance, macro_accuracy

    out = {}
    emb, meta = embed_items(encoder, data["uav"], 10.0)
    classes = list(UAV_TEST)
    y = np.array([classes.index(m["label"]) for m in meta])
    a = np.array([m["part"] == "A" for m in meta])
    pred = knn_classify(emb[a], y[a], emb[~a], n_classes=4, k=5)
    out["drone4 A->B"] = macro_accuracy(y[~a], pred)
    out["drone4 RMIS"] = fault_diagnosis(emb, [m["label"] for m in meta], [m["group"] for m in meta]).score / 100
    bank = emb[a & (y == 0)]
    scores = knn_mean_distance(emb[~a], bank, k=1)
    groups = [m["group"] for m, keep in zip(meta, ~a) if keep]
    flights = sorted(set(groups))
    flight_score = [np.mean([s for s, g in zip(scores, groups) if g == f]) for f in flights]
    is_anom = [next(m["label"] != "normal" for m in meta if m["group"] == f) for f in flights]
    out["drone AD AUC"] = roc_auc(np.array(is_anom, dtype=int), np.array(flight_score))
    emb, meta = embed_items(encoder, data["cwru"], 2.0)
    labels = sorted({m["label"] for m in meta})
    y = np.array([labels.index(m["label"]) for m in meta])
    a = np.array([m["part"] == "A" for m in meta])
    pred = knn_classify(emb[a], y[a], emb[~a], n_classes=len(labels), k=5)
    out["CWRU3 load3"] = macro_accuracy(y[~a], pred)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=Path("/tmp/fisher-pretrain-effect"))
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--max-minutes", type=float, default=22.0)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    data = split(args.data)
    print(f"pretraining files (part A): {len(data['train'])}", flush=True)
    ckpt, cfg, wall, steps = pretrain(data["train"], args)
    print(f"pretrained {steps} steps in {wall / 60:.1f} min; checkpoint {ckpt}", flush=True)

    from fisher import Fisher
    from fisher.eval.baseline import LogSTFT
    from fisher.eval.rmis import FisherEncoder

    torch.manual_seed(0)  # the trainer's initialisation (seed 0): the exact starting point of pretraining
    fc = Fisher.from_pretrained(args.out / "student").config
    random_init = Fisher(fc)
    encoders = {"logstft": LogSTFT(), "fisher random init": FisherEncoder.rmis(random_init),
                "fisher pretrained (student)": FisherEncoder.rmis(Fisher.from_pretrained(args.out / "student")),
                "fisher pretrained (teacher)": FisherEncoder.rmis(Fisher.from_pretrained(args.out / "teacher"))}
    results = {name: evaluate(enc, data) for name, enc in encoders.items()}
    cols = list(next(iter(results.values())))
    print(f"\nmodel: depth {fc.depth}, dim {fc.embed_dim}, heads {fc.num_heads}, band width {fc.band_width}; "
          f"{steps} steps, batch 4 signals, {wall / 60:.1f} min wall")
    print(f"{'encoder':30s}" + "".join(f"{c:>15s}" for c in cols))
    for name, res in results.items():
        print(f"{name:30s}" + "".join(f"{res[c]:15.3f}" for c in cols))
    from fisher.files import atomic_write_text

    text = json.dumps({"results": results, "steps": steps, "wall_s": wall, "config": cfg}, indent=2, default=str)
    atomic_write_text(args.out / "results.json", text)


if __name__ == "__main__":
    main()

"""Does pretraining help? k-NN quality of a pretrained FISHER vs the same architecture with its random initial
weights (the exact starting point of the run) vs the ``logstft`` baseline, on the real signals of ``../shared/data``.

Tasks (``fisher.eval.rmis`` tools; RMIS windowing: 10 s windows for the drone flights, 2 s segments for CWRU,
zero-padded to 1024 frames; cosine k-NN, k = 5):

* ``drone4 sealed``: 4-class UAV propeller state (0 / 1 / 2 / 3-4 broken), the RMIS fault-diagnosis protocol
  sealed by flight (a flight's windows are all in train or all in test; test 50 %, 10 runs; macro accuracy);
* ``CWRU LOLO``: CWRU drive-end fault type (inner race / ball / outer race), leave one load out (reference = the
  other three loads, queries = the left-out load, DE channel), macro accuracy averaged over the 4 loads;
* ``drone AD AUC``: flight-level anomaly detection; a flight's score = mean over its windows of the cosine distance
  to the nearest window of the *other* normal flights; ROC AUC normal vs broken flights.

Modes:

* default (``--model demo``): evaluate a finished model on all flights / loads. For ``demo`` every evaluated
  signal was seen *unlabelled* during pretraining (it pretrained on the whole corpus).
* ``--clean``: pretrain with the same recipe (``configs/pretrain/demo-cpu.yaml``, ``--steps``) on half of the
  drone flights (seeded, stratified by class; ``A``) plus the DCASE clips — no CWRU — and evaluate on the other
  half of the flights (``B``) and on CWRU, so no evaluated signal was seen even unlabelled.

Usage::

    python benchmarks/pretrain_effect.py --model demo --out /tmp/fisher-pretrain-effect
    python benchmarks/pretrain_effect.py --clean --steps 1200 --out /tmp/fisher-pretrain-clean
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
CLASSES = ["normal", "1_broken", "2_broken", "3_4_broken"]


def drone_flights(data: Path, seed: int = 0) -> list[dict]:
    """Every UAV flight with its label and its half (``A`` / ``B``: per class a seeded shuffle, first half A)."""
    rng = np.random.default_rng(seed)
    out = []
    for cls in CLASSES:
        files = sorted((data / "uav_propeller_cw" / cls).glob("*.flac"))
        half_a = set(rng.permutation(len(files))[: (len(files) + 1) // 2].tolist())
        out += [
            {"path": f, "label": cls, "group": f.stem, "part": "A" if i in half_a else "B"} for i, f in enumerate(files)
        ]
    return out


def cwru_items(data: Path) -> list[dict]:
    from fisher.eval.datasets import cwru_manifest

    return [
        {"path": it.path, "label": it.label, "group": it.group, "channel": it.channel, "load": it.meta["load_hp"]}
        for it in cwru_manifest(data / "cwru_12k_drive_end", channels=("DE",))
    ]


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


def drone_scores(emb: np.ndarray, meta: list[dict]) -> dict[str, float]:
    from fisher.eval.metrics import roc_auc
    from fisher.eval.rmis import fault_diagnosis, knn_mean_distance

    out = {
        "drone4 sealed": fault_diagnosis(
            emb, [m["label"] for m in meta], [m["group"] for m in meta], classes=CLASSES
        ).score
        / 100
    }
    groups = np.array([m["group"] for m in meta])
    normal = np.array([m["label"] == "normal" for m in meta])
    flights = sorted(set(groups.tolist()))
    score, anomalous = [], []
    for f in flights:
        own = groups == f
        d = knn_mean_distance(emb[own], emb[normal & ~own], k=1)
        score.append(float(np.mean(d)))
        anomalous.append(int(not normal[own][0]))
    out["drone AD AUC"] = roc_auc(np.array(anomalous), np.array(score))
    return out


def cwru_lolo(emb: np.ndarray, meta: list[dict]) -> float:
    from fisher.eval.rmis import knn_classify, macro_accuracy

    labels = sorted({m["label"] for m in meta})
    y = np.array([labels.index(m["label"]) for m in meta])
    load = np.array([m["load"] for m in meta])
    accs = []
    for held in sorted(set(load.tolist())):
        q = load == held
        pred = knn_classify(emb[~q], y[~q], emb[q], n_classes=len(labels), k=5)
        accs.append(macro_accuracy(y[q], pred))
    return float(np.mean(accs))


def evaluate(encoder, flights: list[dict], cwru: list[dict]) -> dict[str, float]:
    emb, meta = embed_items(encoder, flights, 10.0)
    out = drone_scores(emb, meta)
    emb, meta = embed_items(encoder, cwru, 2.0)
    out["CWRU LOLO"] = cwru_lolo(emb, meta)
    return out


def clean_pretrain(data: Path, flights: list[dict], args: argparse.Namespace) -> tuple[Path, float, int]:
    """Pretrain the demo recipe on drone half A + DCASE clips; returns (exported student dir, wall s, steps)."""
    from fisher.pretrain import PretrainConfig, Trainer, export_encoder

    cfg = PretrainConfig.load(REPO / "configs" / "pretrain" / "demo-cpu.yaml")
    cfg.data.sources = [str(f["path"]) for f in flights if f["part"] == "A"]
    cfg.data.sources += sorted(str(p) for p in (data / "dcase2020_task2_dev_id00").rglob("*.wav"))
    cfg.train.steps, cfg.train.out_dir, cfg.train.resume = args.steps, str(args.out / "run"), "auto"
    cfg = PretrainConfig.from_dict(cfg.to_dict())
    trainer = Trainer(cfg)
    t0 = time.perf_counter()
    while trainer.step < cfg.train.steps and time.perf_counter() - t0 < 60 * args.max_minutes:
        trainer.fit(until=min(trainer.step + 100, cfg.train.steps))  # checkpointed; stops at the time budget
    wall = time.perf_counter() - t0
    return export_encoder(trainer.last_checkpoint, args.out / "student"), wall, trainer.step


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("FISHER_SHARED", REPO.parent / "shared")) / "data"
    )
    parser.add_argument("--out", type=Path, default=Path("/tmp/fisher-pretrain-effect"))
    parser.add_argument("--model", default="demo", help="pretrained model to evaluate (name or directory)")
    parser.add_argument("--clean", action="store_true", help="pretrain on drone half A, evaluate on half B")
    parser.add_argument("--steps", type=int, default=1000, help="pretraining steps of --clean")
    parser.add_argument("--max-minutes", type=float, default=90.0, help="time budget of --clean pretraining")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    from fisher import Fisher
    from fisher.eval.baseline import LogSTFT
    from fisher.eval.rmis import FisherEncoder
    from fisher.pretrain import PretrainConfig
    from fisher.pretrain.init import initial_model

    flights, cwru = drone_flights(args.data), cwru_items(args.data)
    info: dict = {}
    if args.clean:
        model_dir, wall, steps = clean_pretrain(args.data, flights, args)
        flights = [f for f in flights if f["part"] == "B"]
        info = {"pretrain_wall_s": wall, "steps": steps, "evaluated_flights": len(flights)}
        print(f"clean variant: pretrained {steps} steps in {wall / 60:.1f} min on drone half A + DCASE", flush=True)
    else:
        model_dir = args.model
    model = Fisher.from_pretrained(model_dir)
    cfg = PretrainConfig.load(REPO / "configs" / "pretrain" / "demo-cpu.yaml")
    cfg.model.preset, cfg.model.overrides = None, {k: v for k, v in model.config.to_dict().items() if k != "extra"}
    random_init = initial_model(cfg).student
    encoders = {
        "logstft": LogSTFT(),
        "same arch, random init": FisherEncoder(random_init),
        f"pretrained ({model_dir if not args.clean else 'clean'})": FisherEncoder(model),
    }
    results = {}
    for name, enc in encoders.items():
        t0 = time.perf_counter()
        results[name] = evaluate(enc, flights, cwru)
        print(f"{name}: {results[name]} ({time.perf_counter() - t0:.0f} s)", flush=True)
    cols = list(next(iter(results.values())))
    print(f"\n| encoder | {' | '.join(cols)} |\n|---|{'---|' * len(cols)}")
    for name, res in results.items():
        print(f"| {name} | " + " | ".join(f"{res[c]:.3f}" for c in cols) + " |")
    from fisher.files import atomic_write_text

    text = json.dumps({"results": results, **info, "model": str(model_dir)}, indent=2, default=str)
    atomic_write_text(args.out / "results.json", text)


if __name__ == "__main__":
    main()

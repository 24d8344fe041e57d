"""Leave-one-source-out protocol for pretraining recipes: pretrain on seven sources of ``../shared/data``, probe on
the eighth (never seen, not even unlabelled), for each source in turn.

Each held-out source has one k-NN task sealed by recording (a recording's segments are all on one side):

=========================  ==========================================================  =====================
source                     task (classes)                                              protocol
=========================  ==========================================================  =====================
uav_propeller_cw           propeller state: normal / 1 / 2 / 3-4 broken                sealed 50/50, 10 runs
cwru_12k_drive_end         fault type: inner race / ball / outer race (DE channel)     leave one load out
cwru_48k_drive_end         fault type: inner race / ball / outer race (DE channel)     sealed 50/50, 10 runs
mfpt_bearing               outer race / inner race (48828 Hz)                          sealed 50/50, 10 runs
itsc_motor_current         healthy / short circuit in phase A / B / C (phase A signal) sealed 50/50, 10 runs
dcase2023_task2_dev_sample machine type (7 types)                                      sealed 50/50, 10 runs
ims_bearing_test1          accelerometer position (8 channels)                         sealed 50/50, 10 runs
dcase2020_task2_dev_id00   anomaly detection, 1 anomalous clip (AUC; a smoke test)     k-NN distance to normals
=========================  ==========================================================  =====================

Encoders: ``logstft`` (no weights), the same architecture with random weights (``Fisher(config)`` after
``torch.manual_seed(0)``, as an outside check builds it) and the pretrained student, each with the per-band
summaries of ``--summaries``; embeddings from ``embed`` with its defaults.

Usage::

    python benchmarks/pretrain_protocol.py --config configs/pretrain/demo-cpu.yaml --steps 400 --out /tmp/proto
    python benchmarks/pretrain_protocol.py --model demo --out /tmp/proto-demo   # probe a finished model only
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
SOURCES = (
    "uav_propeller_cw",
    "cwru_12k_drive_end",
    "cwru_48k_drive_end",
    "mfpt_bearing",
    "itsc_motor_current",
    "dcase2023_task2_dev_sample",
    "ims_bearing_test1",
    "dcase2020_task2_dev_id00",
)


@dataclass
class Task:
    """How to turn a source's manifest rows into labelled, grouped segments and score them."""

    label: Callable[[dict], str | None]  # manifest row -> class (None = skip the row)
    seconds: float  # segment length
    channels: Callable[[dict], list[str | None]]  # manifest row -> channels to read (one item per "recording")
    protocol: str = "sealed"  # "sealed" | "lolo" | "ad"
    max_segments: int = 12


def _first(row: dict) -> list[str | None]:
    return ["DE"] if row["channels"].startswith("DE") else ["A"] if row["channels"] == "A+B+C" else [None]


TASKS: dict[str, Task] = {
    "uav_propeller_cw": Task(lambda r: r["label"].split(":")[1], 10.0, _first),
    "cwru_12k_drive_end": Task(lambda r: None if r["label"] == "normal" else r["label"], 2.0, _first, protocol="lolo"),
    "cwru_48k_drive_end": Task(lambda r: r["label"], 1.0, _first),
    "mfpt_bearing": Task(lambda r: None if r["label"] == "real_world_fault" else r["label"], 1.0, _first),
    "itsc_motor_current": Task(
        lambda r: "healthy" if r["label"] == "healthy" else r["label"].split(":")[1], 1.0, _first
    ),
    "dcase2023_task2_dev_sample": Task(lambda r: r["label"].split(":")[1], 2.0, _first),
    "ims_bearing_test1": Task(lambda r: "x", 0.5, lambda r: [f"ch{i}" for i in range(1, 9)], max_segments=2),
    "dcase2020_task2_dev_id00": Task(lambda r: r["label"], 2.0, _first, protocol="ad"),
}


def manifest_rows(data: Path, source: str) -> list[dict]:
    with open(data / "MANIFEST.csv", newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["dataset"] == source]


def segments_of(data: Path, source: str) -> tuple[list[np.ndarray], list[int], list[dict]]:
    """Segments (float32), their sampling rates and metadata (label, group, load) of one source."""
    from fisher.eval.rmis import segments
    from fisher.signals.reader import read_signal

    task, waves, rates, meta = TASKS[source], [], [], []
    for row in manifest_rows(data, source):
        label = task.label(row)
        if label is None:
            continue
        for ch in task.channels(row):
            x, sr = read_signal(data / row["path"], channel=ch)
            by_channel = source == "ims_bearing_test1"  # the class is the channel: seal each channel's recording
            cls = ch if by_channel else label
            group = f"{row['recording_id']}:{ch}" if by_channel else row["recording_id"]
            for seg in segments(x, sr, task.seconds)[: task.max_segments]:
                waves.append(np.ascontiguousarray(seg, dtype=np.float32))
                rates.append(int(sr))
                meta.append({"label": cls, "group": group, "load": row["recording_id"][-1]})
    common = max(set(rates), key=rates.count)  # embeddings of different rates differ in size: one rate per task
    keep = [i for i, r in enumerate(rates) if r == common]
    if len(keep) < len(rates):
        print(f"  {source}: kept the {len(keep)} segments at {common} Hz, dropped {len(rates) - len(keep)}", flush=True)
    return [waves[i] for i in keep], [rates[i] for i in keep], [meta[i] for i in keep]


def embed_segments(encoder, waves: list[np.ndarray], rates: list[int]) -> np.ndarray:
    out: list[np.ndarray | None] = [None] * len(waves)
    for sr in sorted(set(rates)):
        idx = [i for i, r in enumerate(rates) if r == sr]
        by_len: dict[int, list[int]] = {}
        for i in idx:
            by_len.setdefault(waves[i].size, []).append(i)
        for ids in by_len.values():
            emb = np.asarray(encoder.embed([waves[i] for i in ids], sr), dtype=np.float64).reshape(len(ids), -1)
            for i, e in zip(ids, emb):
                out[i] = e
    return np.stack(out)


def score(source: str, emb: np.ndarray, meta: list[dict]) -> float:
    """The source's task score in [0, 1] (macro accuracy, or AUC for ``ad``)."""
    from fisher.eval.metrics import roc_auc
    from fisher.eval.rmis import fault_diagnosis, knn_classify, knn_mean_distance, macro_accuracy

    labels = [m["label"] for m in meta]
    groups = np.array([m["group"] for m in meta])
    proto = TASKS[source].protocol
    if proto == "sealed":
        return fault_diagnosis(emb, labels, groups.tolist()).score / 100.0
    if proto == "lolo":
        classes = sorted(set(labels))
        y = np.array([classes.index(v) for v in labels])
        load = np.array([m["load"] for m in meta])
        accs = []
        for held in sorted(set(load.tolist())):
            q = load == held
            pred = knn_classify(emb[~q], y[~q], emb[q], n_classes=len(classes), k=5)
            accs.append(macro_accuracy(y[q], pred))
        return float(np.mean(accs))
    normal = np.array([v == "normal" for v in labels])
    rec_score, rec_anom = [], []
    for g in sorted(set(groups.tolist())):
        own = groups == g
        rec_score.append(float(np.mean(knn_mean_distance(emb[own], emb[normal & ~own], k=1))))
        rec_anom.append(int(not normal[own][0]))
    return float(roc_auc(np.array(rec_anom), np.array(rec_score)))


def pretrain_without(source: str, config: Path, steps: int, out: Path, data: Path) -> Path:
    """Pretrain the recipe of ``config`` on every source but ``source``; returns the exported student folder."""
    from fisher.pretrain import PretrainConfig, Trainer, export_encoder

    student = out / f"without_{source}" / "student"
    if (student / "config.json").is_file():
        return student
    cfg = PretrainConfig.load(config)
    cfg.data.sources = [str(data / s) for s in SOURCES if s != source]
    cfg.train.steps, cfg.train.out_dir, cfg.train.resume = steps, str(out / f"without_{source}"), "auto"
    cfg.optim.warmup_steps = min(cfg.optim.warmup_steps, max(1, steps // 10))
    cfg = PretrainConfig.from_dict(cfg.to_dict())
    trainer = Trainer(cfg)
    t0 = time.perf_counter()
    trainer.fit()
    print(f"  pretrained without {source}: {steps} steps in {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
    return export_encoder(trainer.last_checkpoint, student)


def probe_source(source: str, model_dir: str | Path, summaries: list[str], data: Path) -> dict[str, float]:
    from fisher import Fisher
    from fisher.eval.baseline import LogSTFT
    from fisher.eval.encoders import FisherEncoder

    waves, rates, meta = segments_of(data, source)
    model = Fisher.from_pretrained(model_dir)
    torch.manual_seed(0)
    random = type(model)(model.config)
    row = {"logstft": score(source, embed_segments(LogSTFT(), waves, rates), meta)}
    for s in summaries:
        row[f"random {s}"] = score(source, embed_segments(FisherEncoder(random, summary=s), waves, rates), meta)
        row[f"pretrained {s}"] = score(source, embed_segments(FisherEncoder(model, summary=s), waves, rates), meta)
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("FISHER_SHARED", REPO.parent / "shared")) / "data"
    )
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "pretrain" / "demo-cpu.yaml")
    parser.add_argument("--model", help="probe this finished model on every source instead of pretraining")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--summaries", default="cls,mean,cls+mean")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/fisher-pretrain-protocol"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    summaries = args.summaries.split(",")
    results_file = args.out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    for source in args.sources.split(","):
        if source in results:
            continue
        model_dir = args.model or pretrain_without(source, args.config, args.steps, args.out, args.data)
        results[source] = probe_source(source, model_dir, summaries, args.data)
        print(source, {k: round(v, 3) for k, v in results[source].items()}, flush=True)
        from fisher.files import atomic_write_text

        atomic_write_text(results_file, json.dumps(results, indent=2))
    cols = list(next(iter(results.values())))
    print(f"\n| held-out source | {' | '.join(cols)} |\n|---|{'---|' * len(cols)}")
    for source, row in results.items():
        print(f"| {source} | " + " | ".join(f"{row[c]:.3f}" for c in cols) + " |")


if __name__ == "__main__":
    main()

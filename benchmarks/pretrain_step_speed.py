"""Pretraining speed per step, two checkouts side by side (interleaved rounds, same config, same data stream).

Each round runs one subprocess per checkout (``PYTHONPATH=<checkout>``): it builds the ``Trainer`` of ``--config``
(data from ``FISHER_SHARED``), takes ``--warmup`` steps, then times ``--steps`` steps one by one (data preparation
included, as ``fit`` runs them; no checkpoints, no logging). The report gives, per checkout, the median seconds per
step of every round and the best round, and the ratio new / old. Usage::

    git worktree add /tmp/old <commit>
    FISHER_SHARED=/path/to/shared python benchmarks/pretrain_step_speed.py --old /tmp/old --new . \\
        --config configs/pretrain/demo-cpu-v1.yaml --rounds 3 --steps 30 --threads 1

A config that only one checkout understands (new keys) fails in the other: compare on a config both read.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, time, tempfile
import torch
from fisher.pretrain import PretrainConfig, Trainer
from fisher.pretrain.loader import prepared_batches

config, warmup, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cfg = PretrainConfig.load(config).to_dict()
cfg["train"].update(out_dir=tempfile.mkdtemp(), steps=10_000, resume=None, threads=threads)
cfg["train"]["ckpt_every"] = 10_000
trainer = Trainer(PretrainConfig.from_dict(cfg))
torch.set_num_threads(threads)
batches = prepared_batches(trainer.stream, 0, warmup + steps, num_workers=0, prefetch=2)
times = []
for i in range(warmup + steps):
    t0 = time.perf_counter()
    trainer.train_step(batches)
    if i >= warmup:
        times.append(time.perf_counter() - t0)
print(json.dumps(times))
"""


def run(checkout: Path, config: Path, warmup: int, steps: int, threads: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(checkout), OMP_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(config), str(warmup), str(steps), str(threads)],
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode:
        raise RuntimeError(f"{checkout}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the reference version")
    parser.add_argument("--new", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    medians: dict[str, list[float]] = {"old": [], "new": []}
    for r in range(args.rounds):
        for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
            times = run(getattr(args, name).resolve(), args.config.resolve(), args.warmup, args.steps, args.threads)
            medians[name].append(statistics.median(times))
            print(f"round {r + 1} {name}: median {medians[name][-1] * 1000:.1f} ms/step", file=sys.stderr)
    best = {k: min(v) for k, v in medians.items()}
    result = {"rounds": medians, "best_s_per_step": best, "new_over_old": best["new"] / best["old"]}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"best median s/step: old {best['old']:.4f}, new {best['new']:.4f}; new/old = {result['new_over_old']:.3f}"
        )


if __name__ == "__main__":
    main()

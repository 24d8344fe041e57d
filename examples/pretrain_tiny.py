"""Pretrain a very small FISHER for a few steps, export it and embed a signal with the result.

Data: the ``*.wav`` / ``*.flac`` / ``*.npz`` files under ``--data`` (default: the drone and CWRU folders of
``../shared/data`` when present, else a few synthetic machine signals written to a temporary folder). The run is a
smoke test of the recipe (about a minute on 2 CPU cores), not a useful model: see ``docs/pretraining.md``.

Run: ``python examples/pretrain_tiny.py [--data DIR ...] [--steps 20] [--out runs/pretrain-tiny]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

import fisher
from fisher.pretrain import PretrainConfig, Trainer, export_encoder


def default_sources(tmp: Path) -> list[str]:
    root = Path(os.environ.get("FISHER_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data"
    if (root / "uav_propeller_cw").is_dir():
        return [str(root / "uav_propeller_cw"), str(root / "cwru_12k_drive_end")]
    from fisher.signals.synth import shaft_signal

    for i in range(6):  # 3 normal + 3 faulty 12 s machine signals at 16 kHz
        wave = shaft_signal(16000, 12.0, fault=i % 2 == 1, shaft_hz=20.0 + 3 * i, seed=i)
        sf.write(tmp / f"machine_{i}.wav", wave, 16000, subtype="PCM_16")
    print(f"shared data not found: using synthetic signals in {tmp}")
    return [str(tmp)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="*", help="files, folders, globs or CSV manifests")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path("runs/pretrain-tiny"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        sources = args.data or default_sources(Path(tmp))
        config = PretrainConfig.from_dict(
            {
                "model": {"preset": "tiny", "overrides": {"depth": 2, "embed_dim": 64, "num_heads": 1}},
                "decoder": {"dim": 64, "layers": 2, "groups": 8},
                "masking": {"max_bands_per_sample": 4},
                "optim": {"lr": 1e-3, "warmup_steps": 5},
                "ema": {"decay": 0.99, "end_decay": 0.999, "anneal_steps": None},
                "data": {"sources": sources, "batch_size": 4, "crop_frames": 256},
                "train": {"steps": args.steps, "out_dir": str(args.out), "log_every": 5, "resume": None},
            }
        )
        trainer = Trainer(config)
        history = trainer.fit()  # ends with a checkpoint
        checkpoint = trainer.last_checkpoint
    print(f"loss: first step {history[0]['loss']:.3f} -> last step {history[-1]['loss']:.3f}")
    export_encoder(checkpoint, args.out / "encoder")
    model = fisher.Fisher.from_pretrained(args.out / "encoder")
    wave = np.random.default_rng(0).standard_normal(16000 * 3).astype(np.float32) * 0.1
    emb = model.embed(wave, sr=16000)
    print(f"exported to {args.out / 'encoder'}; embedding of a 3 s, 16 kHz clip: {emb.shape}")


if __name__ == "__main__":
    main()

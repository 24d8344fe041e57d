"""``fisher demo``: the offline main job — embed synthetic machine signals at several sampling rates.

It synthesises a rotating shaft with and without bearing-fault impulses (:func:`fisher.synth.shaft_signal`) at
8, 16 and 48 kHz, embeds every clip with FISHER and prints (1) sampling rate → bands → embedding size and
(2) a normal-vs-faulty cosine-similarity table. Official weights are used when cached or downloadable; otherwise
the demo says so plainly and uses random weights.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

DEFAULT_RATES = (8000, 16000, 48000)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="embed synthetic machine signals at several sampling rates (runs offline)")
    p.add_argument("--model", default="tiny", help="pretrained name, hub id, directory or .pt file (default: tiny)")
    p.add_argument("--rates", default=",".join(str(r) for r in DEFAULT_RATES),
                   help="comma-separated sampling rates in Hz (default: 8000,16000,48000)")
    p.add_argument("--clips", type=int, default=4, help="clips per condition and rate (default: 4)")
    p.add_argument("--seconds", type=float, default=2.0, help="clip duration in seconds (default: 2)")
    p.add_argument("--offline", action="store_true", help="never try the network (also implied by HF_HUB_OFFLINE=1)")
    p.add_argument("--random-init", action="store_true", help="skip loading weights; use a random tiny model")
    p.set_defaults(func=run)


def load_model(name: str, offline: bool, random_init: bool):
    """Return ``(model, description)``: pretrained when available, else a clearly labelled random model."""
    import torch

    from fisher.config import PRESETS, FisherConfig
    from fisher.model import Fisher

    reason = "--random-init requested"
    if not random_init:
        try:
            return Fisher.from_pretrained(name, local_files_only=True), f"pretrained weights '{name}' (local)"
        except FileNotFoundError as err:
            reason = str(err).split(". ")[0]
        if not offline:
            try:
                return Fisher.from_pretrained(name), f"pretrained weights '{name}' (downloaded)"
            except (FileNotFoundError, OSError) as err:
                reason = f"{str(err).split('. ')[0]}"
    torch.manual_seed(0)
    scale = name if name in PRESETS else "tiny"
    model = Fisher(FisherConfig.preset(scale))
    return model, f"RANDOM weights (FISHER-{scale} architecture, seed 0) because: {reason}"


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return a @ b.T


def run(args: argparse.Namespace) -> int:
    from fisher.synth import shaft_signal

    try:
        rates = [float(r) for r in args.rates.split(",") if r.strip()]
    except ValueError:
        raise ValueError(f"--rates must be comma-separated numbers, got {args.rates!r}") from None
    if args.clips < 2:
        raise ValueError("--clips must be at least 2 (similarities are computed between different clips)")
    offline = args.offline or os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")
    model, how = load_model(args.model, offline, args.random_init)
    print(f"FISHER demo — model: {how}")
    if how.startswith("RANDOM"):
        print("  (random weights: the numbers below show the pipeline, not FISHER's pretrained quality)")
    print()
    print(f"{'sr (Hz)':>8} {'n_fft/hop':>10} {'bands':>5} {'emb dim':>8} {'mean-pool dim':>13}")
    results = []
    for sr in rates:
        normal = [shaft_signal(sr, args.seconds, seed=s) for s in range(args.clips)]
        faulty = [shaft_signal(sr, args.seconds, fault=True, seed=100 + s) for s in range(args.clips)]
        emb = model.embed(normal + faulty, sr)
        from fisher.spectrogram import frame_params

        n_fft, hop = frame_params(sr)
        print(f"{sr:>8g} {f'{n_fft}/{hop}':>10} {model.num_bands(sr):>5} {emb.shape[1]:>8} {model.embed_dim:>13}")
        results.append((sr, emb[: args.clips], emb[args.clips :]))

    print()
    print("cosine similarity of embeddings (mean over clip pairs; higher = more alike)")
    print(f"{'sr (Hz)':>8} {'normal~normal':>14} {'faulty~faulty':>14} {'normal~faulty':>14}")
    off_diag = ~np.eye(args.clips, dtype=bool)
    for sr, nrm, flt in results:
        nn_ = _cosine(nrm, nrm)[off_diag].mean()
        ff = _cosine(flt, flt)[off_diag].mean()
        nf = _cosine(nrm, flt).mean()
        print(f"{sr:>8g} {nn_:>14.4f} {ff:>14.4f} {nf:>14.4f}")
    print()
    print("Pairwise similarity is only a sanity check; for detection use a memory bank + k-NN "
          "(see docs: 'Evaluating an encoder').")
    return 0

"""``fisher demo``: the offline main job — embed synthetic machine signals at several sampling rates.

It synthesises a rotating shaft with and without bearing-fault impulses (:func:`fisher.signals.synth.shaft_signal`) at
8, 16 and 48 kHz, embeds every clip with FISHER and prints (1) sampling rate → bands → embedding size and
(2) a normal-vs-faulty cosine-similarity table. Official weights are used when cached or downloadable; otherwise
the demo says so plainly and uses random weights. Finally (3) a k-NN anomaly-score table — memory bank of normal
training clips, AUC / pAUC on held-out normal and faulty clips — for FISHER and the weight-free ``logstft``
baseline, with a ROC plot written as PNG when matplotlib is installed (the ``[plot]`` extra).
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
    p.add_argument("--roc", default="fisher-demo-roc.png",
                   help="write the ROC plot of the k-NN table here (default: fisher-demo-roc.png; '' to skip)")
    p.set_defaults(func=run)


def load_model(name: str, offline: bool, random_init: bool):
    """Return ``(model, description)``: pretrained when available, else a clearly labelled random model."""
    import torch

    from fisher.model.config import PRESETS, FisherConfig
    from fisher.model.network import Fisher

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
    from fisher.eval.baseline import LogSTFT
    from fisher.eval.rmis import demo_table
    from fisher.model.bands import frame_params
    from fisher.signals.synth import shaft_signal

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
    knn_embeddings: dict[str, list] = {"FISHER": [], "logstft": []}
    labels: list[int] = []
    split: list[str] = []
    baseline = LogSTFT()
    for sr in rates:
        normal = [shaft_signal(sr, args.seconds, seed=s) for s in range(args.clips)]
        faulty = [shaft_signal(sr, args.seconds, fault=True, seed=100 + s) for s in range(args.clips)]
        held_out = [shaft_signal(sr, args.seconds, seed=50 + s) for s in range(args.clips)]
        emb = model.embed(normal + faulty + held_out, sr)
        n_fft, hop = frame_params(sr)
        print(f"{sr:>8g} {f'{n_fft}/{hop}':>10} {model.num_bands(sr):>5} {emb.shape[1]:>8} {model.embed_dim:>13}")
        results.append((sr, emb[: args.clips], emb[args.clips : 2 * args.clips]))
        if sr == rates[-1]:  # k-NN table at the highest rate: bank = normal clips, test = held-out + faulty
            knn_embeddings["FISHER"] = list(emb)
            knn_embeddings["logstft"] = list(baseline.embed(normal + faulty + held_out, sr))
            labels = [0] * args.clips + [1] * args.clips + [0] * args.clips
            split = ["train"] * args.clips + ["test"] * (2 * args.clips)

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
    print("Pairwise similarity is only a sanity check; detection uses a memory bank + k-NN:")
    table = demo_table({k: np.stack(v) for k, v in knn_embeddings.items()}, labels, split,
                       roc_png=args.roc or None, title=f"k-NN anomaly scores @ {rates[-1]:g} Hz")
    print(f"bank = {args.clips} normal clips, test = {args.clips} held-out normal + {args.clips} faulty clips "
          f"at {rates[-1]:g} Hz")
    print(table.text)
    for note in table.notes:
        print(note)
    if table.png is not None:
        print(f"ROC plot written to {table.png}")
    return 0

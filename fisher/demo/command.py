"""The ``fisher demo`` command: the offline main job — detect bearing faults with FISHER and a weight-free baseline.

(1) For each sampling rate (default 8, 16, 48 kHz): how FISHER's tokenizer splits the spectrum into fixed-width
sub-bands and the resulting embedding size. (2) A detection task — by default a calibrated synthetic one
(:func:`fisher.demo.task.synthetic_task`: bearing faults 9 dB below the background under changing speed, load and
gain), or the user's own files with ``--data DIR`` — scored by k-NN against a memory bank of normal clips, AUC /
pAUC per encoder (FISHER and ``logstft``). (3) A figure (``[plot]`` extra): band boundaries at each rate, ROC curves,
score distributions, in the format of the file suffix. ``--json`` prints everything as one JSON object. Weights: see
:mod:`fisher.demo.weights`. Every size-like option is bounded (:mod:`fisher.clikit.limits`) and the figure path is checked
before any work (:mod:`fisher.clikit.outputs`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from fisher.clikit.limits import (
    MAX_CLIPS,
    MAX_SECONDS,
    MAX_SEED,
    MAX_SNR_DB,
    MIN_CLIPS,
    MIN_SECONDS,
    bounded_float,
    bounded_int,
    channel_arg,
    fraction,
    rates_arg,
)

if TYPE_CHECKING:
    from pathlib import Path

    from fisher.demo.task import LabelledClips
    from fisher.demo.weights import DemoWeights
    from fisher.eval.baseline import LogSTFT
    from fisher.eval.rmis import AucTable
    from fisher.model.network import Fisher

DEFAULT_RATES = (8000, 16000, 48000)
DEFAULT_FIGURE = "fisher-demo.png"
BATCH = 8  # clips embedded per step (bounds memory for --data)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="detect synthetic (or your own) machine faults with FISHER, offline",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument(
        "--model",
        default="tiny",
        help="registry name (tiny/mini/small: official weights if cached, else the shipped 'demo' model, "
        "else random), 'demo', a directory, .pt file or hub id (default: tiny)",
    )
    p.add_argument(
        "--rates",
        type=rates_arg,
        default=",".join(str(r) for r in DEFAULT_RATES),
        help="comma-separated sampling rates in Hz, 1000..384000, at most 8; detection runs at the highest "
        "(default: 8000,16000,48000)",
    )
    p.add_argument(
        "--clips",
        type=bounded_int(MIN_CLIPS, MAX_CLIPS),
        default=20,
        help=f"synthetic clips per group: bank normal, test normal, test faulty, {MIN_CLIPS}..{MAX_CLIPS} "
        "(default: 20)",
    )
    p.add_argument(
        "--seconds",
        type=bounded_float(MIN_SECONDS, MAX_SECONDS, "s"),
        default=2.0,
        help=f"synthetic clip duration in seconds, {MIN_SECONDS:g}..{MAX_SECONDS:g} (default: 2)",
    )
    p.add_argument(
        "--snr-db",
        type=bounded_float(-MAX_SNR_DB, MAX_SNR_DB, "dB"),
        default=None,
        help="fault-to-background ratio of the synthetic task in dB, -60..60 (default: -9, the calibrated task)",
    )
    p.add_argument(
        "--seed", type=bounded_int(0, MAX_SEED), default=0, help="seed of the synthetic task / of the --data bank split"
    )
    p.add_argument(
        "--data",
        default=None,
        metavar="DIR",
        help="your own signals: a folder with normal/ and anomaly subfolders, or a manifest .csv "
        "(at the files' own sampling rate; --rates, --clips, --seconds are not used)",
    )
    p.add_argument(
        "--bank-fraction",
        type=fraction,
        default=0.5,
        help="with --data: share of the normal files used as the memory bank, strictly between 0 and 1 (default: 0.5)",
    )
    p.add_argument(
        "--channel",
        type=channel_arg,
        default=None,
        help="with --data: channel index (0..1023), 'mean', or npz/mat array name for multi-channel files",
    )
    p.add_argument("--random-init", action="store_true", help="skip loading weights; use a random tiny model")
    p.add_argument("--download", action="store_true", help="download the official weights if not cached (network)")
    p.add_argument("--offline", action="store_true", help="never use the network (the default; kept for scripts)")
    p.add_argument(
        "--figure",
        default=DEFAULT_FIGURE,
        help=f"write the figure here; the suffix picks the format: .png, .jpg/.jpeg, .pdf or .svg "
        f"(default: {DEFAULT_FIGURE}; '' to skip)",
    )
    p.add_argument("--roc", dest="figure", default=argparse.SUPPRESS, help=argparse.SUPPRESS)  # old name
    p.add_argument("--json", action="store_true", help="print the results as one JSON object (nothing else)")
    p.set_defaults(func=run)


def load_model(name: str, offline: bool = True, random_init: bool = False) -> tuple[Any, str]:
    """``(model, description)`` — the demo's weight choice (:func:`fisher.demo.weights.load_demo_model`)."""
    from fisher.demo.weights import load_demo_model

    chosen = load_demo_model(name, random_init=random_init, download=not offline)
    return chosen.model, chosen.description


def _check_args(args: argparse.Namespace) -> None:
    """Cross-option checks and the output path, all before any model is loaded or clip is made."""
    from fisher.clikit.limits import check_clip_samples
    from fisher.clikit.outputs import check_output_file
    from fisher.demo.figure import figure_format

    if args.data is not None and args.snr_db is not None:
        raise ValueError("--snr-db sets the synthetic task; it cannot be combined with --data")
    if args.data is None:
        check_clip_samples(max(args.rates), args.seconds)
    if args.figure:
        try:
            figure_format(args.figure)
        except ValueError as err:
            raise ValueError(f"--figure: {err}") from None
        check_output_file(args.figure, "--figure")


def _embed_all(task: LabelledClips, model: Fisher, baseline: LogSTFT, quiet: bool) -> dict[str, np.ndarray]:
    """Embed every clip of ``task`` with FISHER and ``logstft``; a progress bar on a terminal."""
    from tqdm.auto import tqdm

    out: dict[str, list[np.ndarray]] = {"FISHER": [], "logstft": []}
    with tqdm(total=len(task), desc="embedding", unit="clip", disable=True if quiet else None, file=sys.stderr) as bar:
        for start in range(0, len(task), BATCH):
            stop = min(start + BATCH, len(task))
            waves = [task.load(i) for i in range(start, stop)]
            try:
                out["FISHER"].append(model.embed(waves, task.sr))
                out["logstft"].append(baseline.embed(waves, task.sr))
            except ValueError as err:  # name the files (e.g. a clip shorter than 16 STFT frames)
                raise ValueError(f"{', '.join(task.names[start:stop])}: {err}") from err
            bar.update(stop - start)
    return {k: np.concatenate(v) for k, v in out.items()}


def _task(args: argparse.Namespace) -> tuple[LabelledClips, list[tuple[float, np.ndarray]], str, str]:
    """``(task, spectra, clip label, anomaly word)``: the user's files (``--data``) or the synthetic task."""
    if args.data is not None:
        from fisher.demo.data import folder_task

        task = folder_task(args.data, bank_fraction=args.bank_fraction, seed=args.seed, channel=args.channel)
        first = task.load(int(np.flatnonzero(task.labels == 0)[0]))
        return task, [(task.sr, first)], "a normal clip", "anomalous"
    from fisher.demo.task import DEFAULT_SNR_DB, synthetic_task
    from fisher.signals.synth import bearing_signal

    snr = DEFAULT_SNR_DB if args.snr_db is None else args.snr_db
    task = synthetic_task(max(args.rates), clips=args.clips, seconds=args.seconds, snr_db=snr, seed=args.seed)
    fault_seed = args.seed * 10_000 + 2000  # the first faulty test clip, generated at every rate
    spectra = [(sr, bearing_signal(sr, args.seconds, fault=True, snr_db=snr, seed=fault_seed)) for sr in args.rates]
    return task, spectra, "a faulty clip", "faulty"


def _rate_rows(model: Fisher, spectra: list[tuple[float, np.ndarray]], say: Any) -> list[dict[str, Any]]:
    """What the tokenizer does at each rate: STFT sizes, bands and embedding sizes (printed and returned)."""
    from fisher.recipe.framing import frame_params

    say("what the tokenizer does: spectrum → fixed-width sub-bands → one ViT pass per band → concatenated")
    say(f"{'sr (Hz)':>8} {'n_fft/hop':>10} {'bands':>5} {'emb dim':>8} {'mean-pool dim':>13}")
    rows = []
    for sr, wave in spectra:
        emb = model.embed(wave[: int(min(len(wave), 10 * sr))], sr)
        n_fft, hop = frame_params(sr)
        bands = model.num_bands(sr)
        rows.append(
            {
                "sr": sr,
                "n_fft": n_fft,
                "hop": hop,
                "bands": bands,
                "dim": int(emb.shape[-1]),
                "mean_pool_dim": model.embedding_dim(sr, "mean"),
            }
        )
        mean_dim = model.embedding_dim(sr, "mean")
        say(f"{sr:>8g} {f'{n_fft}/{hop}':>10} {bands:>5} {emb.shape[-1]:>8} {mean_dim:>13}")
    say()
    return rows


def _figure(
    args: argparse.Namespace,
    chosen: DemoWeights,
    task: LabelledClips,
    table: AucTable,
    shown: tuple,
    caveat: str | None,
) -> tuple[Path | None, str | None]:
    """Write the figure: ``(path or None, note)``; a missing matplotlib or a failed write becomes the note."""
    from fisher.demo.figure import demo_figure

    spectra, clip_label = shown
    test = np.array([s == "test" for s in task.split])
    try:
        path = demo_figure(
            args.figure,
            spectra=spectra,
            band_width=chosen.model.band_width,
            scores=table.scores,
            labels=task.labels[test],
            classes=[c for c, t in zip(task.classes, test) if t],
            clip_label=clip_label,
            title=f"fisher demo — model {chosen.name or args.model}, {chosen.weights} weights",
            caveat=caveat,
        )
    except ImportError as err:
        return None, f"figure skipped: {err}"
    except OSError as err:
        return None, f"figure not written: {args.figure}: {err.strerror or err}"
    return path, None


def run(args: argparse.Namespace) -> int:
    from fisher.demo.task import auc_caveat
    from fisher.demo.weights import load_demo_model
    from fisher.eval.baseline import LogSTFT
    from fisher.eval.rmis import auc_table

    _check_args(args)
    say = (lambda *a, **k: None) if args.json else print
    chosen = load_demo_model(args.model, random_init=args.random_init, download=args.download and not args.offline)
    say(f"FISHER demo — model: {chosen.description}")
    if chosen.weights == "random":
        say("  (random weights: the numbers below show the pipeline, not FISHER's pretrained quality)")
    task, spectra, clip_label, what = _task(args)
    counts = task.counts
    say(f"task: {task.task['description']}")
    say(
        f"      bank {counts['bank']} normal clips; scored {counts['test_normal']} normal + {counts['test_anomaly']} "
        f"{what} clips @ {task.sr:g} Hz" + ("" if args.data else f", {args.seconds:g} s each, seed {args.seed}")
    )
    say()
    rate_rows = _rate_rows(chosen.model, spectra, say)
    embeddings = _embed_all(task, chosen.model, LogSTFT(), quiet=args.json)
    table = auc_table(embeddings, task.labels, task.split, title=f"k-NN anomaly scores @ {task.sr:g} Hz")
    say(table.text)
    caveat = auc_caveat(counts)
    warnings = [caveat] if caveat else []
    figure, note = _figure(args, chosen, task, table, (spectra, clip_label), caveat) if args.figure else (None, None)
    for line in [*table.notes, *([note] if note else [])]:
        print(line, file=sys.stderr if args.json else sys.stdout)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if figure is not None:
        say(f"figure written to {figure}")
    if args.json:
        result = {
            "model": chosen.name or args.model,
            "requested_model": args.model,
            "weights": chosen.weights,
            "weights_description": chosen.description,
            "task": task.task,
            "rates": rate_rows,
            "encoders": {r["encoder"]: {"auc": r["auc"], "pauc": r["pauc"], "dim": r["dim"]} for r in table.rows},
            "warnings": warnings,
            "figure": None if figure is None else str(figure),
        }
        print(json.dumps(result, indent=2))
    return 1 if note and note.startswith("figure not written") else 0

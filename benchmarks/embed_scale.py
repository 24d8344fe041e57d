"""How embedding cost grows: wall time and peak memory vs clip length (1 s … 1 h) and vs sampling rate (8 … 192 kHz).

Usage: ``python benchmarks/embed_scale.py [--scale tiny] [--threads 2] [--batch-size 8]
[--lengths 1,3,10,30,60,300,600,1800,3600] [--rates 8000,16000,...,192000] [--rate-seconds 10]
[--in-memory-max 3600] [--stream-min 60] [--quick] [--out scale.json] [--plot docs/img/embed-scale.png]``

Model: FISHER ``--scale`` (random weights, depth 12), fp32, ``--threads`` torch threads. Every point runs in a fresh
subprocess of this script (``--child``), so peaks do not mix: the child loads the model, embeds a 0.5 s warm-up clip
at the point's rate, resets the peak-RSS counter (``/proc/self/clear_refs``) and takes its RSS as the base, then
times one call. "peak extra MB" is VmHWM minus that base.

* **Length sweep** at 16 kHz (``--lengths``, seconds). ``in-memory``: a float32 array built in the child (its
  4 bytes/sample count in the peak) and ``model.embed(wave, sr)``, for lengths ≤ ``--in-memory-max``. ``streamed``:
  a 16-bit mono FLAC written block by block by the parent (not timed) and ``model.embed_file(path)``, for lengths ≥
  ``--stream-min``. The signal is synthetic and machine-like (50 Hz hum, 3150 Hz tone, white noise).
* **Rate sweep**: a ``--rate-seconds`` clip in memory at each of ``--rates`` (Hz); bands = ``model.num_bands(sr)``.

Expected shapes, checked in the printed summary and stored in the JSON: time linear in length once the clip spans a
whole 1024-frame window (least-squares line over lengths ≥ 10.24 s: R², s per hour); time proportional to the
number of bands at a fixed length (line over bands: R², s per band); streamed peak memory flat in length (bounded by
one batch of ``--batch-size`` windows; max/min over files of ≥ one full batch), in-memory peak growing linearly.
The machine's load average is recorded at the start, the end and for every point (the benchmark box is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LENGTHS = "1,3,10,30,60,300,600,1800,3600"
RATES = "8000,16000,22050,32000,44100,48000,64000,96000,192000"
QUICK_LENGTHS = "1,10,30,60,300"
QUICK_RATES = "8000,16000,48000,96000"
WINDOW_S = 10.24  # 1024 frames of 10 ms


def signal_block(start: int, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Samples ``start … start + n`` of the synthetic machine-like signal, float32 in [-1, 1)."""
    t = (start + np.arange(n)) / sr
    x = 0.3 * np.sin(2 * np.pi * 50 * t) + 0.1 * np.sin(2 * np.pi * 3150 * t) + 0.05 * rng.standard_normal(n)
    return np.clip(x, -1, 1 - 2**-15).astype(np.float32)


def make_wave(seconds: float, sr: int) -> np.ndarray:
    """The signal as one float32 array, built 10 s at a time (no full-length float64 temporaries)."""
    rng = np.random.default_rng(0)
    n, block = int(seconds * sr), 10 * sr
    wave = np.empty(n, dtype=np.float32)
    for start in range(0, n, block):
        wave[start : start + block] = signal_block(start, min(block, n - start), sr, rng)
    return wave


def write_flac(path: Path, seconds: float, sr: int) -> None:
    """The signal as a 16-bit mono FLAC, written 60 s at a time."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    n, block = int(seconds * sr), 60 * sr
    with sf.SoundFile(str(path), "w", sr, 1, subtype="PCM_16", format="FLAC") as f:
        for start in range(0, n, block):
            f.write((signal_block(start, min(block, n - start), sr, rng) * 32768).astype(np.int16))


# ---------------------------------------------------------------------------------------------------- child process
def _status_mb(key: str) -> float:
    with open("/proc/self/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith(key))) / 1024


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _cpu_busy(interval: float = 0.25) -> float:
    """Fraction of the machine's CPU time used (by other processes: this one sleeps) over ``interval`` s."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait

    (t0, i0), _, (t1, i1) = sample(), time.sleep(interval), sample()
    return 1 - (i1 - i0) / max(t1 - t0, 1)


def _wait_quiet(budget: list[float], threshold: float = 0.2) -> float:
    """Sleep until other processes use < ``threshold`` of the CPUs, spending at most ``budget[0]`` s (decremented)."""
    t0 = time.perf_counter()
    busy = _cpu_busy()
    while busy >= threshold and budget[0] - (time.perf_counter() - t0) > 0:
        time.sleep(0.5)
        busy = _cpu_busy()
    budget[0] -= time.perf_counter() - t0
    return busy


def child(spec: dict) -> dict:
    """One measurement (runs in its own process): ``spec`` = mode, seconds, sr, scale, threads, batch_size[, path]."""
    import torch

    from fisher import Fisher, FisherConfig
    from fisher.model.backend import TorchBackend
    from fisher.recipe.plan import EmbeddingRecipe

    calls: list[tuple[float, int]] = []  # (seconds, windows) of every forward pass
    encode = TorchBackend.encode

    def timed_encode(self: TorchBackend, specs: list) -> np.ndarray:
        t0 = time.perf_counter()
        out = encode(self, specs)
        calls.append((time.perf_counter() - t0, len(specs)))
        return out

    TorchBackend.encode = timed_encode  # instruments the forward passes; the code path is unchanged
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    model = Fisher(FisherConfig.preset(spec["scale"])).eval()
    sr, bs = spec["sr"], spec["batch_size"]
    model.embed(make_wave(0.5, sr), sr, batch_size=bs)  # warm-up: lazy initialisation of the kernels
    reset = _reset_peak()
    base = _status_mb("VmRSS")
    if spec["mode"] == "streamed":

        def call() -> tuple[int, int]:
            res = model.embed_file(spec["path"], batch_size=bs)
            return len(res.windows), res.windows.shape[1]
    else:
        wave = make_wave(spec["seconds"], sr)  # not timed; its memory counts in the peak

        def call() -> tuple[int, int]:
            vec = model.embed(wave, sr, batch_size=bs)
            return len(EmbeddingRecipe.build(model.config, sr, batch_size=bs).windows(len(wave))), vec.shape[-1]

    times: list[float] = []
    steady: list[float] = []
    busy: list[float] = []
    wait = [spec["quiet_wait_s"]]
    while not times or (len(times) < spec["repeats"] and sum(times) < spec["repeat_budget_s"]):
        busy.append(_wait_quiet(wait))
        calls.clear()
        t0 = time.perf_counter()
        windows, dim = call()
        times.append(time.perf_counter() - t0)
        # forward passes at their median per-window time (damps bursts of other jobs on the shared machine)
        per_window = float(np.median([c[0] / c[1] for c in calls]))
        steady.append(times[-1] - sum(c[0] for c in calls) + per_window * sum(c[1] for c in calls))
    return {
        "seconds_wall": min(times),
        "seconds_median": float(np.median(times)),
        "seconds_steady": min(steady),
        "runs": len(times),
        "busy_before": busy,
        "windows": windows,
        "dim": int(dim),
        "bands": model.num_bands(sr),
        "base_mb": base,
        "peak_mb": _status_mb("VmHWM"),
        "peak_reset": reset,
        "loadavg": os.getloadavg()[0],
    }


# ---------------------------------------------------------------------------------------------------- parent process
def run_point(spec: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise RuntimeError(f"child failed for {spec}:\n{out.stderr[-3000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r.update({k: spec[k] for k in ("mode", "seconds", "sr")})
    r["extra_mb"] = r["peak_mb"] - r["base_mb"]
    r["s_per_signal_s"] = r["seconds_steady"] / spec["seconds"]
    return r


def length_sweep(args: argparse.Namespace, common: dict) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sec in args.lengths:
            if sec <= args.in_memory_max:
                rows.append(run_point({**common, "mode": "in-memory", "seconds": sec, "sr": args.sr}))
                print(format_row(rows[-1]), flush=True)
            if sec >= args.stream_min:
                path = Path(tmp) / f"{sec:g}s.flac"
                write_flac(path, sec, args.sr)
                spec = {**common, "mode": "streamed", "seconds": sec, "sr": args.sr, "path": str(path)}
                rows.append(run_point(spec))
                rows[-1]["file_mb"] = path.stat().st_size / 2**20
                path.unlink()
                print(format_row(rows[-1]), flush=True)
    return rows


def rate_sweep(args: argparse.Namespace, common: dict) -> list[dict]:
    rows = []
    for sr in args.rates:
        rows.append(run_point({**common, "mode": "in-memory", "seconds": args.rate_seconds, "sr": sr}))
        print(format_row(rows[-1]), flush=True)
    return rows


def line_fit(x: list[float], y: list[float]) -> dict:
    """Least-squares ``y = a + b·x`` with R² (``None`` below 2 distinct points)."""
    x_, y_ = np.asarray(x, float), np.asarray(y, float)
    if len(set(x)) < 2:
        return {"intercept": None, "slope": None, "r2": None, "n": len(x)}
    b, a = np.polyfit(x_, y_, 1)
    ss_res = float(((y_ - (a + b * x_)) ** 2).sum())
    ss_tot = float(((y_ - y_.mean()) ** 2).sum())
    return {"intercept": float(a), "slope": float(b), "r2": 1 - ss_res / ss_tot if ss_tot else 1.0, "n": len(x)}


def shapes(lengths: list[dict], rates: list[dict], batch_size: int) -> dict:
    """Fit and check the expected shapes (see the module docstring); checks use the steady time, wall is also fitted."""
    out: dict = {}
    for mode in ("in-memory", "streamed"):
        pts = [r for r in lengths if r["mode"] == mode and r["seconds"] >= WINDOW_S]
        for key in ("seconds_steady", "seconds_wall"):
            fit = line_fit([r["seconds"] for r in pts], [r[key] for r in pts])
            fit["s_per_hour"] = None if fit["slope"] is None else fit["slope"] * 3600
            fit["linear"] = fit["r2"] is not None and fit["r2"] >= 0.98
            out[f"time_vs_length_{mode}" + ("_wall" if key == "seconds_wall" else "")] = fit
        mem = line_fit([r["seconds"] for r in pts], [r["extra_mb"] for r in pts])
        out[f"time_vs_length_{mode}"]["mb_per_hour"] = None if mem["slope"] is None else mem["slope"] * 3600
    full = [r for r in lengths if r["mode"] == "streamed" and r["windows"] >= batch_size]
    peaks = [r["extra_mb"] for r in full]
    out["streamed_memory"] = {
        "points": len(full),
        "min_mb": min(peaks) if peaks else None,
        "max_mb": max(peaks) if peaks else None,
        "max_over_min": max(peaks) / max(min(peaks), 1.0) if peaks else None,
        "flat": bool(peaks) and max(peaks) / max(min(peaks), 1.0) <= 1.5,
    }
    for key in ("seconds_steady", "seconds_wall"):
        fit = line_fit([r["bands"] for r in rates], [r[key] for r in rates])
        fit["per_band_s"] = [r[key] / r["bands"] for r in rates]
        fit["proportional"] = fit["r2"] is not None and fit["r2"] >= 0.95
        out["time_vs_bands" + ("_wall" if key == "seconds_wall" else "")] = fit
    return out


def format_row(r: dict) -> str:
    return (
        f"{r['mode']:>9} {r['seconds']:>7g} {r['sr']:>7} {r['bands']:>5} {r['windows']:>7} "
        f"{r['seconds_wall']:>8.2f} {r['seconds_steady']:>8.2f} {1000 * r['s_per_signal_s']:>8.2f} {r['extra_mb']:>8.0f} {r['loadavg']:>5.1f}"
    )


HEADER = f"{'mode':>9} {'len s':>7} {'sr':>7} {'bands':>5} {'windows':>7} {'wall s':>8} {'steady s':>8} {'ms/s':>8} {'extra MB':>8} {'load':>5}"


def summary_lines(s: dict) -> list[str]:
    lines = []
    for mode in ("in-memory", "streamed"):
        f, w = s[f"time_vs_length_{mode}"], s[f"time_vs_length_{mode}_wall"]
        if f["slope"] is not None:
            lines.append(
                f"time vs length ({mode}, {f['n']} points >= {WINDOW_S} s): {f['s_per_hour']:.1f} s per hour of "
                f"signal + {f['intercept']:.2f} s, R^2 {f['r2']:.4f} -> linear: {'yes' if f['linear'] else 'NO'} "
                f"(wall: {w['s_per_hour']:.1f} s/h, R^2 {w['r2']:.4f}); peak memory {f['mb_per_hour']:.0f} MB per hour"
            )
    m = s["streamed_memory"]
    if m["points"]:
        lines.append(
            f"streamed peak memory over {m['points']} files of >= 1 full batch: {m['min_mb']:.0f}-{m['max_mb']:.0f} MB "
            f"(max/min {m['max_over_min']:.2f}) -> flat: {'yes' if m['flat'] else 'NO'}"
        )
    f, w = s["time_vs_bands"], s["time_vs_bands_wall"]
    if f["slope"] is not None:
        per = f["per_band_s"]
        lines.append(
            f"time vs bands: {f['slope']:.4f} s per band + {f['intercept']:.4f} s, R^2 {f['r2']:.4f} -> linear: "
            f"{'yes' if f['proportional'] else 'NO'}; time/band {min(per):.4f}-{max(per):.4f} s "
            f"(wall: {w['slope']:.4f} s per band, R^2 {w['r2']:.4f})"
        )
    return lines


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(10, 6.4), sharex="col", gridspec_kw={"height_ratios": [3, 2]})
    styles = {"in-memory": ("o-", "C0"), "streamed": ("s--", "C1")}
    for mode, (fmt, colour) in styles.items():
        pts = [r for r in result["lengths"] if r["mode"] == mode]
        if not pts:
            continue
        x = [r["seconds"] for r in pts]
        ax[0, 0].plot(x, [r["seconds_steady"] for r in pts], fmt, color=colour, label=f"{mode}")
        ax[0, 0].plot(x, [r["seconds_wall"] for r in pts], "x", color=colour, alpha=0.5, label=f"{mode}, wall")
        ax[1, 0].plot(x, [r["extra_mb"] for r in pts], fmt, color=colour, label=mode)
    fit = result["shapes"]["time_vs_length_streamed"]
    if fit["slope"] is None:
        fit = result["shapes"]["time_vs_length_in-memory"]
    if fit["slope"] is not None:
        xs = np.geomspace(min(r["seconds"] for r in result["lengths"]), max(r["seconds"] for r in result["lengths"]))
        ax[0, 0].plot(xs, fit["slope"] * xs, ":", color="grey", label=f"linear: {fit['s_per_hour']:.0f} s per hour")
    ax[0, 0].axvline(WINDOW_S, color="grey", lw=0.6)
    ax[0, 0].text(WINDOW_S * 1.1, 0.98, "1 window", transform=ax[0, 0].get_xaxis_transform(), va="top", fontsize=7)
    ax[0, 0].set(xscale="log", yscale="log", ylabel="time (s)")
    ax[0, 0].set_title(f"clip length at {result['config']['sr'] / 1000:g} kHz", fontsize=10)
    ax[1, 0].set(xscale="log", xlabel="clip length (s)", ylabel="peak extra (MB)")
    ax[1, 0].set_ylim(bottom=0)
    rates = result["rates"]
    srk = [r["sr"] / 1000 for r in rates]
    ax[0, 1].plot(srk, [r["seconds_steady"] for r in rates], "o-", color="C2", label="steady")
    ax[0, 1].plot(srk, [r["seconds_wall"] for r in rates], "x", color="C2", alpha=0.5, label="wall")
    for r in rates:
        ax[0, 1].annotate(f"{r['bands']}", (r["sr"] / 1000, r["seconds_steady"]), textcoords="offset points",
                          xytext=(-4, 6), fontsize=8)  # fmt: skip
    per_band = float(np.median(result["shapes"]["time_vs_bands"]["per_band_s"]))
    ax[0, 1].plot(srk, [per_band * r["bands"] for r in rates], ":", color="grey",
                  label=f"∝ bands: {per_band:.3f} s per band")  # fmt: skip
    ax[0, 1].legend(fontsize=8)
    ax[0, 1].set(xscale="log", yscale="log", ylabel="time (s)")
    ax[0, 1].set_title(f"sampling rate, {result['config']['rate_seconds']:g} s clip (labels: bands)", fontsize=10)
    ax[1, 1].plot(srk, [r["extra_mb"] for r in rates], "o-", color="C2")
    ax[1, 1].set(xscale="log", xlabel="sampling rate (kHz)", ylabel="peak extra (MB)")
    ax[1, 1].set_ylim(bottom=0)
    ax[1, 1].set_xticks(srk, [f"{k:g}" for k in srk], fontsize=7, rotation=45)
    ax[1, 1].minorticks_off()
    for a in ax.flat:
        a.grid(True, which="major", alpha=0.3)
    ax[0, 0].legend(fontsize=7)
    ax[1, 0].legend(fontsize=8)
    c = result["config"]
    fig.suptitle(
        f"FISHER-{c['scale']} (depth 12, fp32, {c['threads']} threads, batch {c['batch_size']}); "
        f"load avg {result['loadavg_start']:.1f} → {result['loadavg_end']:.1f}",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="tiny")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--sr", type=int, default=16000, help="rate of the length sweep (Hz)")
    ap.add_argument("--lengths", default=None, help=f"seconds (default {LENGTHS})")
    ap.add_argument("--rates", default=None, help=f"Hz (default {RATES})")
    ap.add_argument("--quiet-wait", type=float, default=15.0,
                    help="per point, up to this many s of waiting for other processes to leave the CPUs")  # fmt: skip
    ap.add_argument("--repeats", type=int, default=5, help="timed calls per point (the minimum is reported) ...")
    ap.add_argument("--repeat-budget", type=float, default=20.0, help="... while their total stays below this (s)")
    ap.add_argument("--rate-seconds", type=float, default=10.0)
    ap.add_argument("--in-memory-max", type=float, default=3600.0, help="longest clip embedded in memory (s)")
    ap.add_argument("--stream-min", type=float, default=60.0, help="shortest clip embedded from a file (s)")
    ap.add_argument("--quick", action="store_true", help=f"lengths {QUICK_LENGTHS}, rates {QUICK_RATES}")
    ap.add_argument("--out", type=Path, default=None, help="JSON results")
    ap.add_argument("--plot", type=Path, default=None, help="PNG (e.g. docs/img/embed-scale.png)")
    ap.add_argument("--replot", type=Path, default=None, help="redraw --plot from a JSON of --out (no measuring)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.lengths = [float(x) for x in (args.lengths or (QUICK_LENGTHS if args.quick else LENGTHS)).split(",")]
    args.rates = [int(float(x)) for x in (args.rates or (QUICK_RATES if args.quick else RATES)).split(",")]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(json.loads(args.child))))
        return
    if args.replot is not None:
        plot(json.loads(args.replot.read_text()), args.plot or Path("docs/img/embed-scale.png"))
        return
    common = {"scale": args.scale, "threads": args.threads, "batch_size": args.batch_size, "repeats": args.repeats,
              "repeat_budget_s": args.repeat_budget, "quiet_wait_s": args.quiet_wait}  # fmt: skip
    load0, t0 = os.getloadavg()[0], time.perf_counter()
    print(f"FISHER-{args.scale} depth 12, fp32, {args.threads} threads, batch_size={args.batch_size}; load {load0:.2f}")
    print(HEADER)
    lengths = length_sweep(args, common)
    rates = rate_sweep(args, common)
    result = {
        "config": {
            **common,
            "sr": args.sr,
            "rate_seconds": args.rate_seconds,
            "in_memory_max": args.in_memory_max,
            "stream_min": args.stream_min,
        },
        "loadavg_start": load0,
        "loadavg_end": os.getloadavg()[0],
        "total_s": time.perf_counter() - t0,
        "lengths": lengths,
        "rates": rates,
    }
    result["shapes"] = shapes(lengths, rates, args.batch_size)
    for line in summary_lines(result["shapes"]):
        print(line)
    print(f"load average {result['loadavg_start']:.2f} -> {result['loadavg_end']:.2f}; total {result['total_s']:.0f} s")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    if args.plot:
        plot(result, args.plot)
        print(f"plot: {args.plot} ({args.plot.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()

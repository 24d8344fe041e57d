"""Shared-prefix benchmark of the six ASD streams (full-size random weights, offline).

Times one 10 s, 16 kHz clip through the six streams (CLAP, WavLM, BEATs-r16, BEATs-r32, CLAP-LoRA, AST) on
``--threads`` CPU threads (default 2), in four modes:

* naive: every stream on its own (own resampling, features and frozen layers) — the sum of six runs;
* with LoRA unmerged or merged;
* shared: ``StreamSet.embed`` — BEATs layers 0–7 and CLAP up to stage-3 block 4 (plus resampling / fbank / mel)
  computed once for both streams of each family.

The modes are interleaved in every round so that load from other processes hits them alike; each figure is the
minimum over ``--repeats`` rounds after one warm-up round. Usage: ``python benchmarks/streams.py``.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, process CPU seconds over all threads) of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def _best(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return min(a[0], b[0]), min(a[1], b[1])


def build(seed: int = 0):
    """The six streams at full size with random weights (adapters non-zero so that merging matters)."""
    import transformers as tf

    from fisher_asd.adapters.lora import lora_modules
    from fisher_asd.encoders import BEATsEncoder, create_encoder
    from fisher_asd.streams.mef import build_stream_set

    torch.manual_seed(seed)
    streams = build_stream_set(
        beats=BEATsEncoder.from_config(),
        clap=create_encoder("clap", config=tf.ClapAudioConfig()),
        wavlm=create_encoder("wavlm", config=tf.WavLMConfig()),
        ast=create_encoder("ast", config=tf.ASTConfig()),
    )
    with torch.no_grad():
        for _, m in lora_modules(streams):
            torch.nn.init.normal_(m.lora_B, std=0.02)
    return streams


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description="shared-prefix benchmark of the six ASD streams")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    streams = build()
    build_s = time.perf_counter() - t0
    sr = 16000
    clip = (0.1 * np.random.default_rng(0).standard_normal(int(args.seconds * sr))).astype(np.float32)
    items = list(streams.streams.items())
    inf = (float("inf"), float("inf"))
    naive = {m: {n: inf for n, _ in items} for m in ("unmerged", "merged")}
    shared = {"unmerged": inf, "merged": inf}
    for round_ in range(args.repeats + 1):
        for mode in ("unmerged", "merged"):
            streams.merge_lora() if mode == "merged" else streams.unmerge_lora()
            for n, s in items:
                t = _timed(lambda s=s: s.embed(clip, sr))
                naive[mode][n] = _best(naive[mode][n], t) if round_ else naive[mode][n]
            t = _timed(lambda: streams.embed(clip, sr))
            shared[mode] = _best(shared[mode], t) if round_ else shared[mode]
    out = streams.embed(clip, sr)
    streams.unmerge_lora()
    ref = streams.embed(clip, sr, share_prefix=False)
    dev = max(float(np.abs(out[n] - ref[n]).max()) for n in out)
    sums = {m: tuple(sum(v[i] for v in naive[m].values()) for i in (0, 1)) for m in naive}

    print(
        f"six streams, one {args.seconds:g} s clip at {sr} Hz, {args.threads} threads, full-size random weights; "
        f"min of {args.repeats} interleaved rounds (build {build_s:.1f} s, load avg {load_before:.1f} -> "
        f"{os.getloadavg()[0]:.1f}); wall s / CPU s"
    )
    print(f"{'stream':<12}{'unmerged':>18}{'merged':>18}")
    rows = [(n, naive["unmerged"][n], naive["merged"][n]) for n, _ in items]
    rows += [("naive sum", sums["unmerged"], sums["merged"]), ("shared", shared["unmerged"], shared["merged"])]
    for n, u, m in rows:
        print(f"{n:<12}{u[0]:>9.3f}{u[1]:>9.3f}{m[0]:>9.3f}{m[1]:>9.3f}")
    ratio = shared["merged"][0] / sums["unmerged"][0]
    cpu_ratio = shared["merged"][1] / sums["unmerged"][1]
    print(
        f"shared + merged vs naive sum: wall {ratio:.2f}x, CPU {cpu_ratio:.2f}x "
        f"(vs merged naive sum: wall {shared['merged'][0] / sums['merged'][0]:.2f}x, "
        f"CPU {shared['merged'][1] / sums['merged'][1]:.2f}x); max |shared merged - naive unmerged| = {dev:.1e}"
    )
    return {
        "naive": sums["unmerged"][0],
        "naive_merged": sums["merged"][0],
        "shared": shared["unmerged"][0],
        "shared_merged": shared["merged"][0],
        "ratio": ratio,
        "cpu_ratio": cpu_ratio,
        "max_diff": dev,
    }


if __name__ == "__main__":
    main()

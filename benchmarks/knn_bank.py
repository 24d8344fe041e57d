"""k-NN memory banks at scale: exact throughput vs the float32 matmul rate, FAISS speed-up and recall@k.

Usage: ``python benchmarks/knn_bank.py [--n 1000000] [--dim 256] [--queries 10000] [--k 5] [--hnsw-n 200000]
[--data uniform,clustered] [--nlist 1024] [--nprobe 1,4,16,64] [--ef 64,256] [--quick]``

* **Reference**: plain float32 GEMM rate of ``np.matmul`` (1024 × 8192 × 256 blocks into a reused buffer, and a
  2048³ square; the faster one), and of ``torch.matmul``, measured in the same run.
* **Exact**: :class:`fisher.search.index.ExactIndex` ``dtype="float32"`` (the pruned GEMM top-k of :mod:`fisher.search.knn32`) over
  the whole bank; achieved GFLOP/s = ``2·Q·M·D / time``. The float64 default path is timed on a query subset.
* **FAISS** (``[scale]`` extra): flat, IVF-Flat (``nlist`` cells, several ``nprobe``), HNSW (``M = 32``; built on the
  first ``--hnsw-n`` rows because a 10⁶ build takes several minutes on 2 cores — compared with exact on that subset).
  Speed-up = exact float32 search time / FAISS search time on the same bank; recall@k against the exact result.
* Data: ``uniform`` = random unit vectors (the worst case for any approximate index: neighbours are barely closer
  than random rows); ``clustered`` = unit vectors around 1000 random centres with noise of the centres' norm
  (embedding-like structure).

``index MiB``: size of the index's data — the stored vectors (exact; its own copy) or the serialised FAISS index
(vectors plus inverted lists / graph).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time

import numpy as np

from fisher.search.index import build_index


def unit_rows(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def make_data(kind: str, n: int, q: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return unit_rows(rng.standard_normal((n, d), dtype=np.float32)), unit_rows(
            rng.standard_normal((q, d), dtype=np.float32)
        )
    centres = unit_rows(rng.standard_normal((1000, d), dtype=np.float32))

    def draw(m: int) -> np.ndarray:
        x = rng.standard_normal((m, d), dtype=np.float32) / np.float32(np.sqrt(d))
        x += centres[rng.integers(0, len(centres), m)]
        return unit_rows(x)

    return draw(n), draw(q)


def matmul_rates(d: int) -> dict[str, float]:
    import torch

    rng = np.random.default_rng(1)
    out = {}
    for m, n, kd in ((1024, 8192, d), (2048, 2048, 2048)):
        a, b = rng.standard_normal((m, kd), dtype=np.float32), rng.standard_normal((n, kd), dtype=np.float32)
        buf = np.empty((m, n), dtype=np.float32)
        np.matmul(a, b.T, out=buf)
        reps = 20 if kd == d else 5
        t = time.perf_counter()
        for _ in range(reps):
            np.matmul(a, b.T, out=buf)
        out[f"numpy {m}x{n}x{kd}"] = 2 * m * n * kd * reps / (time.perf_counter() - t) / 1e9
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        tbuf = torch.from_numpy(buf)
        torch.matmul(ta, tb.T, out=tbuf)
        t = time.perf_counter()
        for _ in range(reps):
            torch.matmul(ta, tb.T, out=tbuf)
        out[f"torch {m}x{n}x{kd}"] = 2 * m * n * kd * reps / (time.perf_counter() - t) / 1e9
    return out


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f) & set(t)) for f, t in zip(found.tolist(), truth.tolist())]) / k)


def index_mib(index) -> float:
    """Size of the index's data: the stored vectors (exact) or the serialised FAISS index (vectors + lists / graph)."""
    if hasattr(index, "vectors"):
        return index.vectors.nbytes / 2**20
    import faiss

    return faiss.serialize_index(index._index).nbytes / 2**20


def timed_build(vectors: np.ndarray, spec, metric: str = "l2"):
    t = time.perf_counter()
    index = build_index(vectors, spec, metric=metric)
    return index, time.perf_counter() - t, index_mib(index)


def timed_search(index, queries: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    index.search(queries[:16], k)  # warm-up (thread pools, first-touch pages)
    t = time.perf_counter()
    _, ids = index.search(queries, k)
    return time.perf_counter() - t, ids


def fmt_n(n: int) -> str:
    return f"{n:.0e}".replace("e+0", "e") if n >= 10_000 and str(n).rstrip("0") in ("1", "2", "5") else str(n)


class Rows:
    """Prints each table row as soon as it is measured."""

    def append(self, r: list) -> None:
        cells = [
            r[0],
            r[1],
            r[2],
            f"{r[3]:.1f}",
            f"{r[4]:.0f}",
            f"{r[5]:.2f}",
            f"{r[6]:.0f}",
            f"{r[7]:.2f}",
            f"{r[8]:.3f}",
            r[9],
        ]
        print("| " + " | ".join(cells) + " |", flush=True)


def run(args: argparse.Namespace) -> None:
    import faiss

    start = time.perf_counter()
    rates = matmul_rates(args.dim)
    ref = max(v for key, v in rates.items() if key.startswith("numpy"))
    print(
        f"# k-NN bank benchmark: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"numpy {np.__version__}, faiss {faiss.__version__}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}"
    )
    print("# float32 matmul GFLOP/s: " + ", ".join(f"{k} {v:.0f}" for k, v in rates.items()))
    print(f"# reference matmul rate = {ref:.0f} GFLOP/s (best numpy)")
    k, q_n = args.k, args.queries
    print(
        f"\nbank {fmt_n(args.n)} x {args.dim} float32 unit vectors, {q_n} queries, k = {k}; speed-up vs exact float32 "
        "on the same bank; recall@k vs exact\n"
    )
    head = [
        "data",
        "method",
        "bank",
        "build s",
        "index MiB",
        "search s",
        "queries/s",
        "speed-up",
        f"recall@{k}",
        "note",
    ]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head), flush=True)
    rows = Rows()
    for kind in args.data.split(","):
        bank, queries = make_data(kind, args.n, q_n, args.dim)
        flops = 2.0 * q_n * args.n * args.dim
        exact, build_s, mem = timed_build(bank, {"backend": "exact", "dtype": "float32"})
        exact_s, truth = timed_search(exact, queries, k)
        gf = flops / exact_s / 1e9
        rows.append(
            [
                kind,
                "exact float32",
                fmt_n(args.n),
                build_s,
                mem,
                exact_s,
                q_n / exact_s,
                1.0,
                1.0,
                f"{gf:.0f} GFLOP/s = {gf / ref:.2f} x matmul",
            ]
        )
        if kind == args.data.split(",")[0]:  # the float64 default path, on a query subset (it is much slower)
            sub = queries[: args.f64_queries]
            exact64, build64, mem64 = timed_build(bank, "exact")
            s64, ids64 = timed_search(exact64, sub, k)
            gf64 = 2.0 * len(sub) * args.n * args.dim / s64 / 1e9
            rows.append(
                [
                    kind,
                    f"exact float64 ({len(sub)} q)",
                    fmt_n(args.n),
                    build64,
                    mem64,
                    s64,
                    len(sub) / s64,
                    (exact_s / q_n) / (s64 / len(sub)),
                    recall(ids64, truth[: len(sub)]),
                    f"{gf64:.0f} GFLOP/s = {gf64 / ref:.2f} x matmul",
                ]
            )
            del exact64
        del exact
        flat, build_s, mem = timed_build(bank, "faiss-flat")
        s, ids = timed_search(flat, queries, k)
        rows.append([kind, "faiss flat", fmt_n(args.n), build_s, mem, s, q_n / s, exact_s / s, recall(ids, truth), ""])
        del flat
        ivf, build_s, mem = timed_build(bank, {"backend": "faiss-ivf", "nlist": args.nlist})
        for nprobe in [int(p) for p in args.nprobe.split(",")]:
            ivf.options["nprobe"] = nprobe
            s, ids = timed_search(ivf, queries, k)
            rows.append(
                [
                    kind,
                    f"faiss ivf{args.nlist} nprobe={nprobe}",
                    fmt_n(args.n),
                    build_s,
                    mem,
                    s,
                    q_n / s,
                    exact_s / s,
                    recall(ids, truth),
                    "",
                ]
            )
        del ivf
        hn = min(args.hnsw_n, args.n)
        small = bank[:hn]
        exact_small, build_s, mem = timed_build(small, {"backend": "exact", "dtype": "float32"})
        small_s, small_truth = timed_search(exact_small, queries, k)
        del exact_small
        rows.append([kind, "exact float32", fmt_n(hn), build_s, mem, small_s, q_n / small_s, 1.0, 1.0, ""])
        hnsw, build_s, mem = timed_build(small, "faiss-hnsw")
        for ef in [int(e) for e in args.ef.split(",")]:
            hnsw.options["ef_search"] = ef
            s, ids = timed_search(hnsw, queries, k)
            rows.append(
                [
                    kind,
                    f"faiss hnsw32 ef={ef}",
                    fmt_n(hn),
                    build_s,
                    mem,
                    s,
                    q_n / s,
                    small_s / s,
                    recall(ids, small_truth),
                    "",
                ]
            )
        del hnsw, bank
        gc.collect()
    print(f"\n# total benchmark time {time.perf_counter() - start:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--hnsw-n", type=int, default=200_000)
    ap.add_argument("--f64-queries", type=int, default=500)
    ap.add_argument("--data", default="uniform,clustered")
    ap.add_argument("--nlist", type=int, default=1024)
    ap.add_argument("--nprobe", default="1,4,16,64")
    ap.add_argument("--ef", default="64,256")
    ap.add_argument("--quick", action="store_true", help="10^5 bank, 1000 queries (a smoke run)")
    args = ap.parse_args()
    if args.quick:
        args.n, args.queries, args.hnsw_n, args.nlist, args.f64_queries = 100_000, 1000, 50_000, 256, 200
    run(args)


if __name__ == "__main__":
    main()

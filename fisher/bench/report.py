"""The text report of ``fisher bench``: machine facts, FLOPs, the GEMM reference, one aligned row per path and the
recommendation."""

from __future__ import annotations

from fisher.bench.run import BenchResult

__all__ = ["format_report"]

COLUMNS = (  # header, width, format of one PathResult
    ("path", 10, lambda p: p.name),
    ("clips/s", 8, lambda p: f"{p.clips_per_s:.2f}"),
    ("GFLOP/s", 8, lambda p: f"{p.gflop_per_s:.1f}"),
    ("x GEMM", 7, lambda p: f"{p.gemm_ratio:.2f}"),
    ("vs fp32", 8, lambda p: f"{p.speedup:.2f}x"),
    ("min cos", 9, lambda p: f"{p.min_cosine:.6f}"),
    ("max |diff|", 10, lambda p: f"{p.max_abs_diff:.1e}"),
)


def _header(r: BenchResult) -> list[str]:
    m, w, f = r.machine, r.workload, r.flops
    isa = " ".join(m["isa"]) or "none of avx2/avx512f/avx512_bf16/amx"
    env = ", ".join(f"{k}={v}" for k, v in m["env"].items()) or "no ONEDNN_MAX_CPU_ISA / MKL / ATEN caps set"
    ort = f"onnxruntime {m['onnxruntime']}" if m["onnxruntime"] else "no onnxruntime"
    model = f"{w['model']} (D={w['embed_dim']}, depth={w['depth']}, {w['params'] / 1e6:.1f} M parameters)"
    clips = f"{w['batch']} clips x {w['seconds']:g} s @ {w['sr']} Hz = {w['bands']} bands per window"
    parts = (
        f"linear {f['linear_gflop_per_clip']:.3f} + attention {f['attention_gflop_per_clip']:.3f} "
        f"+ patch {f['patch_gflop_per_clip']:.3f}"
    )
    counted = (
        f"torch FlopCounterMode counts {f['counted_gflop_per_clip']:.3f}, "
        f"{f['counted_with_attention_gflop_per_clip']:.3f} with the CPU SDPA formula"
    )
    g = r.gemm
    gemm = f"F.linear over the model's {g['linear_layers']} linear layers on {g['rows']} token rows (one forward pass)"
    return [
        f"machine: {m['cpu']} ({m['logical_cpus']} logical CPUs); ISA: {isa}",
        f"         torch {m['torch']}, {m['threads']} threads; {ort}; {env}",
        f'         precision="auto" -> {m["auto"]}: {m["auto_reason"]}',
        f"model:   {model}; {clips}",
        f"FLOPs:   {f['analytic_gflop_per_clip']:.3f} GFLOP per clip analytic ({parts}); {counted}",
        f"GEMM:    {g['gflop_per_s']:.1f} GFLOP/s: {gemm}",
        f"timing:  best of {r.rounds} interleaved round(s) in {r.elapsed_s:.0f} s (budget {r.budget_s:g} s)",
        *([f"WARNING: {m['warning']}"] if m.get("warning") else []),
    ]


def format_report(r: BenchResult) -> str:
    """The aligned table ``fisher bench`` prints without ``--json``."""
    lines = [*_header(r), ""]
    lines.append("  ".join(f"{h:<{w}}" if i == 0 else f"{h:>{w}}" for i, (h, w, _) in enumerate(COLUMNS)) + "  note")
    for p in r.paths:
        cells = [f"{fmt(p):<{w}}" if i == 0 else f"{fmt(p):>{w}}" for i, (_, w, fmt) in enumerate(COLUMNS)]
        note = p.note + ("; approximate" if p.approximate else "")
        lines.append("  ".join(cells) + f"  {p.label}: {note}")
    lines += [f"{name:<10}  skipped: {why}" for name, why in r.skipped.items()]
    lines += [
        "",
        "GFLOP/s = analytic FLOPs / best time; x GEMM = that / the GEMM rate; vs fp32 = torch fp32 time / this time;",
        "min cos / max |diff| = accuracy of the embeddings vs torch fp32 on the same clips.",
        "",
        r.recommendation["line"],
    ]
    if r.recommendation["how"]:
        lines.append(f"     {r.recommendation['how']}")
    if r.machine.get("warning"):
        lines.append(
            "     (measured on a busy machine, see the WARNING above: re-run on a quiet one before relying on it)"
        )
    return "\n".join(lines)

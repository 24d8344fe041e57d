"""``fisher export onnx SRC DST``: a FISHER checkpoint → a self-contained ONNX band encoder for ``OnnxFisher``."""

from __future__ import annotations

import argparse

from fisher.cli.options import add_allow_pickle


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a FISHER model for deployment (ONNX)",
        description="Export the band encoder (band images [S, T, W] -> last block output tokens [S, 1+N, D], "
        "dynamic S and T) to ONNX; one file serves every per-band summary (cls, mean, freq, cls+mean ...). "
        "Run it without torch with fisher.OnnxFisher(DST).",
    )
    p.add_argument("format", choices=["onnx"], help="export format")
    p.add_argument("src", help="registry name (tiny/mini/small), hub id, model directory or official .pt file")
    p.add_argument("dst", help="output .onnx file")
    add_allow_pickle(p)
    p.add_argument(
        "--outputs",
        choices=["tokens", "cls"],
        default="tokens",
        help="tokens (default): every output token, every summary; cls: the CLS vectors only, the last block "
        "computed for the CLS token alone (faster; summary='cls' only)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="embed a test signal with torch and ONNX Runtime and report the largest difference",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from fisher.clikit.outputs import check_output_file
    from fisher.deploy.export import export_onnx
    from fisher.model.network import Fisher

    if not args.dst.lower().endswith(".onnx"):
        raise ValueError(f"DST {args.dst!r}: an ONNX export is written to a .onnx file")
    check_output_file(args.dst, "DST")
    model = Fisher.from_pretrained(args.src, allow_pickle=args.allow_pickle)
    out = export_onnx(model, args.dst, outputs=args.outputs)
    c = model.config
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): embed_dim={c.embed_dim} depth={c.depth} "
        f"band_width={c.band_width} outputs={args.outputs}"
    )
    if args.check:
        from fisher.deploy.runtime import OnnxFisher

        wave = (0.1 * np.random.default_rng(0).standard_normal(3 * 16000)).astype(np.float32)
        summary = "cls" if args.outputs == "cls" else None
        diff = float(np.abs(OnnxFisher(out).embed(wave, 16000) - model.embed(wave, 16000, summary=summary)).max())
        print(f"check: max |onnx - torch| = {diff:.2e} on 3 s of noise at 16 kHz")
        return 0 if diff <= 1e-4 else 1
    return 0

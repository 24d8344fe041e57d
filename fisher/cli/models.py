"""``fisher models``: list the pretrained FISHER records (weights source and preprocessing constants)."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list pretrained FISHER models and their preprocessing")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fisher.hub.registry import list_models

    records = list_models()
    if args.json:
        print(json.dumps([r.to_dict() for r in records], indent=2))
        return 0
    print(f"{'name':6} {'weights':28} {'D':>4} {'depth':>5} {'heads':>5} {'band':>5} {'params':>11}  preprocessing")
    for r in records:
        c = r.config
        sign = "-" if c.spec_mean >= 0 else "+"  # (ln|X| + 3.0173), never "- -3.0173"
        origin = (
            "packaged in the wheel" if r.package_dir else f"revision {r.revision[:12] if r.revision else 'unpinned'}"
        )
        print(
            f"{r.name:6} {r.source:28} {c.embed_dim:>4} {c.depth:>5} {c.num_heads:>5} {c.band_width:>5} "
            f"{r.params:>11,}  STFT {c.win_ms:g}/{c.hop_ms:g} ms, (ln|X| {sign} {abs(c.spec_mean):.4f}) / "
            f"({c.spec_std:.4f}*{c.spec_std_coeff:g}), <= {c.max_frames} frames, {origin}"
        )
    for r in records:
        if not r.official:
            print(f"\n{r.name}: {r.description}")
    return 0

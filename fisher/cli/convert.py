"""``fisher convert SRC DST_DIR``: official checkpoint → ``config.json`` + ``model.safetensors``."""

from __future__ import annotations

import argparse

from fisher.cli.options import add_allow_pickle


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert",
        help="convert an official FISHER .pt checkpoint into our safetensors directory",
        description="Read an official FISHER checkpoint (.pt or .pt.xz, or a hub id/directory), load it "
        "strictly and write config.json + model.safetensors into DST_DIR.",
    )
    p.add_argument("src", help="official .pt file, a directory or a hub id")
    p.add_argument("dst", help="output directory")
    add_allow_pickle(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fisher.clikit.outputs import check_output_dir
    from fisher.model.network import Fisher

    check_output_dir(args.dst, "DST_DIR")
    model = Fisher.from_pretrained(args.src, allow_pickle=args.allow_pickle)
    out = model.save_pretrained(args.dst)
    reloaded = Fisher.from_pretrained(out)
    same = all((a == b).all() for a, b in zip(model.state_dict().values(), reloaded.state_dict().values()))
    c = model.config
    n = sum(p.numel() for p in model.state_dict().values())
    print(
        f"wrote {out}: embed_dim={c.embed_dim} depth={c.depth} heads={c.num_heads} band_width={c.band_width} "
        f"positions={c.max_length}x{c.max_freq} tensors={len(model.state_dict())} values={n:,} "
        f"round-trip={'bit-exact' if same else 'MISMATCH'}"
    )
    return 0 if same else 1

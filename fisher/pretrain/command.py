"""The ``pretrain`` command: ``fisher pretrain --config CFG.(yaml|json)``, ``fisher pretrain export CKPT DIR`` and ``fisher pretrain plot RUN_DIR``."""

from __future__ import annotations

import argparse
import logging

from fisher.clikit.limits import MAX_STEPS, bounded_int

__all__ = ["register"]


def _train(args: argparse.Namespace) -> int:
    from fisher.pretrain import PretrainConfig, Trainer

    if args.config is None:
        raise ValueError("pass --config CONFIG.(yaml|json), or use `fisher pretrain export CKPT DIR`")
    if args.out_dir is not None:
        from fisher.clikit.outputs import check_output_dir

        check_output_dir(args.out_dir, "--out-dir")
    cfg = PretrainConfig.load(args.config)
    if args.out_dir is not None:
        cfg.train.out_dir = args.out_dir
    if args.steps is not None:
        cfg.train.steps = args.steps
    if args.resume is not None:
        cfg.train.resume = None if args.resume == "none" else args.resume
    cfg = PretrainConfig.from_dict(cfg.to_dict())  # re-validate after the overrides
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    trainer = Trainer(cfg)
    trainer.fit(args.until)
    if trainer.rank == 0:
        print(f"pretraining stopped at step {trainer.step}; checkpoints in {trainer.out_dir / 'checkpoints'}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from fisher.clikit.outputs import check_output_dir
    from fisher.pretrain import export_encoder

    check_output_dir(args.directory, "DIRECTORY")
    out = export_encoder(args.checkpoint, args.directory, which=args.which)
    print(f"wrote the {args.which} encoder to {out} (load with Fisher.from_pretrained({str(out)!r}))")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from fisher.pretrain.plot import plot_run

    out = plot_run(args.run_dir, args.out)
    print(f"wrote {out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "pretrain",
        help="pretrain FISHER (EMA teacher-student distillation), export or plot a run",
        description="Pretrain FISHER from a YAML/JSON config (see docs/pretraining.md). "
        "Multi-process: torchrun --nproc_per_node=N -m fisher.pretrain --config CFG",
    )
    p.add_argument("--config", help="pretraining config (.yaml/.yml/.json)")
    p.add_argument("--out-dir", help="override train.out_dir")
    p.add_argument(
        "--steps",
        type=bounded_int(1, MAX_STEPS),
        help=f"override train.steps (the schedule length), 1..{MAX_STEPS:.0e}",
    )
    p.add_argument("--until", type=bounded_int(0, MAX_STEPS), help="stop after this step (checkpointed; resume later)")
    p.add_argument("--resume", help="checkpoint path, 'auto' (latest in out_dir) or 'none'")
    p.set_defaults(func=_train)
    sub = p.add_subparsers(dest="pretrain_command", metavar="{export,plot}")
    e = sub.add_parser("export", help="write a checkpoint's encoder as a Fisher.from_pretrained directory")
    e.add_argument("checkpoint", help="pretraining checkpoint (.pt)")
    e.add_argument("directory", help="output directory (config.json + model.safetensors)")
    e.add_argument("--which", choices=("student", "teacher"), default="student")
    e.set_defaults(func=_export)
    q = sub.add_parser("plot", help="plot a run's log.jsonl (losses, gradients, collapse diagnostics) into one PNG")
    q.add_argument("run_dir", help="the run's out_dir (holds log.jsonl)")
    q.add_argument("-o", "--out", help="output PNG (default RUN_DIR/curves.png)")
    q.set_defaults(func=_plot)

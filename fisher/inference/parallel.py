"""Embed a large list of signal files into sharded ``.npy`` files: with Ray Data (``[scale]`` extra) or sequentially.

Both engines write the same layout into ``out_dir`` (every file atomically; ``manifest.json`` last):

* ``shard_<i>.npy`` — float32 ``[rows_i, dim]``: one pooled :meth:`fisher.Fisher.embed` vector per file, for files
  ``i · shard_size …`` of the input order;
* ``index.csv`` — ``path,shard,row``: where each input file's embedding is;
* ``manifest.json`` — format, count, ``dim``, shards, embedding settings, library version.

:func:`embed_files_ray` turns the shards into a Ray dataset (one row per shard) and runs
``map_batches(ShardEmbedder, batch_size=1, compute=ActorPoolStrategy(size=concurrency))``: each actor builds the model
once, embeds its shards and writes them itself, so on a cluster ``out_dir`` must be shared storage and ``fisher`` be
installed on every node. Connect first with ``ray.init(address=...)``; otherwise Ray starts a local instance.
:func:`embed_files_sequential` runs the same per-shard code in this process. :func:`load_embeddings` reads either.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fisher.files import atomic_write, atomic_write_text, read_json_manifest, write_json_manifest
from fisher.types import PathLike

if TYPE_CHECKING:
    from fisher.model.network import Fisher
    from fisher.signals.reader import ChannelId

__all__ = ["FORMAT", "ShardEmbedder", "embed_files_ray", "embed_files_sequential", "embed_shard", "load_embeddings"]

FORMAT = "fisher.embeddings/1"
_EMBED_KEYS = ("pool", "long", "pad_frames", "batch_size", "precision")


def _check(paths: Any, shard_size: Any, embed_kwargs: dict[str, Any]) -> list[str]:
    if isinstance(paths, (str, bytes)) or not hasattr(paths, "__iter__"):
        raise TypeError("paths must be a list of file paths")
    out = [str(p) for p in paths]
    if not out:
        raise ValueError("paths is empty: nothing to embed")
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise ValueError(f"shard_size must be a positive int, got {shard_size!r}")
    unknown = sorted(set(embed_kwargs) - set(_EMBED_KEYS))
    if unknown:
        raise TypeError(f"unknown embedding option(s) {unknown}; allowed: {list(_EMBED_KEYS)}")
    return out


def _shards(paths: list[str], shard_size: int) -> list[dict[str, Any]]:
    return [{"shard": i, "paths": paths[s : s + shard_size]} for i, s in enumerate(range(0, len(paths), shard_size))]


def _shard_file(out_dir: Path, shard: int) -> Path:
    return out_dir / f"shard_{shard:05d}.npy"


def _model_payload(model: Fisher | PathLike) -> tuple:
    """What a worker needs to rebuild ``model``: a pretrained name / path, or the config and float weights."""
    from fisher.model.network import Fisher

    if isinstance(model, Fisher):
        state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
        return ("state", model.config.to_dict(), state)
    if isinstance(model, (str, Path)):
        return ("pretrained", str(model))
    raise TypeError(f"model must be a Fisher instance or a name / path for Fisher.from_pretrained, got {type(model)}")


def _build_model(payload: tuple) -> Any:
    import torch

    from fisher.model.network import Fisher
    from fisher.recipe.fisher_config import FisherConfig

    if payload[0] == "pretrained":
        return Fisher.from_pretrained(payload[1])
    model = Fisher(FisherConfig.from_dict(payload[1]))
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in payload[2].items()}, strict=True)
    return model.eval()


def embed_shard(
    model: Fisher,
    paths: list[str],
    out_file: Path,
    *,
    channel: ChannelId | None = None,
    resume: bool = False,
    **embed_kwargs: Any,
) -> tuple[int, int]:
    """Embed ``paths`` (one pooled vector each) into ``out_file``; returns ``(rows, dim)``."""
    from fisher.signals.reader import read_signal

    if resume and out_file.is_file():
        arr = np.load(out_file, mmap_mode="r", allow_pickle=False)
        if arr.shape[0] == len(paths):
            return int(arr.shape[0]), int(arr.shape[1])
    rows = []
    for p in paths:
        x, sr = read_signal(p, channel=channel)
        rows.append(np.asarray(model.embed(x, sr, **embed_kwargs), dtype=np.float32).reshape(-1))
    dims = {r.shape[0] for r in rows}
    if len(dims) > 1:
        raise ValueError(
            f"{out_file.name}: embeddings of different sizes {sorted(dims)} (mixed sampling rates?); "
            "use pool='mean' or one sampling rate per run"
        )
    emb = np.stack(rows)
    atomic_write(out_file, lambda fh: np.save(fh, emb, allow_pickle=False), binary=True)
    return int(emb.shape[0]), int(emb.shape[1])


class ShardEmbedder:
    """Ray Data callable class: holds one model; each call embeds the shards of a batch and writes their files."""

    def __init__(
        self, payload: tuple, out_dir: str, channel: Any, resume: bool, threads: int, embed_kwargs: dict[str, Any]
    ) -> None:
        import torch

        torch.set_num_threads(threads)
        if type(payload).__name__ == "ObjectRef":  # the driver ray.put() the weights once for all actors
            import ray

            payload = ray.get(payload)
        self.model = _build_model(payload)
        self.out_dir, self.channel, self.resume, self.embed_kwargs = Path(out_dir), channel, resume, embed_kwargs

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        shards = [int(s) for s in batch["shard"]]
        done = [
            embed_shard(
                self.model,
                [str(p) for p in paths],
                _shard_file(self.out_dir, s),
                channel=self.channel,
                resume=self.resume,
                **self.embed_kwargs,
            )
            for s, paths in zip(shards, batch["paths"])
        ]
        return {
            "shard": np.array(shards),
            "rows": np.array([d[0] for d in done]),
            "dim": np.array([d[1] for d in done]),
        }


def _finish(
    out_dir: Path,
    paths: list[str],
    shard_size: int,
    done: dict[int, tuple[int, int]],
    engine: str,
    settings: dict[str, Any],
) -> Path:
    from fisher.version import __version__

    dims = {d for _, d in done.values()}
    if len(dims) > 1:
        raise ValueError(
            f"shards have different embedding sizes {sorted(dims)} (mixed sampling rates?); "
            "use pool='mean' or one sampling rate per run"
        )
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["path", "shard", "row"])
    for i, p in enumerate(paths):
        writer.writerow([p, _shard_file(out_dir, i // shard_size).name, i % shard_size])
    atomic_write_text(out_dir / "index.csv", buf.getvalue())
    shards = [{"file": _shard_file(out_dir, s).name, "rows": done[s][0]} for s in sorted(done)]
    manifest = {
        "version": __version__,
        "engine": engine,
        "n": len(paths),
        "dim": dims.pop(),
        "shard_size": shard_size,
        "shards": shards,
        "settings": settings,
    }
    write_json_manifest(out_dir / "manifest.json", FORMAT, manifest)
    return out_dir


def embed_files_sequential(
    paths: Iterable[PathLike],
    *,
    model: Fisher | PathLike,
    out_dir: str | Path,
    shard_size: int = 1024,
    channel: ChannelId | None = None,
    resume: bool = False,
    **embed_kwargs: Any,
) -> Path:
    """Embed ``paths`` in this process into the layout of the module docstring; returns ``out_dir``.

    ``model``: a :class:`fisher.Fisher` or a name / path for ``Fisher.from_pretrained``. ``embed_kwargs``:
    ``pool``, ``long``, ``pad_frames``, ``batch_size``, ``precision`` of :meth:`fisher.Fisher.embed`.
    ``resume=True`` keeps shard files that already have the right row count (same model and settings assumed).
    """
    paths = _check(paths, shard_size, embed_kwargs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from fisher.model.network import Fisher

    net = model if isinstance(model, Fisher) else _build_model(_model_payload(model))
    done = {
        s["shard"]: embed_shard(
            net, s["paths"], _shard_file(out, s["shard"]), channel=channel, resume=resume, **embed_kwargs
        )
        for s in _shards(paths, shard_size)
    }
    return _finish(out, paths, shard_size, done, "sequential", {"channel": channel, **embed_kwargs})


def embed_files_ray(
    paths: Iterable[PathLike],
    *,
    model: Fisher | PathLike,
    out_dir: str | Path,
    shard_size: int = 1024,
    concurrency: int = 2,
    threads: int = 1,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
    channel: ChannelId | None = None,
    resume: bool = False,
    **embed_kwargs: Any,
) -> Path:
    """Embed ``paths`` with Ray Data: ``concurrency`` model-holding actors, one shard per call; returns ``out_dir``.

    ``threads``: torch threads per actor (``num_cpus`` per actor defaults to it). Other arguments as
    :func:`embed_files_sequential`; the files written are identical when the sequential run uses the
    same torch thread count (other counts: equal to float rounding).
    """
    ray = _require_ray()
    paths = _check(paths, shard_size, embed_kwargs)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive int, got {concurrency!r}")
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    shards = _shards(paths, shard_size)
    payload = ray.put(_model_payload(model))
    strategy = (
        {"compute": ray.data.ActorPoolStrategy(size=concurrency)}
        if hasattr(ray.data, "ActorPoolStrategy")
        else {"concurrency": concurrency}
    )
    ds = ray.data.from_items(shards, override_num_blocks=len(shards)).map_batches(
        ShardEmbedder,
        batch_size=1,
        batch_format="numpy",
        num_cpus=num_cpus or threads,
        num_gpus=num_gpus,
        fn_constructor_kwargs={
            "payload": payload,
            "out_dir": str(out),
            "channel": channel,
            "resume": resume,
            "threads": threads,
            "embed_kwargs": embed_kwargs,
        },
        **strategy,
    )
    done = {int(r["shard"]): (int(r["rows"]), int(r["dim"])) for r in ds.take_all()}
    return _finish(out, paths, shard_size, done, "ray", {"channel": channel, **embed_kwargs})


def _require_ray() -> Any:
    from fisher.extras import require_scale

    ray = require_scale("ray", "fisher.inference.parallel.embed_files_ray")
    require_scale("ray.data", "fisher.inference.parallel.embed_files_ray (Ray Data: pip install 'ray[data]')")
    return ray


def load_embeddings(out_dir: str | Path, *, mmap: bool = False) -> tuple[list[str], np.ndarray]:
    """``(paths, embeddings float32 [N, dim])`` in input order from a directory written by either engine."""
    out = Path(out_dir)
    manifest = read_json_manifest(out / "manifest.json", FORMAT, "finished embedding run")
    with open(out / "index.csv", encoding="utf-8", newline="") as fh:
        paths = [row["path"] for row in csv.DictReader(fh)]
    parts = [np.load(out / s["file"], mmap_mode="r" if mmap else None, allow_pickle=False) for s in manifest["shards"]]
    emb = np.concatenate(parts) if len(parts) > 1 else parts[0]
    if emb.shape != (manifest["n"], manifest["dim"]) or len(paths) != manifest["n"]:
        raise ValueError(f"{out}: shards {emb.shape} / index ({len(paths)} rows) do not match manifest.json")
    return paths, emb

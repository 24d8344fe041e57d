"""Batch preparation off the training step: read, resample and STFT in worker processes.

A batch is a pure function of its stream position (:class:`fisher.pretrain.data.SignalStream`), so workers can
prepare positions ``start, start + 1, …`` ahead of the training loop and the run is identical to one that prepares
them in the main process (``data.num_workers = 0``); torch's global RNG (masks, dropout) is only used in the main
process. Each worker uses one torch thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from fisher.pretrain.data import Batch, SignalStream

__all__ = ["Prepared", "prepare", "prepared_batches"]


@dataclass
class Prepared:
    """A batch and its sub-band images ``bands`` ``[B·nb, T, W]`` (stream position ``index``)."""

    index: int
    batch: Batch
    bands: torch.Tensor


def prepare(stream: SignalStream, index: int) -> Prepared:
    batch = stream.batch(index)
    return Prepared(index, batch, stream.bands(batch))


class _Positions(torch.utils.data.Dataset):
    def __init__(self, stream: SignalStream) -> None:
        self.stream = stream

    def __len__(self) -> int:  # positions are unbounded; the sampler decides which ones are read
        return np.iinfo(np.int64).max

    def __getitem__(self, index: int) -> Prepared:
        return prepare(self.stream, int(index))


def _one_thread(_: int) -> None:
    torch.set_num_threads(1)


def _collate(item: Prepared) -> Prepared:
    return item


def prepared_batches(
    stream: SignalStream, start: int, stop: int, *, num_workers: int = 0, prefetch: int = 2
) -> Iterator[Prepared]:
    """Prepared batches of positions ``start … stop - 1`` in order; ``num_workers > 0`` uses worker processes
    (each ``prefetch`` batches ahead)."""
    if num_workers < 0 or prefetch < 1:
        raise ValueError(f"num_workers must be >= 0 and prefetch >= 1, got {num_workers}, {prefetch}")
    if num_workers == 0:
        for i in range(start, stop):
            yield prepare(stream, i)
        return
    loader = torch.utils.data.DataLoader(
        _Positions(stream),
        sampler=range(start, stop),
        batch_size=None,
        num_workers=num_workers,
        prefetch_factor=prefetch,
        worker_init_fn=_one_thread,
        collate_fn=_collate,
        generator=torch.Generator().manual_seed(0),
    )  # its own generator: the global RNG (masks) stays untouched
    yield from loader

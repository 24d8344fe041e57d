"""One :class:`~fisher.search.index.VectorIndex` per key — e.g. ``(machine, domain)`` — behind one search call.

Keys are JSON-safe scalars (str / int / float / bool) or tuples of them. ``add(vectors, keys)`` takes one key for
all rows or a list with one key per row (a tuple is always *one* key). Row ids are global: insertion order over all
``add`` calls, so results point back into the caller's arrays whatever shard they came from.

``search(queries, k, keys=...)``: ``keys=None`` searches every shard and merges the per-shard top-``k`` (the exact
global top-``k`` for exact shards); a single key searches that shard; a list gives one key per query.

``save(dir)``: ``index.json`` (spec, metric, shard keys) + ``shard_<i>/`` (the shard's own index) + ``shard_<i>/ids.npy``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fisher.files import atomic_write
from fisher.search.index import index_spec, load_index, make_index, read_manifest, register_backend, write_manifest
from fisher.search.knn import as_matrix, check_k
from fisher.types import ArrayLike

__all__ = ["ShardedIndex"]

_SCALARS = (str, int, float, bool)


def _key(key: Any) -> Any:
    """A hashable, JSON-safe key (numpy scalars → Python; lists → tuples)."""
    if isinstance(key, np.generic):
        key = key.item()
    if isinstance(key, (tuple, list)):
        key = tuple(k.item() if isinstance(k, np.generic) else k for k in key)
        if all(isinstance(k, _SCALARS) for k in key):
            return key
    elif isinstance(key, _SCALARS):
        return key
    raise TypeError(f"shard keys must be str / int / float / bool or tuples of them, got {key!r}")


def _is_single(keys: Any) -> bool:
    return isinstance(keys, (*_SCALARS, tuple, np.generic))


class ShardedIndex:
    """Shards of one backend ``spec`` (see :func:`fisher.search.index.index_spec`) and ``metric``, keyed by e.g. (machine, domain).

    >>> idx = ShardedIndex("faiss-ivf", metric="l2").add(emb, [(m, d) for m, d in zip(machines, domains)])
    >>> dist, rows = idx.search(queries, k=5, keys=("fan", "source"))
    """

    backend = "sharded"

    def __init__(self, spec: str | dict[str, Any] = "exact", *, metric: str = "l2") -> None:
        self.spec = index_spec(spec)
        make_index(self.spec, metric=metric)  # validates metric / spec (and the extra) up front
        self.metric = metric
        self.shards: dict[Any, Any] = {}
        self._ids: dict[Any, list[np.ndarray]] = {}
        self._n = 0
        self.dim: int | None = None

    @property
    def keys(self) -> list[Any]:
        return list(self.shards)

    def ids(self, key: Hashable) -> np.ndarray:
        """Global row ids of shard ``key`` (int64, in the shard's row order)."""
        parts = self._ids[_key(key)]
        if len(parts) > 1:
            self._ids[_key(key)] = parts = [np.concatenate(parts)]
        return parts[0]

    def __len__(self) -> int:
        return self._n

    def add(self, vectors: ArrayLike, keys: Hashable | Sequence[Hashable]) -> ShardedIndex:
        """Append rows ``[N, D]`` with one key or ``N`` keys."""
        x = as_matrix(
            vectors,
            "vectors",
            self.dim,
            dtype=np.float32 if self.spec["backend"] != "exact" else np.dtype(self.spec["dtype"]),
        )
        n = x.shape[0]
        per_row = [_key(keys)] * n if _is_single(keys) else [_key(k) for k in keys]
        if len(per_row) != n:
            raise ValueError(f"{len(per_row)} shard keys for {n} vectors")
        groups: dict[Any, list[int]] = {}
        for i, key in enumerate(per_row):
            groups.setdefault(key, []).append(i)
        for key, rows in groups.items():
            if key not in self.shards:
                self.shards[key], self._ids[key] = make_index(self.spec, metric=self.metric), []
            self.shards[key].add(x[rows])
            self._ids[key].append(self._n + np.asarray(rows, dtype=np.int64))
        self._n += n
        self.dim = int(x.shape[1])
        return self

    def _search_one(self, key: Hashable, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if key not in self.shards:
            raise KeyError(f"no shard {key!r}; shards: {self.keys}")
        dist, idx = self.shards[key].search(q, k)
        return dist, self.ids(key)[idx]

    def search(
        self, queries: ArrayLike, k: int, *, keys: Hashable | Sequence[Hashable] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``k`` nearest rows per query → ``(distances float64 [Q, k], global ids int64 [Q, k])``, ascending."""
        k = check_k(k)
        if not self.shards:
            raise ValueError("the index is empty: add() vectors first")
        q = as_matrix(queries, "queries", self.dim)
        if keys is None:
            if self._n < k:
                raise ValueError(f"the memory bank has {self._n} rows, fewer than k = {k}")
            parts = [self._search_one(key, q, min(k, len(s))) for key, s in self.shards.items()]
            dist, ids = np.concatenate([p[0] for p in parts], axis=1), np.concatenate([p[1] for p in parts], axis=1)
            order = np.lexsort((ids, dist), axis=1)[:, :k]
            return np.take_along_axis(dist, order, axis=1), np.take_along_axis(ids, order, axis=1)
        if _is_single(keys):
            return self._search_one(_key(keys), q, k)
        per_query = [_key(key) for key in keys]
        if len(per_query) != q.shape[0]:
            raise ValueError(f"{len(per_query)} shard keys for {q.shape[0]} queries")
        dist, ids = np.empty((q.shape[0], k)), np.empty((q.shape[0], k), dtype=np.int64)
        for key in dict.fromkeys(per_query):
            rows = [i for i, x in enumerate(per_query) if x == key]
            dist[rows], ids[rows] = self._search_one(key, q[rows], k)
        return dist, ids

    def save(self, directory: str | Path) -> Path:
        """Write every shard into ``shard_<i>/`` with its ``ids.npy``, then ``index.json``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        entries = []
        for i, (key, shard) in enumerate(self.shards.items()):
            sub = shard.save(out / f"shard_{i:05d}")
            ids = self.ids(key)
            atomic_write(sub / "ids.npy", lambda fh, a=ids: np.save(fh, a, allow_pickle=False), binary=True)
            entries.append(
                {"key": list(key) if isinstance(key, tuple) else key, "tuple": isinstance(key, tuple), "dir": sub.name}
            )
        write_manifest(
            out,
            {
                "backend": "sharded",
                "metric": self.metric,
                "spec": self.spec,
                "dim": self.dim,
                "ntotal": self._n,
                "shards": entries,
            },
        )
        return out

    @classmethod
    def _load(cls, directory: Path, manifest: dict[str, Any], mmap: bool) -> ShardedIndex:
        index = cls(manifest["spec"], metric=manifest["metric"])
        for entry in manifest["shards"]:
            key = tuple(entry["key"]) if entry["tuple"] else entry["key"]
            sub = Path(directory) / entry["dir"]
            read_manifest(sub)
            index.shards[key] = load_index(sub, mmap=mmap)
            index._ids[key] = [np.load(sub / "ids.npy", allow_pickle=False)]
        index._n, index.dim = int(manifest["ntotal"]), manifest["dim"]
        return index

    def __repr__(self) -> str:
        return (
            f"ShardedIndex(backend={self.spec['backend']!r}, metric={self.metric!r}, shards={len(self.shards)}, "
            f"n={self._n})"
        )


register_backend(("sharded",), None, ShardedIndex._load)

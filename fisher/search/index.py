"""Searchable memory banks at scale: one :class:`VectorIndex` interface, exact or FAISS, optionally sharded by key.

The detector's per-machine bank record is :class:`fisher_asd.detector.MemoryBank` (rows, owners, MemMixup); the
classes here only answer "which rows are nearest", so they are called *indexes*:

* :class:`ExactIndex` — :func:`fisher.search.knn.knn_search` over stored rows: exact, chunked (no ``Q × M`` matrix),
  ``dtype="float64"`` (reference numerics, the default everywhere) or ``"float32"`` (the large-bank path that runs near
  the float32 matmul rate).
* :class:`~fisher.search.faiss_index.FaissIndex` — FAISS ``flat`` / ``ivf`` / ``hnsw`` (``[scale]`` extra), inner product on
  L2-normalised float32 vectors mapped to the exact metric's distances.
* :class:`~fisher.search.sharded.ShardedIndex` — one index per key, e.g. ``(machine, domain)``.

An index is described by a JSON-safe *spec*: a backend name (:data:`BACKENDS`) or a dict
``{"backend": "faiss-ivf", "nlist": 256, "nprobe": 16}`` (see :data:`DEFAULTS` for each backend's options).
``save(dir)`` writes ``index.json`` (last) plus ``vectors.npy`` (exact) or ``index.faiss`` (FAISS), each atomically;
:func:`load_index` reads any of them back. No pickle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fisher.files import atomic_write, read_json_manifest, write_json_manifest
from fisher.search.knn import BANK_BLOCK, METRICS, QUERY_BLOCK, as_matrix, knn_search
from fisher.types import ArrayLike

__all__ = [
    "BACKENDS",
    "DEFAULTS",
    "FORMAT",
    "ExactIndex",
    "VectorIndex",
    "build_index",
    "index_spec",
    "is_exact_default",
    "load_index",
    "make_index",
    "register_backend",
]

FORMAT = "fisher.index/1"
#: Options of each backend with their defaults (``nlist=None``: ``sqrt(N)`` capped at ``N / 39`` when trained).
DEFAULTS: dict[str, dict[str, Any]] = {
    "exact": {"dtype": "float64", "query_block": QUERY_BLOCK, "bank_block": BANK_BLOCK},
    "faiss-flat": {},
    "faiss-ivf": {"nlist": None, "nprobe": 16, "seed": 1234},
    "faiss-hnsw": {"hnsw_m": 32, "ef_construction": 80, "ef_search": 64},
}
BACKENDS = tuple(DEFAULTS)


def index_spec(spec: Any) -> dict[str, Any]:
    """A backend name or ``{"backend": name, **options}`` → the full dict with defaults (``ValueError`` if unknown)."""
    if isinstance(spec, str):
        spec = {"backend": spec}
    if not isinstance(spec, dict):
        raise TypeError(
            f"an index spec is a backend name {BACKENDS} or a dict with 'backend', got {type(spec).__name__}"
        )
    name = spec.get("backend")
    if name not in DEFAULTS:
        raise ValueError(f"unknown index backend {name!r}; choose one of {BACKENDS}")
    unknown = sorted(set(spec) - {"backend"} - set(DEFAULTS[name]))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for index backend {name!r}; allowed: {sorted(DEFAULTS[name])}")
    out = {"backend": name, **DEFAULTS[name], **{k: v for k, v in spec.items() if k != "backend"}}
    for key, value in out.items():
        if key in ("backend", "dtype") or (key == "nlist" and value is None):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"index option {key} must be a positive int, got {value!r}")
    if name == "exact" and out["dtype"] not in ("float64", "float32"):
        raise ValueError(f"exact index dtype must be 'float64' or 'float32', got {out['dtype']!r}")
    return out


def is_exact_default(spec: str | dict[str, Any]) -> bool:
    """Whether ``spec`` is the default exact float64 search (callers then keep their original code path)."""
    return index_spec(spec) == index_spec("exact")


#: Backend name → (create(backend, metric, **options), load(directory, manifest, mmap)). The exact backend is
#: registered below; :mod:`fisher.search.faiss_index` and :mod:`fisher.search.sharded` register themselves when
#: imported, which the ``fisher.search`` package does first (this module never imports its subclasses).
_REGISTRY: dict[str, tuple[Callable[..., Any] | None, Callable[[Path, dict[str, Any], bool], Any]]] = {}


def register_backend(
    names: tuple[str, ...], create: Callable[..., Any] | None, load: Callable[[Path, dict[str, Any], bool], Any]
) -> None:
    """Register an index implementation: ``create(backend, metric, **options)`` and ``load(dir, manifest, mmap)``."""
    for name in names:
        _REGISTRY[name] = (create, load)


def _backend(name: str) -> tuple[Callable[..., Any] | None, Callable[[Path, dict[str, Any], bool], Any]]:
    if name not in _REGISTRY:
        raise ValueError(f"index backend {name!r} is not registered; known: {sorted(_REGISTRY)}")
    return _REGISTRY[name]


def make_index(spec: str | dict[str, Any] = "exact", *, metric: str = "l2") -> VectorIndex:
    """An empty index for ``spec`` and ``metric`` (``"l2"`` or ``"cosine"``)."""
    full = index_spec(spec)
    options = {k: v for k, v in full.items() if k != "backend"}
    create, _ = _backend(full["backend"])
    return create(full["backend"], metric, **options)


def build_index(vectors: ArrayLike, spec: str | dict[str, Any] = "exact", *, metric: str = "l2") -> VectorIndex:
    """:func:`make_index` then ``add(vectors)`` (``[N, D]``)."""
    return make_index(spec, metric=metric).add(vectors)


def read_manifest(directory: Path) -> dict[str, Any]:
    return read_json_manifest(Path(directory) / "index.json", FORMAT, "index")


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    from fisher.version import __version__

    write_json_manifest(Path(directory) / "index.json", FORMAT, {"version": __version__, **manifest})


def load_index(directory: str | Path, *, mmap: bool = False) -> Any:
    """Load an index saved by ``save(directory)`` (``mmap=True`` memory-maps an exact index's vectors)."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    _, load = _backend(manifest["backend"])
    return load(directory, manifest, mmap)


class VectorIndex:
    """Interface: ``add([N, D]) -> self``, ``search([Q, D], k) -> (dist float64 [Q, k], idx int64 [Q, k])`` ascending
    by (distance, row), ``len()``, ``dim``, ``save(dir)``. Row ids are insertion order, starting at 0."""

    backend = "abstract"
    metric: str
    dim: int | None

    def __init__(self, metric: str = "l2") -> None:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
        self.metric = metric
        self.dim = None

    def add(self, vectors: ArrayLike) -> VectorIndex:
        raise NotImplementedError

    def search(self, queries: ArrayLike, k: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def save(self, directory: str | Path) -> Path:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(backend={self.backend!r}, metric={self.metric!r}, n={len(self)}, dim={self.dim})"


class ExactIndex(VectorIndex):
    """Exact k-NN over stored rows (see :func:`fisher.search.knn.knn_search` for metrics, ties and memory).

    Args:
        metric: ``"l2"`` (on the vectors as given) or ``"cosine"``.
        dtype: ``"float64"`` (reference) or ``"float32"`` (large banks: half the memory, near the matmul rate).
        query_block: queries per block of the chunked search.
        bank_block: bank rows per block of the chunked search.
    """

    backend = "exact"

    def __init__(
        self,
        metric: str = "l2",
        *,
        dtype: str = "float64",
        query_block: int = QUERY_BLOCK,
        bank_block: int = BANK_BLOCK,
    ) -> None:
        super().__init__(metric)
        self.options = {
            k: v
            for k, v in index_spec(
                {"backend": "exact", "dtype": dtype, "query_block": query_block, "bank_block": bank_block}
            ).items()
            if k != "backend"
        }
        self._dtype = np.dtype(self.options["dtype"])
        self._chunks: list[np.ndarray] = []
        self._vectors: np.ndarray | None = None

    @property
    def vectors(self) -> np.ndarray:
        """The stored rows ``[N, D]`` (``dtype``)."""
        if self._vectors is None:
            if not self._chunks:
                raise ValueError("the index is empty: add() vectors first")
            self._vectors = self._chunks[0] if len(self._chunks) == 1 else np.concatenate(self._chunks)
            self._chunks = [self._vectors]
        return self._vectors

    def add(self, vectors: ArrayLike) -> ExactIndex:
        """Append rows ``[N, D]`` (copied; their ids continue from ``len(self)``)."""
        arr = as_matrix(vectors, "vectors", self.dim, dtype=self._dtype)
        if not isinstance(vectors, np.ndarray) or np.may_share_memory(arr, vectors):
            arr = arr.copy()
        self.dim = int(arr.shape[1])
        self._chunks.append(np.ascontiguousarray(arr))
        self._vectors = None
        return self

    def search(
        self, queries: ArrayLike, k: int, *, exclude: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``k`` nearest rows per query; ``exclude`` = leave-one-out ``(query_ids, row_owners)`` as in ``knn_search``."""
        return knn_search(
            queries,
            self.vectors,
            k,
            metric=self.metric,
            exclude=exclude,
            dtype=self._dtype,
            query_block=self.options["query_block"],
            bank_block=self.options["bank_block"],
        )

    def __len__(self) -> int:
        return sum(c.shape[0] for c in self._chunks)

    def save(self, directory: str | Path) -> Path:
        """Write ``vectors.npy`` and ``index.json`` into ``directory`` (atomically, manifest last)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        vectors = self.vectors
        atomic_write(out / "vectors.npy", lambda fh: np.save(fh, vectors, allow_pickle=False), binary=True)
        write_manifest(
            out,
            {"backend": "exact", "metric": self.metric, "dim": self.dim, "ntotal": len(self), "options": self.options},
        )
        return out

    @classmethod
    def _load(cls, directory: Path, manifest: dict[str, Any], mmap: bool) -> ExactIndex:
        index = cls(manifest["metric"], **manifest["options"])
        vectors = np.load(directory / "vectors.npy", mmap_mode="r" if mmap else None, allow_pickle=False)
        if vectors.shape != (manifest["ntotal"], manifest["dim"]) or vectors.dtype != index._dtype:
            raise ValueError(f"{directory}: vectors.npy {vectors.shape} {vectors.dtype} does not match index.json")
        index.dim, index._chunks, index._vectors = int(vectors.shape[1]), [vectors], vectors
        return index


register_backend(("exact",), lambda _backend, metric, **options: ExactIndex(metric, **options), ExactIndex._load)

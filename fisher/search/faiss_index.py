"""FAISS-backed :class:`~fisher.search.index.VectorIndex` (``[scale]`` extra; ``faiss`` is imported only when used).

Every vector is L2-normalised to float32 and searched by inner product ``ip``; distances are mapped to the exact
metric of :func:`fisher.search.knn.knn_search` on unit vectors:

* ``"l2"`` → ``sqrt(max(0, 2 - 2·ip))`` (equal to the exact ``l2`` when the vectors are unit-norm, as in the detector;
  for other vectors this index searches their directions — use :class:`~fisher.search.index.ExactIndex` instead);
* ``"cosine"`` → ``clip(1 - ip, 0, 2)`` (equal to the exact ``cosine``).

Backends: ``"faiss-flat"`` (``IndexFlatIP``: exact, brute force), ``"faiss-ivf"`` (``IndexIVFFlat``: ``nlist``
k-means cells, ``nprobe`` visited per query; trained on the first ``add`` or by :meth:`FaissIndex.train`) and
``"faiss-hnsw"`` (``IndexHNSWFlat``: graph with ``hnsw_m`` links, ``ef_construction`` / ``ef_search`` beams).
Distances come from float32 inner products, so they carry ~1e-4 rounding near 0 (exact duplicates).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from fisher.extras import require_scale
from fisher.files import atomic_write_path
from fisher.search.index import VectorIndex, index_spec, register_backend, write_manifest
from fisher.search.knn import as_matrix, check_k, l2_normalize
from fisher.types import ArrayLike

__all__ = ["FaissIndex", "default_nlist"]


def _faiss() -> Any:
    return require_scale("faiss", "FaissIndex")


def default_nlist(n: int) -> int:
    """IVF cell count for ``n`` training vectors: ``round(sqrt(n))``, at most ``n // 39`` (FAISS's minimum), >= 1."""
    return max(1, min(round(math.sqrt(n)), n // 39))


def _unit32(x: ArrayLike, name: str, dim: int | None) -> np.ndarray:
    return np.ascontiguousarray(l2_normalize(as_matrix(x, name, dim, dtype=np.float32)), dtype=np.float32)


class FaissIndex(VectorIndex):
    """Approximate (or flat exact) search with FAISS; see the module docstring.

    Args:
        backend: ``"faiss-flat"``, ``"faiss-ivf"`` or ``"faiss-hnsw"``.
        metric: ``"l2"`` or ``"cosine"`` (mapping of the inner product, see above).
        **options: IVF — ``nlist`` cells (``None`` = :func:`default_nlist` of the training set), ``nprobe`` cells
            visited per query, k-means ``seed``; HNSW — ``hnsw_m`` graph degree, ``ef_construction`` /
            ``ef_search`` beam widths (defaults: :data:`fisher.search.index.DEFAULTS`).
    """

    def __init__(self, backend: str = "faiss-flat", metric: str = "l2", **options: Any) -> None:
        if not isinstance(backend, str) or not backend.startswith("faiss-"):
            raise ValueError(f"FaissIndex backend must be 'faiss-flat', 'faiss-ivf' or 'faiss-hnsw', got {backend!r}")
        super().__init__(metric)
        spec = index_spec({"backend": backend, **options})
        self.backend = backend
        self.options = {k: v for k, v in spec.items() if k != "backend"}
        self._faiss = _faiss()
        self._index: Any = None

    # ------------------------------------------------------------------ building
    def _create(self, dim: int, n_train: int) -> None:
        faiss, o = self._faiss, self.options
        if self.backend == "faiss-flat":
            self._index = faiss.IndexFlatIP(dim)
        elif self.backend == "faiss-hnsw":
            self._index = faiss.IndexHNSWFlat(dim, o["hnsw_m"], faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efConstruction = o["ef_construction"]
        else:
            if o["nlist"] is None:
                o["nlist"] = default_nlist(n_train)
            self._quantizer = faiss.IndexFlatIP(dim)
            self._index = faiss.IndexIVFFlat(self._quantizer, dim, o["nlist"], faiss.METRIC_INNER_PRODUCT)
            self._index.cp.seed = o["seed"]
        self.dim = dim

    def train(self, vectors: ArrayLike) -> FaissIndex:
        """Train the IVF cells on ``[N, D]`` vectors (``N >= nlist``); other backends need no training."""
        x = _unit32(vectors, "training vectors", self.dim)
        if self._index is None:
            self._create(x.shape[1], x.shape[0])
        if not self._index.is_trained:
            if x.shape[0] < self._index.nlist:
                raise ValueError(f"IVF training needs at least nlist = {self._index.nlist} vectors, got {x.shape[0]}")
            self._index.train(x)
        return self

    def add(self, vectors: ArrayLike) -> FaissIndex:
        """Append rows ``[N, D]`` (an untrained IVF index is trained on them first)."""
        x = _unit32(vectors, "vectors", self.dim)
        if self._index is None or not self._index.is_trained:
            self.train(x)
        self._index.add(x)
        return self

    # ------------------------------------------------------------------ searching
    def search(self, queries: ArrayLike, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``k`` nearest rows per query: ``(distances float64 [Q, k], ids int64 [Q, k])``, ascending."""
        k = check_k(k)
        if self._index is None or len(self) == 0:
            raise ValueError("the index is empty: add() vectors first")
        if len(self) < k:
            raise ValueError(f"the memory bank has {len(self)} rows, fewer than k = {k}")
        q = _unit32(queries, "queries", self.dim)
        if self.backend == "faiss-ivf":
            self._index.nprobe = self.options["nprobe"]
        elif self.backend == "faiss-hnsw":
            self._index.hnsw.efSearch = max(self.options["ef_search"], k)
        ip, ids = self._index.search(q, k)
        if (ids < 0).any():
            raise ValueError(
                f"{int((ids < 0).any(axis=1).sum())} query(ies) found fewer than k = {k} rows in the "
                f"visited IVF cells; raise nprobe (now {self.options.get('nprobe')}) or lower nlist"
            )
        ip = ip.astype(np.float64)
        dist = np.sqrt(np.maximum(0.0, 2.0 - 2.0 * ip)) if self.metric == "l2" else np.clip(1.0 - ip, 0.0, 2.0)
        order = np.lexsort((ids, dist), axis=1)
        return np.take_along_axis(dist, order, axis=1), np.take_along_axis(ids.astype(np.int64), order, axis=1)

    def __len__(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path) -> Path:
        """Write ``index.faiss`` (``faiss.write_index`` to a temporary file, then an atomic move) and ``index.json``."""
        if self._index is None:
            raise ValueError("cannot save an empty index: add() vectors first")
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_path(out / "index.faiss", lambda tmp: self._faiss.write_index(self._index, tmp))
        write_manifest(
            out,
            {
                "backend": self.backend,
                "metric": self.metric,
                "dim": self.dim,
                "ntotal": len(self),
                "options": self.options,
                "faiss_version": self._faiss.__version__,
            },
        )
        return out

    @classmethod
    def _load(cls, directory: Path, manifest: dict[str, Any]) -> FaissIndex:
        index = cls(manifest["backend"], manifest["metric"], **manifest["options"])
        index._index = index._faiss.read_index(str(directory / "index.faiss"))
        index.dim = int(index._index.d)
        if index.dim != manifest["dim"] or len(index) != manifest["ntotal"]:
            raise ValueError(f"{directory}: index.faiss ({len(index)} x {index.dim}) does not match index.json")
        return index


register_backend(
    ("faiss-flat", "faiss-ivf", "faiss-hnsw"),
    FaissIndex,
    lambda directory, manifest, _mmap: FaissIndex._load(directory, manifest),
)

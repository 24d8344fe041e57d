"""Memory bank of one (stream, machine): normal training embeddings, target oversampling and MemMixup.

Row layout (``asd.md`` §3.3 / §3.4 decisions, parameters in brackets):

1. **Originals** — the ``N`` L2-normalised training embeddings, in clip order (rows ``0 … N-1``).
2. **Oversampling** [``oversample_ratio``, default 10] — let ``n_max`` be the size of the largest domain. Every other
   domain ``d`` is replicated ``r_d = ceil(n_max / (ratio · n_d))`` times in total (the originals plus ``r_d - 1``
   copies), so ``n_max : r_d · n_d <= ratio : 1`` with the fewest copies. 990 source / 10 target → ``r = 10``,
   990 : 100. ``None`` disables it.
3. **MemMixup** [``mixup``, ``mixup_alpha`` = 0.4, ``mixup_stage`` = ``"after"``, ``mixup_pairing`` = ``"any"``] —
   "random pairs of existing bank embeddings" of the machine: the ``R`` rows present so far are each paired with the
   row at the same position of a random permutation (over **all** rows of the machine's bank for ``"any"``, the
   default; within the row's own domain for ``"domain"``), mixed with one ``λ ~ Beta(α, α)`` per pair and
   re-normalised: ``R`` new rows, so the bank doubles. ``"after"`` mixes after oversampling (mixed rows keep the
   ≤ ratio : 1 balance and target copies become distinct mixtures); ``"before"`` mixes the originals and then
   oversamples originals and mixtures alike. A mixed row belongs to the domain of its dominant parent (``λ >= 0.5``).
   Randomness comes from one ``numpy.random.Generator`` seeded by the caller (the detector uses
   ``(seed, crc32(stream), crc32(machine))``, so a bank does not depend on the order machines are fitted in).

Each row records its parent clips (``owners [M, 2]``) so leave-one-out scoring can hide every row derived from a clip.

Search: exact float64 (:mod:`fisher.search.knn`) by default; :meth:`MemoryBank.attach_index` routes :meth:`~MemoryBank.score`
and :meth:`~MemoryBank.domain_scores` through a :class:`fisher.search.sharded.ShardedIndex` sharded by domain (e.g.
FAISS IVF for very large banks). Leave-one-out training scores (:meth:`~MemoryBank.loo_scores`) always stay exact:
they need per-query exclusion of rows, which FAISS cannot do, and they are computed once at fit time.

k-NN score (:func:`knn_score`): Euclidean distance between L2-normalised vectors (``= sqrt(2 - 2 cos)`` for exact
unit vectors, ``asd.md`` §3.5), computed as ``sqrt(max(0, |q|² + |b|² - 2 q·b))`` in float64 from the stored
vectors. With the actual norms an exact duplicate (an oversampled copy) is at distance 0; ``2 - 2 cos`` on
float32-rounded unit vectors would leave ~5e-4 of rounding noise there. The anomaly score of a query is the mean of
its ``k`` smallest distances. Leave-one-out scoring passes ``exclude``: a query never sees the bank rows derived
from its own clip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from fisher.search.knn import as_matrix, check_k, knn_search
from fisher.search.knn import l2_normalize as _l2_normalize
from fisher.types import ArrayLike

if TYPE_CHECKING:
    from fisher.search.sharded import ShardedIndex

__all__ = [
    "MIXUP_PAIRINGS",
    "MIXUP_STAGES",
    "MemoryBank",
    "build_bank",
    "knn_distances",
    "knn_score",
    "l2_normalize",
    "oversample_factors",
]

MIXUP_STAGES = ("after", "before")
MIXUP_PAIRINGS = ("any", "domain")


# ---------------------------------------------------------------------------------------- k-NN score
def l2_normalize(x: ArrayLike) -> np.ndarray:
    """Rows of ``x`` divided by their L2 norm, float64 ``[N, D]``; an all-zero row raises ``ValueError``."""
    return _l2_normalize(as_matrix(x), zero="raise")


def knn_distances(
    queries: ArrayLike, bank: ArrayLike, k: int, *, exclude: tuple[np.ndarray, np.ndarray] | None = None, **blocks: int
) -> np.ndarray:
    """The ``k`` smallest distances of every query to the bank, ascending, float64 ``[Q, k]``.

    ``exclude``: optional ``(query_ids [Q], row_owners [M, P])`` for leave-one-out (see :func:`fisher.search.knn.knn_search`).
    """
    return knn_search(queries, bank, k, metric="l2", exclude=exclude, **blocks)[0]


def knn_score(queries: ArrayLike, bank: ArrayLike, k: int, **kwargs: Any) -> np.ndarray:
    """Mean of the ``k`` smallest distances per query, float64 ``[Q]`` (the raw anomaly score)."""
    return knn_distances(queries, bank, k, **kwargs).mean(axis=1)


def oversample_factors(counts: dict[str, int], ratio: float | None) -> dict[str, int]:
    """Replication factor per domain so that ``largest : r_d · n_d <= ratio`` (factor 1 for the largest domain)."""
    if ratio is None:
        return {d: 1 for d in counts}
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not math.isfinite(ratio) or ratio < 1:
        raise ValueError(f"oversample_ratio must be a number >= 1 or None, got {ratio!r}")
    n_max = max(counts.values())
    return {d: 1 if n == n_max else max(1, math.ceil(n_max / (ratio * n))) for d, n in counts.items()}


@dataclass
class MemoryBank:
    """Bank rows of one (stream, machine).

    Attributes:
        embeddings: float32 ``[M, D]`` unit-norm rows (originals first).
        row_domain: int64 ``[M]`` index into ``domains``.
        owners: int64 ``[M, 2]`` parent clip indices (an original or a copy of clip ``i`` has ``(i, i)``).
        lam: float32 ``[M]`` weight of ``owners[:, 0]`` (1 for originals and copies).
        clip_domain: int64 ``[N]`` domain index of each training clip.
        domains: domain names, e.g. ``("source", "target")``.
        index: optional search index over the rows (:meth:`attach_index`); ``None`` = exact float64.
    """

    embeddings: np.ndarray
    row_domain: np.ndarray
    owners: np.ndarray
    lam: np.ndarray
    clip_domain: np.ndarray
    domains: tuple[str, ...]
    index: ShardedIndex | None = field(default=None, repr=False, compare=False)

    def attach_index(self, spec: str | dict[str, Any]) -> MemoryBank:
        """Search through a :mod:`fisher.search.index` backend ``spec`` (e.g. ``"faiss-ivf"``), one shard per domain."""
        from fisher.search.sharded import ShardedIndex

        names = [self.domains[d] for d in self.row_domain]
        self.index = ShardedIndex(spec, metric="l2").add(self.embeddings, names)
        return self

    @property
    def n_clips(self) -> int:
        return int(self.clip_domain.shape[0])

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    def __len__(self) -> int:
        return int(self.embeddings.shape[0])

    def score(self, queries: ArrayLike, k: int) -> np.ndarray:
        """Mean distance of each unit-norm query ``[Q, D]`` to its ``k`` nearest rows, float64 ``[Q]``."""
        if self.index is not None:
            return self.index.search(as_matrix(queries, "queries", self.dim), k)[0].mean(axis=1)
        return knn_score(queries, self.embeddings, k)

    def loo_scores(self, k: int) -> np.ndarray:
        """Leave-one-out score of every training clip: its original row against all rows not derived from it."""
        originals = self.embeddings[: self.n_clips]
        ids = np.arange(self.n_clips)
        return knn_score(originals, self.embeddings, k, exclude=(ids, self.owners))

    def domain_scores(self, queries: ArrayLike, k: int) -> np.ndarray:
        """Score against each domain's rows only, float64 ``[Q, n_domains]`` (``k`` capped at the domain's rows)."""
        q = as_matrix(queries, "queries", self.dim)
        out = np.empty((q.shape[0], len(self.domains)))
        for d in range(len(self.domains)):
            rows = self.embeddings[self.row_domain == d]
            kd = min(check_k(k), rows.shape[0])
            if self.index is not None:
                out[:, d] = self.index.search(q, kd, keys=self.domains[d])[0].mean(axis=1)
            else:
                out[:, d] = knn_score(q, rows, kd)
        return out

    def tensors(self) -> dict[str, np.ndarray]:
        """Arrays for safetensors (see :meth:`from_tensors`)."""
        return {
            "embeddings": np.ascontiguousarray(self.embeddings, dtype=np.float32),
            "row_domain": self.row_domain.astype(np.int64),
            "owners": self.owners.astype(np.int64),
            "lam": self.lam.astype(np.float32),
            "clip_domain": self.clip_domain.astype(np.int64),
        }

    @classmethod
    def from_tensors(cls, arrays: dict[str, np.ndarray], domains: Sequence[str]) -> MemoryBank:
        return cls(
            embeddings=arrays["embeddings"],
            row_domain=arrays["row_domain"],
            owners=arrays["owners"],
            lam=arrays["lam"],
            clip_domain=arrays["clip_domain"],
            domains=tuple(domains),
        )


def _mix(
    emb: np.ndarray,
    dom: np.ndarray,
    own: np.ndarray,
    lam: np.ndarray,
    pairing: str,
    alpha: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, ...]:
    """Append one mixture per row (see the module docstring)."""
    r = emb.shape[0]
    partner = np.arange(r)
    if pairing == "any":
        partner = rng.permutation(r)
    else:
        for d in np.unique(dom):
            rows = np.flatnonzero(dom == d)
            partner[rows] = rows[rng.permutation(rows.size)]
    weight = rng.beta(alpha, alpha, size=r)
    a, b = emb.astype(np.float64), emb[partner].astype(np.float64)
    mixed = weight[:, None] * a + (1.0 - weight[:, None]) * b
    norm = np.linalg.norm(mixed, axis=1, keepdims=True)
    mixed = np.where(norm > 1e-12, mixed / np.maximum(norm, 1e-12), a)
    new_dom = np.where(weight >= 0.5, dom, dom[partner])
    new_own = np.stack([own[:, 0], own[partner, 0]], axis=1)
    return (
        np.concatenate([emb, mixed.astype(np.float32)]),
        np.concatenate([dom, new_dom]),
        np.concatenate([own, new_own]),
        np.concatenate([lam, weight.astype(np.float32)]),
    )


def _oversample(emb, dom, own, lam, factors: np.ndarray) -> tuple[np.ndarray, ...]:
    """Keep every row, then append ``factor - 1`` copies of each row of an oversampled domain."""
    n = dom.shape[0]
    idx = np.r_[np.arange(n), np.repeat(np.arange(n), factors[dom] - 1)]
    return emb[idx], dom[idx], own[idx], lam[idx]


def build_bank(
    embeddings: ArrayLike,
    domains: Sequence[str],
    *,
    oversample_ratio: float | None = 10.0,
    mixup: bool = True,
    mixup_alpha: float = 0.4,
    mixup_stage: str = "after",
    mixup_pairing: str = "any",
    rng: np.random.Generator | None = None,
) -> MemoryBank:
    """Build a :class:`MemoryBank` from ``[N, D]`` training embeddings and their ``N`` domain names."""
    emb = l2_normalize(embeddings).astype(np.float32)
    names = [str(d) for d in domains]
    if len(names) != emb.shape[0]:
        raise ValueError(f"{len(names)} domain labels for {emb.shape[0]} embeddings")
    if mixup_stage not in MIXUP_STAGES:
        raise ValueError(f"mixup_stage must be one of {MIXUP_STAGES}, got {mixup_stage!r}")
    if mixup_pairing not in MIXUP_PAIRINGS:
        raise ValueError(f"mixup_pairing must be one of {MIXUP_PAIRINGS}, got {mixup_pairing!r}")
    if not (isinstance(mixup_alpha, (int, float)) and math.isfinite(mixup_alpha) and mixup_alpha > 0):
        raise ValueError(f"mixup_alpha must be a positive number, got {mixup_alpha!r}")
    order = tuple(dict.fromkeys(names))
    dom = np.array([order.index(d) for d in names], dtype=np.int64)
    counts = {d: int((dom == i).sum()) for i, d in enumerate(order)}
    factors = np.array([oversample_factors(counts, oversample_ratio)[d] for d in order])
    rng = rng if rng is not None else np.random.default_rng(0)
    n = emb.shape[0]
    state = (emb, dom.copy(), np.stack([np.arange(n), np.arange(n)], axis=1), np.ones(n, dtype=np.float32))
    if mixup and mixup_stage == "before":
        state = _mix(*state, mixup_pairing, float(mixup_alpha), rng)
    state = _oversample(*state, factors)
    if mixup and mixup_stage == "after":
        state = _mix(*state, mixup_pairing, float(mixup_alpha), rng)
    return MemoryBank(
        embeddings=state[0], row_domain=state[1], owners=state[2], lam=state[3], clip_domain=dom, domains=order
    )

"""``fisher_asd.Detector``: streams → memory banks → k-NN → rank normalisation → weighted fusion.

>>> det = Detector(encoders=["logstft", "fisher"], k=5, rank_norm="inductive")
>>> det.fit(train_waves, 16000, machine="fan", domain=train_domains)       # normal clips only
>>> det.score(test_waves, 16000, machine="fan")                          # [B], higher = more anomalous
>>> det.save_pretrained("my-detector"); Detector.from_pretrained("my-detector")
>>> Detector.from_preset("system1", backbones={"beats": "BEATs_iter3_plus_AS2M.pt"})  # the report's recipe, untrained

Scoring of a clip of machine ``m`` (``asd.md`` §3, every decision has a parameter):

0. the clip is fixed to 160,000 samples at 16 kHz (10 s; :class:`~fisher_asd.detector.cliplength.ClipLength`,
   the same policy as in training) unless ``whole_clips=True``;
1. every stream that scores ``m`` embeds the clip; the embedding is L2-normalised;
2. raw score = mean Euclidean distance to the ``k`` nearest rows of the stream's bank of ``m``
   (:mod:`~fisher_asd.detector.bank`: originals + oversampled target + MemMixup rows);
3. normalisation per stream (``rank_norm``): ``"transductive"`` ranks the scores of the clips passed in the same
   call within each (machine, domain) group, scaled by ``(n - 1)`` (pass all test clips of a machine at once);
   ``"inductive"`` ranks each clip against the leave-one-out training scores of (machine, domain) — online, one clip
   at a time gives the same value; ``None`` keeps raw distances;
4. domain of a test clip: the given ``domain``; when ``domain=None``, ``domain_policy="machine"`` ranks all clips of
   the machine in the call together (source and target in one group), ``"nearest"`` assigns the domain whose bank
   rows are nearer (fusion-weighted mean of the per-domain k-NN distances) and normalises per (machine, inferred
   domain);
5. fused score = weighted mean over the streams (weights renormalised over the streams that score ``m``).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fisher.search.index import is_exact_default
from fisher.types import PathLike, SampleRate, WaveLike

from .bank import MemoryBank, build_bank
from .cliplength import ClipLength
from .data import ClipSource, as_labels, clip_source
from .fusion import check_weights, fuse
from .inputs import check_percentile, check_threshold
from .scoring import check_rank_partitions, infer_domains, normalise_scores, normalise_training
from .settings import DOMAIN_POLICIES, RANK_NORMS, DetectorSettings, setting_fields
from .stream import build_streams, embed_streams
from .stream_config import as_stream_config, scope_clips
from .train import TrainConfig, train_stream

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["DOMAIN_POLICIES", "RANK_NORMS", "Detector", "DetectorSettings"]

_CHUNK = 64  # clips per embedding chunk


BANK_OPTIONS = ("oversample_ratio", "mixup", "mixup_alpha", "mixup_stage", "mixup_pairing")  # build_bank keywords


def _is_object(value: Any) -> bool:
    """A ``backbones`` value that is a built encoder rather than a location."""
    import os

    return value is not None and not isinstance(value, (str, os.PathLike))


def _build_streams(settings: DetectorSettings, backbone_states: dict | None) -> dict[str, Any]:
    """The stream attributes of a detector with ``settings``: ``device``, ``configs``, ``instance_streams``,
    ``streams``, ``encoders`` and the validated fusion ``weights``."""
    pairs = [as_stream_config(e, settings.train_heads) for e in settings.encoders]
    configs = [c for c, _ in pairs]
    given = dict(settings.backbones or {})
    given.update({c.name: inst for c, inst in pairs if inst is not None})
    streams, encoders = build_streams(configs, backbones=given, backbone_states=backbone_states, seed=settings.seed)
    weights = check_weights(settings.weights, list(streams))
    if settings.device is not None:
        for s in streams.values():
            s.to(settings.device)
    return {
        "device": settings.device,
        "configs": configs,
        "instance_streams": [c.name for c in configs if _is_object(given.get(c.name, given.get(c.encoder)))],
        "streams": streams,
        "encoders": encoders,
        "weights": weights,
    }


def _setting(name: str) -> property:
    """A :class:`Detector` attribute reading ``settings.<name>``; assigning it calls :meth:`Detector.set_params` for
    runtime settings (``batch_size``, ``show_progress``) and raises ``AttributeError`` for the others."""
    f = setting_fields()[name]

    def get(self: Detector) -> Any:
        return getattr(self._settings, name)

    def put(self: Detector, value: Any) -> None:
        if f.metadata["scope"] != "runtime":
            raise AttributeError(
                f"Detector.{name} is read-only: use set_params({name}=...) (a fitted detector then needs fit() again)"
            )
        self.set_params(**{name: value})

    return property(get, put, doc=f.metadata["doc"])


class Detector:
    """Multi-stream k-NN anomalous-sound detector (see the module docstring for the scoring pipeline).

    Args:
        encoders: streams: registry names (``"logstft"``, ``"fisher"``, ``"beats"``…), MEF stream names
            (``"beats_r16"``), ``(name, options)`` tuples, :class:`StreamConfig` s or encoder objects.
        k: neighbours of the k-NN score.
        weights: fusion weight per stream name (``None`` = equal).
        rank_norm: ``"transductive"`` (rank among the clips of one call: score a whole test set at once),
            ``"inductive"`` (rank against the training clips: streaming / one clip at a time) or ``None`` (raw
            distances; ``"none"`` is the same).
        train_heads: give registry-name streams a 256-d head, and train heads / LoRA in :meth:`fit`.
        domain_policy: ``"machine"`` or ``"nearest"`` (test clips without a domain).
        ties: tie handling of the transductive rank (``"average"`` / ``"ordinal"``).
        oversample_ratio: target-domain oversampling so that source : target <= ratio : 1 (``None`` = off).
        mixup: add MemMixup rows (the bank doubles). mixup_alpha: Beta(α, α) of the mixing weight.
        mixup_stage: ``"after"`` or ``"before"`` oversampling. mixup_pairing: ``"any"`` (random pairs over the
            whole machine bank, the report's) or ``"domain"`` (pairs within a domain).
        train_machines: default training scope (machines whose clips train the streams; ``None`` = all).
        training: :class:`TrainConfig` (or a dict of its fields).
        clip_samples: every clip is fixed to this many samples at 16 kHz (scaled to the input rate) in training and,
            unless ``whole_clips``, at inference. clip_crop: ``"start"`` / ``"center"``. clip_pad: ``"tile"`` /
            ``"zeros"`` (:class:`ClipLength`).
        whole_clips: score whole clips at inference (each encoder's own long-clip handling applies).
        threshold_percentile: default decision threshold = this percentile of the fused leave-one-out training
            scores, per machine.
        seed: seeds heads, training and banks.
        index: k-NN backend of the banks' scoring (:func:`fisher.search.index.index_spec`): ``"exact"`` (float64, default),
            ``"faiss-flat"`` / ``"faiss-ivf"`` / ``"faiss-hnsw"`` (``[scale]`` extra) or a dict with options; sharded
            per domain. Leave-one-out training scores (thresholds, inductive rank) always use the exact search.
        batch_size: clips per encoder call.
        backbones: per encoder or stream name, a location or a built encoder (see :func:`build_streams`).
        device: torch device of the torch encoders and heads.
        show_progress: tqdm bars.

    Every argument is a field of :class:`DetectorSettings` (:attr:`settings`): :meth:`get_params` returns them,
    ``Detector(**d.get_params())`` rebuilds the same configuration, :meth:`set_params` changes them (see there).
    """

    def __init__(
        self,
        encoders: Sequence[Any] = ("logstft",),
        *,
        k: int = 5,
        weights: dict[str, float] | None = None,
        rank_norm: str | None = "transductive",
        train_heads: bool = False,
        domain_policy: str = "machine",
        ties: str = "average",
        oversample_ratio: float | None = 10.0,
        mixup: bool = True,
        mixup_alpha: float = 0.4,
        mixup_stage: str = "after",
        mixup_pairing: str = "any",
        clip_samples: int = 160_000,
        clip_crop: str = "start",
        clip_pad: str = "tile",
        whole_clips: bool = False,
        train_machines: Sequence[str] | None = None,
        training: TrainConfig | dict | None = None,
        threshold_percentile: float = 90.0,
        seed: int = 0,
        index: str | dict = "exact",
        batch_size: int = 8,
        backbones: dict[str, Any] | None = None,
        device: str | torch.device | None = None,
        show_progress: bool = False,
        _backbone_states: dict | None = None,
    ) -> None:
        params = {name: value for name, value in locals().items() if name in setting_fields()}
        self._backbone_states = _backbone_states
        self._apply(DetectorSettings(**params), rebuild=True)

    # ------------------------------------------------------------------ settings
    k = _setting("k")
    rank_norm = _setting("rank_norm")
    train_heads = _setting("train_heads")
    domain_policy = _setting("domain_policy")
    ties = _setting("ties")
    whole_clips = _setting("whole_clips")
    train_machines = _setting("train_machines")
    training = _setting("training")
    threshold_percentile = _setting("threshold_percentile")
    seed = _setting("seed")
    index = _setting("index")
    batch_size = _setting("batch_size")
    show_progress = _setting("show_progress")

    @property
    def settings(self) -> DetectorSettings:
        """The constructor settings (:class:`DetectorSettings`, frozen; change them with :meth:`set_params`)."""
        return self._settings

    @classmethod
    def from_settings(cls, settings: DetectorSettings | Mapping[str, Any], **overrides: Any) -> Detector:
        """A new (unfitted) detector from a :class:`DetectorSettings` or a dict of constructor keywords."""
        params = settings.params() if isinstance(settings, DetectorSettings) else dict(settings)
        return cls(**{**params, **overrides})

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The constructor keywords and their values (scikit-learn semantics): ``Detector(**d.get_params())``
        builds a detector with the same configuration (unfitted). ``deep=True`` adds ``training__<field>`` entries
        of the :class:`TrainConfig`. Lists and dicts are copies; encoder objects are not."""
        out = {k: type(v)(v) if isinstance(v, (list, dict)) else v for k, v in self._settings.params().items()}
        if deep:
            out.update({f"training__{k}": v for k, v in self.training.to_dict().items()})
        return out

    def set_params(self, **params: Any) -> Detector:
        """Change constructor settings (validated as by the constructor; nested ``training__<field>=`` too) and
        return ``self``. Unknown keywords raise ``ValueError`` naming the allowed ones; nothing changes on error.

        ``batch_size`` and ``show_progress`` change in place. Any other change returns the detector to the **unfitted**
        state a fresh ``Detector(**get_params())`` has (scikit-learn semantics: set, then refit): banks, thresholds
        and training history are dropped, and the streams are rebuilt (fresh heads / LoRA) when a stream setting
        (``encoders``, ``train_heads``, ``seed``, ``backbones``, ``device``) changes or a stream is trainable.
        """
        new = self._settings.replace(**params)
        changed = {n for n, f in setting_fields().items() if getattr(new, n) != getattr(self._settings, n)}
        scopes = {setting_fields()[n].metadata["scope"] for n in changed}
        if scopes <= {"runtime"}:
            self._settings = new
            return self
        self._apply(new, rebuild="streams" in scopes or any(s.trainable for s in self.streams.values()))
        return self

    def _apply(self, settings: DetectorSettings, *, rebuild: bool) -> None:
        """Take ``settings``, (re)build the streams if ``rebuild`` (else keep them) and drop the fitted state."""
        if rebuild:
            built = _build_streams(settings, self._backbone_states)
        else:
            built = {"weights": check_weights(settings.weights, list(self.streams))}
        self._settings = settings
        self.__dict__.update(built)
        self.clip = ClipLength(samples=settings.clip_samples, crop=settings.clip_crop, pad=settings.clip_pad)
        self._exact = is_exact_default(settings.index)
        self.bank_options = {name: getattr(settings, name) for name in BANK_OPTIONS}
        self._reset()

    def _reset(self) -> None:
        self.banks_: dict[str, dict[str, MemoryBank]] = {s: {} for s in self.streams}
        self.train_scores_: dict[str, dict[str, np.ndarray]] = {s: {} for s in self.streams}
        self.sr_: dict[str, float] = {}
        self.thresholds_: dict[str, float] = {}
        self.history_: dict[str, Any] = {}
        self.head_sr_: dict[str, float] = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_preset(
        cls,
        name: str,
        *,
        backbones: dict[str, Any] | None = None,
        checkpoints: Sequence[Any] | None = None,
        device: str | torch.device | None = None,
        **overrides: Any,
    ) -> Detector:
        """The **untrained** detector of a report system: ``"system1"`` … ``"system4"`` (aliases ``"mef6-7m"``,
        ``"mef6-12m"``, ``"mef6-hyb"``, ``"mef5-7m"``; :func:`fisher_asd.preset`). :meth:`fit` trains its heads /
        LoRA and builds the banks.

        ``backbones`` maps encoder names (``"beats"``, ``"clap"``, ``"wavlm"``, ``"ast"``) or stream names to a local
        path / hub id or a built encoder (BEATs is required: it is not on the hub); ``overrides`` replace
        constructor settings (``weights`` too).

        ``checkpoints``: fitted detectors (or their directories) whose trained streams this system shares — e.g.
        System 3 from the System-1 and System-2 detectors. Every stream then takes the head / LoRA tensors of the
        first detector holding the same checkpoint (name, kind, training scope; :mod:`.assemble`), and
        ``fit(..., train=False)`` only builds the banks. A stream found in none of them raises ``ValueError``.
        """
        from .presets import preset

        p = preset(name)
        configs = p.stream_configs()
        lacking = sorted({c.encoder for c in configs if c.location is None} - set(backbones or {}))
        if lacking:
            raise ValueError(
                f"preset {p.name!r} needs backbone weights for {lacking}: pass backbones={{'beats': "
                "'/path/to/BEATs_iter3_plus_AS2M.pt'} (BEATs is not on the Hugging Face hub)"
            )
        settings = {**p.settings, "weights": dict(p.weights), **overrides}
        det = cls(configs, backbones=backbones, device=device, **settings)
        if checkpoints is not None:
            from .assemble import load_checkpoints

            load_checkpoints(det, checkpoints, backbones=backbones)
        return det

    @classmethod
    def from_pretrained(
        cls,
        path_or_hub_id: PathLike,
        *,
        backbones: dict[str, Any] | None = None,
        device: str | torch.device | None = None,
        revision: str | None = None,
        cache_dir: PathLike | None = None,
        local_files_only: bool | None = None,
    ) -> Detector:
        """A **fitted** detector written by :meth:`save_pretrained`: a local directory or a Hugging Face hub id
        (``"org/repo"``, ``"hf-hub:org/repo@rev"``) downloaded through ``huggingface_hub`` (offline-aware:
        ``HF_HUB_OFFLINE=1`` or ``local_files_only=True`` uses the local cache only).

        ``backbones`` relocates backbone weights or supplies encoder objects. A preset name raises ``ValueError``:
        presets are untrained recipes, built with :meth:`from_preset`.
        """
        from .hub import resolve_detector
        from .persist import load_detector

        directory = resolve_detector(
            path_or_hub_id, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only
        )
        return load_detector(cls, directory, backbones=backbones, device=device)

    # ------------------------------------------------------------------ embedding
    def _embed(self, clips: list[torch.Tensor], sr: float, names: Sequence[str]) -> dict[str, np.ndarray]:
        if not self.whole_clips:
            clips = [self.clip.apply(c, sr) for c in clips]
        return embed_streams(self.streams, clips, sr, names, self.batch_size)

    def _embed_source(self, src: ClipSource, idx: Sequence[int], sr: float, names: Sequence[str]) -> dict:
        parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
        from tqdm.auto import tqdm

        for lo in tqdm(range(0, len(idx), _CHUNK), desc="embed", disable=not self.show_progress, leave=False):
            res = self._embed(src.get(idx[lo : lo + _CHUNK]), sr, names)
            for n in names:
                parts[n].append(res[n])
        return {n: np.concatenate(parts[n]) for n in names}

    def embed(self, waves: WaveLike, sr: SampleRate) -> dict[str, np.ndarray]:
        """L2-normalised stream embeddings ``{stream: float32 [B, D]}`` (``D`` = 256 for head / MEF streams)."""
        src = clip_source(waves, sr)
        sr = src.sr
        self._prepare_heads(sr)
        return self._embed_source(src, list(range(len(src))), sr, list(self.streams))

    def _prepare_heads(self, sr: float) -> None:
        for name, s in self.streams.items():
            if s.needs_head:
                s.ensure_head(sr)
                self.head_sr_[name] = sr
                if self.device is not None:
                    s.to(self.device)

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        waves: WaveLike,
        sr: SampleRate,
        *,
        machine: str | Sequence[str],
        domain: str | Sequence[str] = "source",
        train: bool = True,
        allow_missing_scope: bool = False,
    ) -> Detector:
        """Fit on normal clips: train the trainable streams (if ``train_heads``), then build the banks.

        Args:
            waves: ``[B, N]``, a list of 1-D clips or a lazy sequence of clips (e.g. :class:`ClipFiles`).
            sr: sampling rate in Hz.
            machine: machine name, one for all clips or one per clip.
            domain: domain name (``"source"`` / ``"target"`` …), one or one per clip.
            train: ``True`` drops all banks, trains the trainable streams (continuing from their current weights)
                and builds the banks of the given machines; ``False`` only (re)builds the banks of the given
                machines and keeps everything else (adding machines to a fitted detector).
            allow_missing_scope: train a stream even when machines of its training scope (``train_machines``, e.g.
                the 12 machines of a ``"12m"`` preset stream) have no clip in this call, with a ``UserWarning``;
                by default that raises ``ValueError`` (it would silently train a narrower checkpoint).
        """
        src = clip_source(waves, sr)
        sr, n = src.sr, len(src)
        machines = as_labels(machine, n, "machine")
        domains = as_labels(domain, n, "domain")
        scopes: dict[str, list[int]] = {}  # checked before any training (a loop: the warning points at the caller)
        for name, s in self.streams.items():
            if train and self.train_heads and s.trainable:
                scopes[name] = scope_clips(s.config, machines, self.train_machines, allow_missing=allow_missing_scope)
        if train:
            self._reset()
        self._prepare_heads(sr)
        if train and self.train_heads:
            for name, idx in scopes.items():
                s = self.streams[name]
                self.history_[name] = train_stream(
                    s,
                    lambda ids, idx=idx: src.get([idx[j] for j in ids]),
                    len(idx),
                    sr,
                    self.training,
                    seed=self.seed,
                    clip=self.clip,
                    show_progress=self.show_progress,
                )
        for m in dict.fromkeys(machines):
            rows = [i for i in range(n) if machines[i] == m]
            names = [s for s in self.streams if self.streams[s].config.scores_machine(m)]
            if not names:
                continue
            emb = self._embed_source(src, rows, sr, names)
            for s in names:
                rng = np.random.default_rng([self.seed, zlib.crc32(s.encode()), zlib.crc32(m.encode())])
                bank = build_bank(emb[s], [domains[i] for i in rows], rng=rng, **self.bank_options)
                if len(bank) < self.k:
                    raise ValueError(f"machine {m!r}: the bank has {len(bank)} rows, fewer than k = {self.k}")
                if not self._exact:
                    bank.attach_index(self.index)
                self.banks_[s][m] = bank
                self.train_scores_[s][m] = bank.loo_scores(self.k)
            self.sr_[m] = sr
            self.thresholds_[m] = float(np.percentile(self.training_scores(m), self.threshold_percentile))
        return self

    @property
    def machines_(self) -> list[str]:
        """Machines with a memory bank."""
        return list(self.sr_)

    def _active(self, machine: str) -> list[str]:
        return [s for s in self.streams if machine in self.banks_[s] and self.weights[s] > 0]

    def _check_machine(self, machine: str, sr: float) -> None:
        if not self.sr_:
            raise RuntimeError("the detector is not fitted: call fit() first")
        if machine not in self.sr_:
            raise ValueError(f"unknown machine {machine!r}; fitted machines: {self.machines_}")
        if sr != self.sr_[machine]:
            raise ValueError(f"machine {machine!r} was fitted at {self.sr_[machine]:g} Hz, got sr={sr:g} Hz")

    def training_scores(self, machine: str) -> np.ndarray:
        """Fused leave-one-out scores of the training clips of ``machine``, normalised as ``rank_norm`` does (both
        rank modes rank them within each training domain)."""
        parts = {
            s: normalise_training(
                self.rank_norm, self.train_scores_[s][machine], self.banks_[s][machine], ties=self.ties
            )
            for s in self._active(machine)
        }
        return fuse(parts, self.weights)

    # ------------------------------------------------------------------ scoring
    def _domains(self, machine: str, emb: dict[str, np.ndarray], given: list[Any], policy: str) -> list[Any]:
        if all(d is not None for d in given) or policy == "machine":
            return given
        names = self._active(machine)
        banks = {s: self.banks_[s][machine] for s in names}
        return infer_domains(banks, {s: self.weights[s] for s in names}, emb, self.k, given)

    def _normalise(self, s: str, machine: str, raw: np.ndarray, domains: list[Any]) -> np.ndarray:
        return normalise_scores(
            self.rank_norm, raw, domains, self.banks_[s][machine], self.train_scores_[s][machine], ties=self.ties
        )

    def score_details(
        self,
        waves: WaveLike,
        sr: SampleRate,
        *,
        machine: str | Sequence[str],
        domain: str | Sequence[str] | None = None,
        domain_policy: str | None = None,
    ) -> dict[str, Any]:
        """:meth:`score` with its intermediate values: ``{"score" [B], "domain" [B] (given or inferred, None =
        per machine), "raw" {stream: [B]}, "normalised" {stream: [B]}}`` (streams absent for a machine are NaN)."""
        policy = self.domain_policy if domain_policy is None else domain_policy
        if policy not in DOMAIN_POLICIES:
            raise ValueError(f"domain_policy must be one of {DOMAIN_POLICIES}, got {policy!r}")
        src = clip_source(waves, sr)
        sr, n = src.sr, len(src)
        machines = as_labels(machine, n, "machine")
        given = as_labels(domain, n, "domain", allow_none=True)
        score = np.full(n, np.nan)
        out_dom: list[Any] = [None] * n
        raw_all = {s: np.full(n, np.nan) for s in self.streams}
        norm_all = {s: np.full(n, np.nan) for s in self.streams}
        for m in dict.fromkeys(machines):
            self._check_machine(m, sr)
            rows = [i for i in range(n) if machines[i] == m]
            names = self._active(m)
            if self.rank_norm == "transductive":
                check_rank_partitions(m, [given[i] for i in rows])
            emb = self._embed_source(src, rows, sr, names)
            doms = self._domains(m, emb, [given[i] for i in rows], policy)
            if self.rank_norm == "transductive" and doms != [given[i] for i in rows]:
                check_rank_partitions(m, doms, inferred=True)
            parts = {}
            for s in names:
                raw = self.banks_[s][m].score(emb[s], self.k)
                parts[s] = self._normalise(s, m, raw, doms)
                raw_all[s][rows], norm_all[s][rows] = raw, parts[s]
            score[rows] = fuse(parts, self.weights)
            for i, d in zip(rows, doms):
                out_dom[i] = d
        return {"score": score, "domain": out_dom, "raw": raw_all, "normalised": norm_all}

    def score(
        self,
        waves: WaveLike,
        sr: SampleRate,
        *,
        machine: str | Sequence[str],
        domain: str | Sequence[str] | None = None,
        domain_policy: str | None = None,
    ) -> np.ndarray:
        """Anomaly scores float64 ``[B]`` (higher = more anomalous; a single 1-D clip gives ``[1]``).

        Rank normalisation (``rank_norm="transductive"``, the report's) ranks each stream's raw k-NN scores **per
        (machine, domain)** among the clips of this call, so pass all test clips of a machine at once.

        Args:
            machine: one label or one per clip.
            domain: one label or one per clip (``"source"`` / ``"target"``). A clip with ``None`` is handled by the
                domain policy.
            domain_policy: for clips without a domain (default: the detector's ``domain_policy``).
                ``"machine"``: all domain-less clips of a machine in this call form **one** group — source and
                target clips are ranked together (per machine, not per (machine, domain)). ``"nearest"``: each
                clip is assigned the domain whose bank rows are nearer (fusion-weighted mean of per-domain k-NN
                distances) and normalised in that (machine, inferred domain) group.
        """
        return self.score_details(waves, sr, machine=machine, domain=domain, domain_policy=domain_policy)["score"]

    decision_function = score

    def score_samples(
        self,
        waves: WaveLike,
        sr: SampleRate,
        *,
        machine: str | Sequence[str],
        domain: str | Sequence[str] | None = None,
        domain_policy: str | None = None,
    ) -> np.ndarray:
        """scikit-learn convention: the *negated* :meth:`score` (higher = more normal)."""
        return -self.score(waves, sr, machine=machine, domain=domain, domain_policy=domain_policy)

    # ------------------------------------------------------------------ thresholds
    def set_threshold(
        self, threshold: float | None = None, *, percentile: float | None = None, machine: str | None = None
    ) -> Detector:
        """Set the decision threshold of ``machine`` (default: every fitted machine) to a value, or to a percentile
        of the fused leave-one-out training scores (:meth:`training_scores`)."""
        if (threshold is None) == (percentile is None):
            raise ValueError("pass exactly one of threshold= (a score value) or percentile= (0-100)")
        if percentile is not None:
            percentile = check_percentile(percentile)
        if threshold is not None:
            threshold = check_threshold(threshold)
        if not self.sr_:
            raise RuntimeError("the detector is not fitted: call fit() before set_threshold()")
        targets = self.machines_ if machine is None else [machine]
        for m in targets:
            if m not in self.sr_:
                raise ValueError(f"unknown machine {m!r}; fitted machines: {self.machines_}")
            value = threshold if threshold is not None else np.percentile(self.training_scores(m), percentile)
            self.thresholds_[m] = float(value)
        return self

    def predict(
        self,
        waves: WaveLike,
        sr: SampleRate,
        *,
        machine: str | Sequence[str],
        domain: str | Sequence[str] | None = None,
        threshold: float | None = None,
        domain_policy: str | None = None,
    ) -> np.ndarray:
        """1 (anomaly) where the score exceeds the threshold (``threshold`` or the machine's ``thresholds_``), else 0;
        int8 ``[B]``."""
        fixed = None if threshold is None else check_threshold(threshold)
        s = self.score(waves, sr, machine=machine, domain=domain, domain_policy=domain_policy)
        machines = as_labels(machine, s.size, "machine")
        thr = np.array([self.thresholds_[m] if fixed is None else fixed for m in machines])
        return (s > thr).astype(np.int8)

    # ------------------------------------------------------------------ persistence
    def save_pretrained(self, directory: PathLike, *, save_backbones: str = "auto") -> Path:
        """Write ``detector.json`` + ``streams.safetensors`` + ``banks.safetensors`` (+ ``backbones.safetensors``).

        ``save_backbones``: ``"auto"`` stores frozen backbone weights only for randomly initialised encoders (built
        from a config), ``"all"`` for every torch encoder, ``"none"`` never. Returns the directory path.
        """
        from .persist import save_detector

        return save_detector(self, directory, save_backbones=save_backbones)

    def __repr__(self) -> str:
        return (
            f"Detector(streams={list(self.streams)}, k={self.k}, rank_norm={self.rank_norm!r}, "
            f"machines={self.machines_})"
        )

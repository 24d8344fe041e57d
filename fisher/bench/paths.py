"""The inference paths ``fisher bench`` times: torch fp32, ``precision="auto"``, ``precision="int8"`` and ONNX Runtime
fp32 (:class:`fisher.deploy.runtime.OnnxFisher`, only when ``onnxruntime`` and ``onnx`` import)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fisher.compute.capabilities import inference_capabilities
from fisher.model.network import Fisher

__all__ = ["BenchPath", "build_paths", "onnx_missing"]

ONNX_MODULES = ("onnxruntime", "onnx")


@dataclass(frozen=True)
class BenchPath:
    """One way to embed the benchmark batch.

    Attributes:
        name: short key (``"fp32"``, ``"auto"``, ``"int8"``, ``"onnx-fp32"``).
        label: how to use it (``precision="auto" (bf16)``, ``OnnxFisher (fp32)``).
        run: clips ``[B, N]`` float32 → embeddings ``[B, dim]``.
        approximate: a reduced precision that is not expected to match fp32 to 1e-4 (int8).
        note: what ``auto`` resolved to, the ONNX file size … (may be empty).
        same_as: the name of the path that runs the very same computation (``"fp32"`` for ``auto`` where it
            resolves to fp32): timed anyway, its spread shows the timing noise, but never recommended over it.
    """

    name: str
    label: str
    run: Callable[[np.ndarray], np.ndarray]
    approximate: bool = False
    note: str = ""
    same_as: str | None = None


def onnx_missing() -> str | None:
    """``None`` when ONNX export and ONNX Runtime can run here, else why not (the modules that fail to import)."""
    missing = []
    for name in ONNX_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if not missing:
        return None
    return f'{" and ".join(missing)} not importable (pip install "fisher-signal[onnx]")'


def _torch_paths(model: Fisher, sr: int, batch: int) -> list[BenchPath]:
    auto = inference_capabilities("cpu").auto

    def embed(precision: str) -> Callable[[np.ndarray], np.ndarray]:
        return lambda clips: np.asarray(model.embed(clips, sr, batch_size=batch, precision=precision))

    return [
        BenchPath("fp32", 'precision="fp32"', embed("fp32"), note="reference"),
        BenchPath(
            "auto",
            f'precision="auto" ({auto})',
            embed("auto"),
            note=f"resolves to {auto}" + (" here: the same computation as fp32" if auto == "fp32" else ""),
            same_as="fp32" if auto == "fp32" else None,
        ),
        BenchPath("int8", 'precision="int8"', embed("int8"), approximate=True, note="dynamic int8 linear layers"),
    ]


def _onnx_path(model: Fisher, sr: int, batch: int, threads: int, folder: Path) -> BenchPath:
    from fisher.deploy.export import export_onnx
    from fisher.deploy.runtime import OnnxFisher

    outputs = "cls" if model.config.summary == "cls" else "tokens"  # the smaller graph when the default is cls
    path = export_onnx(model, folder / "fisher-bench.onnx", outputs=outputs)
    runtime = OnnxFisher(path, threads=threads)
    return BenchPath(
        "onnx-fp32",
        "OnnxFisher (fp32)",
        lambda clips: runtime.embed(clips, sr, batch_size=batch),
        note=f"ONNX Runtime, {path.stat().st_size / 1e6:.1f} MB file, outputs={outputs}",
    )


def build_paths(
    model: Fisher, sr: int, batch: int, threads: int, folder: Path, *, onnx: bool = True
) -> tuple[list[BenchPath], dict[str, str]]:
    """The paths to time and ``{name: reason}`` of those left out (ONNX not installed or not requested).

    The ONNX file is exported into ``folder`` (a temporary directory of the caller)."""
    paths = _torch_paths(model, sr, batch)
    skipped: dict[str, str] = {}
    missing = onnx_missing() if onnx else "not requested (--no-onnx)"
    if missing is not None:
        skipped["onnx-fp32"] = missing
        return paths, skipped
    try:
        paths.append(_onnx_path(model, sr, batch, threads, folder))
    except (ImportError, RuntimeError, ValueError, OSError) as err:
        skipped["onnx-fp32"] = f"export or load failed: {(str(err).splitlines() or [''])[0][:200]}"
    return paths, skipped

"""Static int8 quantisation of an exported FISHER encoder with ONNX Runtime, calibrated on real signals.

The linear layers (``MatMul``/``Gemm``: attention projections and MLP, ~95 % of the FLOPs) get int8 weights
(per channel) and symmetric int8 activations with ranges calibrated on band images of the caller's signals (QDQ
format; symmetric activations let ONNX Runtime use its s8×s8 kernels — asymmetric ones measured slower than fp32). The
16×16 patch projection (``Conv``) stays float by default: it sees raw log-spectra, whose outliers an int8 range
clips, and it costs < 2 % of the FLOPs. Needs ``onnx`` and ``onnxruntime`` (no torch). Fidelity and speed are
measured by ``benchmarks/embed_throughput.py``; validate on your own task before deploying int8.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fisher.signals.checks import as_arrays, check_sr
from fisher.types import SampleRate, WaveLike

if TYPE_CHECKING:
    from fisher.deploy.runtime import OnnxFisher

__all__ = ["calibration_bands", "quantize_onnx_int8"]


def calibration_bands(
    model: OnnxFisher, signals: Iterable[tuple[WaveLike, SampleRate]], *, max_windows: int = 64
) -> list[np.ndarray]:
    """Band images ``[nb, T, W]`` of up to ``max_windows`` analysis windows of ``signals`` (``(wave, sr)`` pairs).

    ``model`` is an :class:`fisher.deploy.runtime.OnnxFisher` (its front end makes the windows exactly as ``embed``).
    """
    from fisher.deploy.spectrogram import split_bands_np

    out: list[np.ndarray] = []
    for wave, sr in signals:
        batch = as_arrays(wave)
        for _i, spec in model.window_spectrograms(batch.clips, check_sr(sr), single=batch.single):
            out.append(split_bands_np(spec, model.config.band_width))
            if len(out) >= max_windows:
                return out
    if not out:
        raise ValueError("calibration needs at least one signal of >= 16 STFT frames")
    return out


class _Reader:
    """``CalibrationDataReader`` over a list of band-image batches."""

    def __init__(self, name: str, batches: list[np.ndarray]) -> None:
        self._items: Iterator[np.ndarray] = iter(batches)
        self.name = name

    def get_next(self) -> dict[str, np.ndarray] | None:
        item = next(self._items, None)
        return None if item is None else {self.name: np.ascontiguousarray(item, dtype=np.float32)}

    def rewind(self) -> None:  # pragma: no cover - only used by some calibration methods
        raise NotImplementedError


def quantize_onnx_int8(
    src: str | Path,
    dst: str | Path,
    calibration: list[np.ndarray],
    *,
    keep_patch_float: bool = True,
    per_channel: bool = True,
) -> Path:
    """Write a statically quantised (QDQ, int8) copy of the fp32 ONNX encoder ``src`` to ``dst`` (atomically).

    Args:
        src: fp32 ``.onnx`` from :func:`fisher.export_onnx`.
        dst: destination ``.onnx``; loads with :class:`fisher.OnnxFisher` like the fp32 file.
        calibration: band-image batches ``[nb, T, W]`` float32 (see :func:`calibration_bands`).
        keep_patch_float: leave the patch projection (``Conv``) in float (recommended).
        per_channel: per-output-channel weight scales (better fidelity, same speed).
    """
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from fisher.files import atomic_write_path

    if not calibration:
        raise ValueError("calibration is empty: pass band images from calibration_bands(...)")
    src, dst = Path(src), Path(dst)
    name = onnx.load(str(src), load_external_data=False).graph.input[0].name
    reader = type("FisherCalibration", (_Reader, CalibrationDataReader), {})(name, list(calibration))
    ops = ["MatMul", "Gemm"] if keep_patch_float else ["MatMul", "Gemm", "Conv"]
    with tempfile.TemporaryDirectory() as tmp:
        prepared = os.path.join(tmp, "prepared.onnx")
        quant_pre_process(str(src), prepared, skip_symbolic_shape=True)

        def write(out: str) -> None:
            quantize_static(
                prepared,
                out,
                reader,
                quant_format=QuantFormat.QDQ,
                op_types_to_quantize=ops,
                per_channel=per_channel,
                activation_type=QuantType.QInt8,
                weight_type=QuantType.QInt8,
                extra_options={"ActivationSymmetric": True},
            )
            model = onnx.load(out)
            meta = {p.key: p.value for p in onnx.load(str(src), load_external_data=False).metadata_props}
            onnx.helper.set_model_props(
                model, {**{p.key: p.value for p in model.metadata_props}, **meta, "fisher_precision": "int8"}
            )
            onnx.save(model, out)

        dst.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_path(dst, write)
    return dst

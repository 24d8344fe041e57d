"""Export the FISHER band encoder to ONNX: band images ``[S, T, W]`` → CLS vectors ``[S, D]``.

The graph holds only the encoder (patch conv, positional code, CLS, LayerNorm, blocks); the waveform front end
(validation, windows, STFT, band split, pooling) is done outside the graph by :class:`fisher.deploy.runtime.OnnxFisher`
in numpy, so the exported file plus numpy/scipy/onnxruntime is a complete torch-free runtime. ``S`` (band sequences)
and ``T`` (frames, 16…1024) are dynamic axes. The model's :class:`~fisher.model.config.FisherConfig` is stored in the ONNX
metadata (key ``fisher_config``) so that the runtime knows the STFT, band width and normalisation.

Uses torch's TorchScript-based exporter (``dynamo=False``), which needs neither ``onnx`` nor ``onnxscript``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from fisher.files import atomic_write_path

__all__ = ["METADATA_KEY", "OPSET", "export_onnx"]

METADATA_KEY = "fisher_config"
OPSET = 17  # LayerNormalization is a native op from opset 17
INPUT_NAME, OUTPUT_NAME = "bands", "cls"


def _add_metadata(path: str, config_json: str) -> None:
    """Append ``fisher_config`` to the ONNX model's ``metadata_props`` (raw protobuf field 14, no ``onnx`` needed)."""

    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    def field(number: int, payload: bytes) -> bytes:
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    entry = field(1, METADATA_KEY.encode()) + field(2, config_json.encode())  # StringStringEntryProto key, value
    with open(path, "ab") as fh:  # protobuf messages concatenate: appending adds one repeated field
        fh.write(field(14, entry))


def export_onnx(model: torch.nn.Module, path: str | Path, *, opset: int = OPSET) -> Path:
    """Write ``model``'s band encoder to ``path`` (atomically) as a single self-contained ONNX file.

    Args:
        model: a :class:`fisher.Fisher` (any device/dtype; exported as float32 on the CPU, weights unchanged).
        path: destination ``.onnx`` file.
        opset: ONNX opset version (≥ 17).
    Returns:
        ``path``. Load it with ``fisher.OnnxFisher(path)``.
    """
    from fisher.model.network import Fisher

    if not isinstance(model, Fisher):
        raise TypeError(f"model must be a fisher.Fisher, got {type(model).__name__}")
    if isinstance(opset, bool) or not isinstance(opset, int) or opset < 17:
        raise ValueError(f"opset must be an integer >= 17 (native LayerNormalization), got {opset!r}")
    path = Path(path)
    cfg = model.config
    cpu = Fisher(cfg)
    cpu.load_state_dict({k: v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()})
    example = torch.zeros(2, 2 * cfg.patch_size, cfg.band_width)

    def write(tmp: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python-side shape checks in forward()
            torch.onnx.export(
                cpu,
                (example,),
                tmp,
                dynamo=False,
                opset_version=opset,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                do_constant_folding=True,
                dynamic_axes={INPUT_NAME: {0: "S", 1: "T"}, OUTPUT_NAME: {0: "S"}},
            )
        _add_metadata(tmp, json.dumps({"model_type": "fisher", **cfg.to_dict()}, sort_keys=True))

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_path(path, write)
    return path

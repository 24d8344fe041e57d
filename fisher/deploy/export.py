"""Export the FISHER band encoder to ONNX: band images ``[S, T, W]`` → last block output tokens ``[S, 1 + N, D]``.

The graph returns every output token (token 0 = CLS, then the ``N = Tp·Fp`` patch tokens, time-major), so one file
serves every per-band summary (``"cls"``, ``"mean"``, ``"freq"`` and their combinations): :class:`OnnxFisher`
computes the summary in numpy exactly like :meth:`fisher.Fisher.summarise`.

The graph holds only the encoder (patch conv, positional code, CLS, LayerNorm, blocks); the waveform front end
(validation, windows, STFT, band split, pooling) is done outside the graph by :class:`fisher.deploy.runtime.OnnxFisher`
in numpy, so the exported file plus numpy/scipy/onnxruntime is a complete torch-free runtime. ``S`` (band sequences)
and ``T`` (frames, 16…1024) are dynamic axes. The model's :class:`~fisher.recipe.fisher_config.FisherConfig` is stored in the ONNX
metadata (key ``fisher_config``) so that the runtime knows the STFT, band width, normalisation and default summary;
key ``fisher_outputs`` (JSON ``{"outputs": "tokens", "freq_patches": Fp, ...}``) describes the output. Files exported
before that key existed return the CLS vectors ``[S, D]`` only (they still load, for ``summary="cls"`` only).

``export_onnx(model, path, outputs="cls")`` writes a smaller graph for ``summary="cls"`` only: band images → CLS
vectors ``[S, D]``, the last block computed for the CLS token alone (as ``Fisher.embed`` does under inference mode;
8–10 % less work at 10 s), metadata ``{"outputs": "cls"}``.

Uses torch's TorchScript-based exporter (``dynamo=False``), which needs neither ``onnx`` nor ``onnxscript``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from fisher.files import atomic_write_path

__all__ = ["METADATA_KEY", "OPSET", "OUTPUTS_KEY", "export_onnx"]

METADATA_KEY = "fisher_config"
OUTPUTS_KEY = "fisher_outputs"  # absent in files of older versions, whose single output is CLS [S, D]
OPSET = 17  # LayerNormalization is a native op from opset 17
INPUT_NAME, OUTPUT_NAME = "bands", "tokens"


OUTPUTS = ("tokens", "cls")


class _ClsEncoder(torch.nn.Module):
    """Band images ``[S, T, W]`` → CLS vectors ``[S, D]``, the last block for the CLS token alone."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, bands: torch.Tensor) -> torch.Tensor:
        from fisher.model.inference_path import last_block_cls_batched

        m = self.model
        tokens = m.patch_tokens(bands)
        cls = m.cls_token.to(tokens.dtype).expand(tokens.shape[0], 1, -1)
        x = m.context_norm(torch.cat([cls, tokens], dim=1))
        for block in m.blocks[:-1]:
            x = block(x)
        return last_block_cls_batched(m.blocks[-1], x)


class _TokenEncoder(torch.nn.Module):
    """Band images ``[S, T, W]`` → last block output ``[S, 1 + N, D]`` of a :class:`fisher.Fisher` (no summary)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, bands: torch.Tensor) -> torch.Tensor:
        return self.model.encode_tokens(self.model.patch_tokens(bands))


def _add_metadata(path: str, props: dict[str, str]) -> None:
    """Append ``props`` to the ONNX model's ``metadata_props`` (raw protobuf field 14, no ``onnx`` needed)."""

    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    def field(number: int, payload: bytes) -> bytes:
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    entries = (field(1, k.encode()) + field(2, v.encode()) for k, v in props.items())  # StringStringEntryProto
    with open(path, "ab") as fh:  # protobuf messages concatenate: appending adds one repeated field per entry
        fh.writelines(field(14, entry) for entry in entries)


def export_onnx(model: torch.nn.Module, path: str | Path, *, outputs: str = "tokens", opset: int = OPSET) -> Path:
    """Write ``model``'s band encoder to ``path`` (atomically) as a single self-contained ONNX file.

    The graph maps band images ``[S, T, W]`` to the last block's output tokens ``[S, 1 + N, D]`` (dynamic ``S``
    and ``T``), so the file serves every ``summary`` of :meth:`fisher.OnnxFisher.embed`; the model's
    ``config.summary`` is stored as the file's default.

    Args:
        model: a :class:`fisher.Fisher` (any device/dtype; exported as float32 on the CPU, weights unchanged).
        path: destination ``.onnx`` file.
        outputs: ``"tokens"`` (default: every token, every summary) or ``"cls"`` (CLS vectors ``[S, D]`` only, the
            last block computed for the CLS token alone: faster, ``summary="cls"`` only).
        opset: ONNX opset version (≥ 17).
    Returns:
        ``path``. Load it with ``fisher.OnnxFisher(path)``.
    """
    from fisher.model.network import Fisher

    if not isinstance(model, Fisher):
        raise TypeError(f"model must be a fisher.Fisher, got {type(model).__name__}")
    if not isinstance(outputs, str) or outputs not in OUTPUTS:
        raise ValueError(f"outputs must be one of {OUTPUTS} (every token, or the CLS vectors only), got {outputs!r}")
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
                (_TokenEncoder if outputs == "tokens" else _ClsEncoder)(cpu).eval(),
                (example,),
                tmp,
                dynamo=False,
                opset_version=opset,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                do_constant_folding=True,
                dynamic_axes={
                    INPUT_NAME: {0: "S", 1: "T"},
                    OUTPUT_NAME: {0: "S", 1: "tokens"} if outputs == "tokens" else {0: "S"},
                },
            )
        layout = (
            "[S, 1 + Tp*Fp, D]: token 0 = CLS, then patches time-major (Tp time x Fp frequency)"
            if outputs == "tokens"
            else "[S, D]: the CLS vector of each band sequence"
        )
        stored = cfg.to_dict() | ({"summary": "cls"} if outputs == "cls" else {})  # the file's default summary
        info = {"outputs": outputs, "layout": layout, "freq_patches": cfg.freq_patches, "embed_dim": cfg.embed_dim}
        _add_metadata(
            tmp,
            {
                METADATA_KEY: json.dumps({"model_type": "fisher", **stored}, sort_keys=True),
                OUTPUTS_KEY: json.dumps(info, sort_keys=True),
            },
        )

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_path(path, write)
    return path

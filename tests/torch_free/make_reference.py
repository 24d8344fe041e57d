"""CI, torch side: export the official-format fixture models to ONNX and save reference features from Fisher.embed.

Usage: ``python tests/torch_free/make_reference.py OUT_DIR`` → ``OUT_DIR/{tiny,small}.onnx`` and
``OUT_DIR/reference.npz`` (waveforms, rates and ``Fisher.embed`` features: default, ``pool="none"`` with padding,
``summary="cls+mean"``). ``check_torch_free.py`` then runs in a venv without torch and compares. Reads the parity
fixtures from ``$FISHER_SHARED/fixtures/fisher_official``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from fisher import Fisher, export_onnx

CLIPS = ["sines_sr16000_3s", "sines_sr44100_12s", "sines_sr2000_3s", "sines_sr16000_0.2s", "sines_sr8000_3s"]


def main(out: Path) -> None:
    root = Path(os.environ.get("FISHER_SHARED", Path(__file__).resolve().parents[3] / "shared"))
    root = root / "fixtures" / "fisher_official"
    manifest = json.loads((root / "manifest.json").read_text())
    inputs = np.load(root / "inputs.npz")
    out.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for cid in CLIPS:
        storage = manifest["clips"][cid]["wav_storage"]
        name, _, stop = storage.partition("[")
        wave = inputs[name][: int(stop.strip(":]"))] if stop else inputs[name]
        arrays[f"wave__{cid}"] = wave  # int16 PCM: the runtime scales it like Fisher.embed does
        arrays[f"sr__{cid}"] = np.asarray(manifest["clips"][cid]["sr"])
    for scale in ("tiny", "small"):
        model = Fisher.from_pretrained(root / f"ckpt_{scale}_d2.pt.xz")
        export_onnx(model, out / f"{scale}.onnx")
        for cid in CLIPS:
            wave, sr = arrays[f"wave__{cid}"], int(arrays[f"sr__{cid}"])
            arrays[f"feat__{scale}__{cid}"] = model.embed(wave, sr)
            arrays[f"feat_none__{scale}__{cid}"] = model.embed(wave, sr, pool="none", pad_frames=True)
            arrays[f"feat_clsmean__{scale}__{cid}"] = model.embed(wave, sr, summary="cls+mean")
    np.savez(out / "reference.npz", **arrays)
    print(f"wrote {out}: {len(CLIPS)} clips x 2 models")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

"""CI, torch-free side: run in a venv with only numpy, scipy, soundfile, onnxruntime (+ the fisher wheel, no deps).

Usage: ``python check_torch_free.py DIR`` where DIR comes from ``make_reference.py``. Asserts that torch is not
installed, that ``OnnxFisher`` reproduces the torch features within 1e-4 (default CLS, ``pool="none"`` and
``summary="cls+mean"``, computed from the exported tokens), and that torch was never imported.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

TOL = 1e-4


def main(folder: Path) -> int:
    if importlib.util.find_spec("torch") is not None:
        print("error: torch is installed in this environment; this check must run without it", file=sys.stderr)
        return 2
    import fisher

    ref = np.load(folder / "reference.npz")
    clips = sorted(k[len("wave__") :] for k in ref.files if k.startswith("wave__"))
    worst = 0.0
    for scale in ("tiny", "small"):
        model = fisher.OnnxFisher(folder / f"{scale}.onnx")
        for cid in clips:
            wave, sr = ref[f"wave__{cid}"], int(ref[f"sr__{cid}"])
            for key, kwargs in (
                (f"feat__{scale}__{cid}", {}),
                (f"feat_none__{scale}__{cid}", {"pool": "none", "pad_frames": True}),
                (f"feat_clsmean__{scale}__{cid}", {"summary": "cls+mean"}),  # summaries from the exported tokens
            ):
                out = model.embed(wave, sr, **kwargs)
                diff = float(np.abs(out - ref[key]).max()) if out.shape == ref[key].shape else float("inf")
                worst = max(worst, diff)
                print(f"{scale:5} {cid:22} {kwargs!s:38} shape {out.shape} max|diff| {diff:.2e}")
    caps = fisher.inference_capabilities()
    print(f"auto precision here: {caps.auto} ({caps.reasons['bf16']})")
    if "torch" in sys.modules:
        print("error: torch was imported", file=sys.stderr)
        return 1
    print(f"torch-free OnnxFisher ok: worst max|diff| {worst:.2e} (tolerance {TOL:g}), torch never imported")
    return 0 if worst <= TOL else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))

"""Bit-exactness check for refactors: embed a fixed grid of inputs with one checkout, then compare two checkouts.

Tiny and small (depth 2, random weights, seed 0) at 8 / 16 / 44.1 kHz; every summary × pool, truncate + pad_frames,
torch input, one clip, and ``embed_file`` (windows + mean) — 102 arrays. Usage::

    PYTHONPATH=/path/to/old python benchmarks/refactor_parity.py old.npz
    PYTHONPATH=/path/to/new python benchmarks/refactor_parity.py new.npz
    python benchmarks/refactor_parity.py --compare old.npz new.npz     # lists every array that differs
"""

import sys
import tempfile
import warnings

import numpy as np

if sys.argv[1:2] == ["--compare"]:
    a, b = np.load(sys.argv[2]), np.load(sys.argv[3])
    bad = [(k, float(np.abs(a[k] - b[k]).max())) for k in a if not np.array_equal(a[k], b[k])]
    print(f"{len(a)} arrays; differing: {bad}")
    sys.exit(1 if bad else 0)

import soundfile as sf
import torch

from fisher import Fisher, FisherConfig

warnings.simplefilter("ignore")
tmp = tempfile.mkdtemp()
out = {}
rng = np.random.default_rng(0)
for scale in ("tiny", "small"):
    torch.manual_seed(0)
    m = Fisher(FisherConfig.preset(scale, depth=2))
    for sr in (8000, 16000, 44100):
        clips = [
            (0.1 * rng.standard_normal(n)).astype(np.float32) for n in (int(0.5 * sr), int(12.5 * sr), int(3 * sr))
        ]
        for summary in ("cls", "mean", "freq", "cls+mean"):
            for pool in ("concat", "mean", "none"):
                out[f"{scale}-{sr}-{summary}-{pool}"] = m.embed(clips, sr, pool=pool, summary=summary, batch_size=3)
        out[f"{scale}-{sr}-trunc-pad"] = m.embed(clips, sr, long="truncate", pad_frames=True)
        out[f"{scale}-{sr}-torch"] = m.embed(torch.from_numpy(np.stack([c[: sr // 2] for c in clips])), sr).numpy()
        out[f"{scale}-{sr}-single"] = m.embed(clips[1], sr)
        sf.write(f"{tmp}/par_{sr}.wav", clips[1], sr, subtype="FLOAT")
        fe = m.embed_file(f"{tmp}/par_{sr}.wav", batch_size=2)
        out[f"{scale}-{sr}-file-win"] = fe.windows
        out[f"{scale}-{sr}-file-emb"] = fe.embedding
np.savez(sys.argv[1], **out)

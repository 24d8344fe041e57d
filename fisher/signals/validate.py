"""Validation and conversion of user waveforms into torch tensors.

Every public entry point that takes signals (``fisher.spectrogram``, ``Fisher.embed``, the encoders and detectors of
``fisher_asd``) goes through :func:`as_clips` so that bad input fails early with a precise message instead of deep
inside torch. The checks themselves live in the torch-free :mod:`fisher.signals.checks` (shared with the ONNX runtime);
this module only converts the validated arrays to tensors. Conventions (clips, batches, PCM scaling) are documented
there.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fisher.signals.checks import as_arrays, as_sequence, check_sr, pcm_to_float
from fisher.types import WaveLike

__all__ = ["Clips", "as_clips", "as_sequence", "check_sr", "pcm_to_float"]


@dataclass
class Clips:
    """A validated batch of clips.

    Attributes:
        clips: list of 1-D float32 tensors (samples), one per clip, possibly of different lengths; on the device of
            the input tensor (CPU for numpy input).
        single: the input was one 1-D clip (the caller should drop the batch axis of its result).
        torch_input: the input was a torch tensor (the caller should return torch tensors).
    """

    clips: list[torch.Tensor]
    single: bool
    torch_input: bool


def as_clips(wave: WaveLike) -> Clips:
    """Validate ``wave`` (see :func:`fisher.signals.checks.as_arrays`) → a list of 1-D float32 tensors.

    Accepts a 1-D array/tensor (one clip), a 2-D ``[B, N]`` array/tensor, or a list/tuple of 1-D arrays/tensors
    (lengths may differ). Raises ``TypeError`` for non-numeric data and ``ValueError`` for empty input, NaN/inf
    samples or more than 2 dimensions.
    """
    arrays = as_arrays(wave)
    clips = [torch.from_numpy(a) for a in arrays.clips]
    if arrays.sources:
        devices = [s.device for s in arrays.sources]
        if len(devices) == 1:
            devices = devices * len(clips)
        clips = [c if d.type == "cpu" else c.to(d) for c, d in zip(clips, devices)]
    return Clips(clips, single=arrays.single, torch_input=arrays.torch_input)

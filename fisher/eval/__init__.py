"""Judging embeddings: the encoder protocol, metrics, the DCASE and RMIS protocols, datasets and the log-STFT baseline.

Importing any part of ``fisher.eval`` fills the encoder registry (:mod:`fisher.eval.encoder_registry`) with
``fisher``'s own encoders (``fisher``, ``logstft``, ``random-tiny|mini|small``), registered by
:mod:`fisher.eval.encoders` (torch-free at import).
"""

from fisher.eval import encoders as _encoders  # noqa: F401  (registers the built-in encoders)

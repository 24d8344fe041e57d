"""Judging embeddings: the encoder protocol, metrics, the DCASE and RMIS protocols, datasets and the log-STFT baseline."""

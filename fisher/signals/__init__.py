"""Signals in: validation of waveforms, the one file reader, the one resampler, synthetic test signals.

No module here imports the model; everything downstream (model, inference, eval, pretrain, fisher_asd) reads and
resamples through this package."""

"""The embedding recipe, torch-free: what a FISHER model is (:mod:`~fisher.recipe.fisher_config`), how a clip is
framed (:mod:`~fisher.recipe.framing`: STFT sizes, bands, analysis windows), and the one driver that windows,
batches, accumulates and pools clips (:mod:`~fisher.recipe.plan`) or long files (:mod:`~fisher.recipe.long_files`)
for any backend that encodes band images — :class:`fisher.Fisher` (torch) and :class:`fisher.OnnxFisher`
(ONNX Runtime)."""

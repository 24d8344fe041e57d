"""Deploying without PyTorch: ONNX export of the band encoder (``export``, needs torch), int8 quantisation with ONNX
Runtime (``quantize``), and :class:`~fisher.deploy.runtime.OnnxFisher` (``runtime``) with a numpy spectrogram
(``spectrogram``) — the runtime side imports only numpy, scipy and onnxruntime."""

"""The FISHER network: configuration, STFT sub-band tokenizer (``bands``), ViT blocks and the ``Fisher`` module.

Data flow: wave → :mod:`fisher.model.bands` (STFT, sub-bands) → :mod:`fisher.model.network` (ViT per band → CLS)."""

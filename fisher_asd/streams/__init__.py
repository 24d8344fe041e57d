"""Streams = encoder (+ LoRA) → pooled vector → head; the six MEF streams with shared-prefix inference (``mef``)."""

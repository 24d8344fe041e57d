"""Trainable parts on frozen encoders: LoRA adapters and projection heads."""

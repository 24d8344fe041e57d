"""Getting weights: the pretrained-model registry, name resolution, checkpoint reading / writing and legacy key maps."""

"""Using the model: the embedding recipe (windows, batching, pooling), long files in bounded memory, precision, many files."""

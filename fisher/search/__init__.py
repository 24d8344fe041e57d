"""Vector search: exact chunked k-NN, one index interface with exact / FAISS / sharded backends.

Importing the package registers every index backend with :func:`fisher.search.index.register_backend` (the base
module never imports its implementations).
"""

from fisher.search import faiss_index, sharded

__all__ = ["faiss_index", "sharded"]

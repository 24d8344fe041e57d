"""fisher_asd: multi-encoder machine anomalous-sound detection."""

from __future__ import annotations

from fisher import __version__

__all__ = ["__version__"]

"""The ``streams`` subpackage."""

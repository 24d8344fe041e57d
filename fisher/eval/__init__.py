"""The ``eval`` subpackage."""

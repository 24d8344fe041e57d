"""The ``model`` subpackage."""

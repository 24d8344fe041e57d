"""The ``search`` subpackage."""

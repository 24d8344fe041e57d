"""The ``inference`` subpackage."""

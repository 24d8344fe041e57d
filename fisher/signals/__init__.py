"""The ``signals`` subpackage."""

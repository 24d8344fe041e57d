"""The ``adapters`` subpackage."""

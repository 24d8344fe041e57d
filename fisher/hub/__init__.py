"""The ``hub`` subpackage."""

"""The package version, in a leaf module so that code inside ``fisher`` never imports the package root."""

__version__ = "0.1.0"

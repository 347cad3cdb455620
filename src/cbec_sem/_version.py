"""The package version (one home: the package root, the summaries and the CLI read it)."""

__version__ = "0.1.0"

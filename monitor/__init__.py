"""A daemon that watches news feeds for humanitarian emergencies and alerts the right people."""

__version__ = "0.1.0"

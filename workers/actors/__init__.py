"""Importing this package declares every actor on the current broker."""

from workers.actors import system

__all__ = ["system"]

"""newsroom: a press-release newsroom on Pelican. `register` is the Pelican plugin entry point."""

from .plugin import register

__all__ = ["register"]

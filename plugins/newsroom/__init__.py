"""newsroom: a press-release newsroom on Pelican. `register` is the Pelican plugin entry point."""

from newsroom.site.plugin import register

__all__ = ["register"]

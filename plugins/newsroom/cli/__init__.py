"""The `newsroom` command: check, build, publish and run the services, with messages for writers and exit codes 0/1/2."""

from newsroom.cli.main import main

__all__ = ["main"]

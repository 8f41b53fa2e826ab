"""The log of a process that runs for months (the publisher, the subscription service, the desk) keeps every line."""

from __future__ import annotations

import logging


def keep_every_line(prefix: str = "newsroom") -> None:
    """Stop dropping repeated messages on every logger under `prefix` made so far.

    Pelican makes each logger created after it loads skip a message it has logged once before (its LimitFilter,
    meant to keep one build's warnings short). In a service that hid the second "Sent 3 email(s)", the second
    "Published ..." and every warning after its first. Call it once the service's modules are imported.
    """
    loggers = logging.Logger.manager.loggerDict
    for name in [prefix, *(n for n in loggers if n.startswith(f"{prefix}."))]:
        # Pelican's LimitLogger has disable_filter: found without importing Pelican into core
        disable = getattr(logging.getLogger(name), "disable_filter", None)
        if disable is not None:
            disable()

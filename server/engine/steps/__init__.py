"""One module per step kind; importing this package registers them all.

A kind module may define its own commands and events, handle them with
`registry.handles`, fold them with `registry.applies`, and react to its step
being entered with `registry.on_enter(kind)`.
"""

from server.engine.steps import round as round

__all__ = ["round"]

"""Plant scale: the timed root architecture and models that grow it."""

from .root_system import RootSystem

__all__ = ["RootSystem"]

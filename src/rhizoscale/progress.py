"""Progress reporting decoupled from the physics.

Models and solvers never draw progress bars: long computations accept an optional
``callback(done, total)``. A :class:`ProgressReporter` turns those calls into whatever
the front end wants (rich progress bars in the CLI, nothing in a library call).
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Protocol

__all__ = ["ProgressReporter", "NullProgress", "Callback"]

Callback = Callable[[float, float], None]


class ProgressReporter(Protocol):
    def task(self, description: str, total: float | None = None) -> contextlib.AbstractContextManager[Callback]:
        """Context manager yielding a ``callback(done, total)`` for one step of a run."""

    def message(self, text: str) -> None:
        """A one-line message (warnings, figures that were measured)."""


class NullProgress:
    """Reports nothing (library use, tests)."""

    @contextlib.contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[Callback]:
        yield lambda done, total=None: None

    def message(self, text: str) -> None:
        pass

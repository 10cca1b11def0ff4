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
    """What runs report progress to: tasks with a ``callback(done, total)``, and messages.

    A structural type: the command line's rich progress bars and :class:`NullProgress`
    are reporters without inheriting from it.

    Examples
    --------
    >>> import contextlib
    >>> class Printer:
    ...     @contextlib.contextmanager
    ...     def task(self, description, total=None):
    ...         yield lambda done, total=total: print(f"{description}: {done:g}/{total:g}")
    ...     def message(self, text):
    ...         print(text)
    >>> reporter: ProgressReporter = Printer()
    >>> with reporter.task("diffusion", total=2.0) as cb:
    ...     cb(1.0)
    ...     cb(2.0)
    diffusion: 1/2
    diffusion: 2/2
    """

    def task(self, description: str, total: float | None = None) -> contextlib.AbstractContextManager[Callback]:
        """Context manager yielding a ``callback(done, total)`` for one step of a run."""

    def message(self, text: str) -> None:
        """A one-line message (warnings, figures that were measured)."""


class NullProgress:
    """Reports nothing (library use, tests).

    Examples
    --------
    >>> progress = NullProgress()
    >>> with progress.task("solve", total=10) as cb:
    ...     cb(5, 10)                     # does nothing
    >>> progress.message("done")
    """

    @contextlib.contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[Callback]:
        yield lambda done, total=None: None

    def message(self, text: str) -> None:
        pass

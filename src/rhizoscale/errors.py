"""Errors that rhizoscale reports to users.

A :class:`RhizoscaleError` is a problem with the user's input (a file, a field, a
value), not a bug: the command line prints its message alone, without a traceback,
and exits with a non-zero status. Each message names the file and the field when it
knows them, so that the user can find what to fix.
"""

from __future__ import annotations

__all__ = ["RhizoscaleError", "InputError", "ResourceError"]


class RhizoscaleError(Exception):
    """Base class of the errors meant for users (printed without a traceback)."""


class InputError(RhizoscaleError, ValueError):
    """Bad input: a malformed file, a missing or invalid field, a physically wrong value.

    Parameters
    ----------
    message : str
        What is wrong, in the user's terms.
    source : str or path, optional
        The file (or object) the value came from.
    field : str, optional
        The field, key or element inside ``source``, dotted for nested fields
        (``"root_types[1].lmax"``).
    """

    def __init__(self, message: str, *, source: object | None = None, field: str | None = None):
        self.message = message
        self.source = None if source is None else str(source)
        self.field = field
        parts = [p for p in (self.source, field) if p]
        super().__init__(": ".join(parts + [message]))


class ResourceError(RhizoscaleError):
    """A request that would exceed the memory or time the machine has (with an estimate).

    Parameters
    ----------
    message : str
        The estimate, the limit and a suggestion, in the user's terms.
    source : str or path, optional
        The scenario file.
    field : str, optional
        The scenario field to change (dotted for nested fields, ``"grid.resolution"``).
    """

    def __init__(self, message: str, *, source: object | None = None, field: str | None = None):
        self.message = message
        self.source = None if source is None else str(source)
        self.field = field
        parts = [p for p in (self.source, field) if p]
        super().__init__(": ".join(parts + [message]))

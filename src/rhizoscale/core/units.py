"""Units shared by every layer: one conversion of each kind, written once.

rhizoscale computes in cm, d and µg unless a case study's literature uses others (case
study 2: µmol, cm, s; case study 3: µg, cm, s); conversions happen at the edges with
these constants. Memory is counted in GiB (2**30 bytes) everywhere: limits in scenarios
(``memory_limit_gb``), estimates in summaries and refusals.

>>> 2 * SECONDS_PER_DAY
172800.0
>>> round(to_gib(3 * GIB), 3)
3.0
"""

from __future__ import annotations

__all__ = ["SECONDS_PER_DAY", "SECONDS_PER_HOUR", "GIB", "to_gib", "from_gib"]

#: seconds in a day [s d-1]
SECONDS_PER_DAY = 86400.0
#: seconds in an hour [s h-1]
SECONDS_PER_HOUR = 3600.0
#: bytes in a GiB (memory limits and estimates are in GiB throughout)
GIB = 2 ** 30


def to_gib(n_bytes: float) -> float:
    """Bytes -> GiB (``2**30`` bytes).

    Parameters
    ----------
    n_bytes : float
        A number of bytes.

    Returns
    -------
    float
        The same in GiB.

    Examples
    --------
    >>> to_gib(3 * 2**30), to_gib(1e9)
    (3.0, 0.9313225746154785)
    """
    return float(n_bytes) / GIB


def from_gib(gib: float) -> float:
    """GiB -> bytes (``2**30`` bytes per GiB).

    Parameters
    ----------
    gib : float
        A memory size in GiB.

    Returns
    -------
    float
        The same in bytes.

    Examples
    --------
    >>> from_gib(0.5)
    536870912.0
    """
    return float(gib) * GIB

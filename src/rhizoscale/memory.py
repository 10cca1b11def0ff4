"""Peak-memory estimates made before a run allocates anything big, and the refusal.

Every case study has a function ``estimate_memory(config) -> MemoryEstimate`` that
counts, from the scenario alone, the arrays its run holds at its peak (bytes per grid
cell or voxel times the number of cells, per segment, per sample point, plus a fixed
allowance for libraries and figures). The estimates were calibrated against the
measured peak resident memory of runs at two sizes (docs/memory.md). The case's
``run(config, ctx)`` calls :func:`check_memory` before its first expensive step: a run
that would not fit is refused with a :class:`~rhizoscale.errors.ResourceError` naming
the scenario field to change and a value that would fit, instead of dying minutes later
with a ``MemoryError`` (or being killed by the operating system).

Units: **GiB = 2**30 bytes** everywhere (the scenario keys ``memory_limit_gb`` are GiB).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .core.units import GIB
from .errors import ResourceError

__all__ = ["GIB", "MIB", "MemoryEstimate", "available_memory", "check_memory", "record_estimate",
           "largest_fitting", "round_nice"]

MIB = 2**20

#: libraries loaded during a run (matplotlib, the figures, numba's runtime) [bytes];
#: measured: 40-150 MiB above the memory of an imported rhizoscale
BASE_ALLOWANCE = 128 * MIB
#: the same with the threaded multigrid kernels of case studies 3 and 4 loaded [bytes]
#: (measured: about 170 MiB)
KERNEL_ALLOWANCE = 192 * MIB


@dataclass
class MemoryEstimate:
    """Estimated peak memory of a run, above what the process holds when it starts.

    Attributes
    ----------
    parts : dict of str -> float
        Bytes of each part at the peak (``"3D soil fields": 1.2e9``); their sum is the
        estimate.
    field : str
        The scenario field that changes the estimate most (dotted when nested).
    suggest : callable(limit_bytes) -> str, optional
        A suggestion that fits within ``limit_bytes`` ("use grid.resolution: 0.2 (about
        3.1 GiB)").
    note : str
        What the estimate does not cover yet (e.g. parts known only once the root
        system has grown).

    Examples
    --------
    >>> est = MemoryEstimate({"3D soil fields": 3 * GIB, "cylinders": 1 * GIB},
    ...                      field="grid.resolution")
    >>> est.total, est.gib
    (4294967296.0, 4.0)
    >>> est.describe()
    '4 GiB (3D soil fields 3 GiB, cylinders 1 GiB)'
    """

    parts: dict[str, float]
    field: str
    suggest: Callable[[float], str] | None = None
    note: str = ""

    @property
    def total(self) -> float:
        """Estimated peak [bytes]."""
        return float(sum(self.parts.values()))

    @property
    def gib(self) -> float:
        """Estimated peak [GiB]."""
        return self.total / GIB

    def describe(self) -> str:
        """``"4.2 GiB (3D soil fields 3.1 GiB, cylinders 0.9 GiB, ...)"``, largest parts first."""
        parts = sorted(self.parts.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{k} {_gib(v)}" for k, v in parts if v >= 0.01 * self.total)
        return f"{_gib(self.total)} ({shown})"


def _gib(nbytes: float) -> str:
    g = nbytes / GIB
    return f"{g:.3g} GiB" if g < 10 else f"{g:.0f} GiB"


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_memory() -> int | None:
    """Memory this process can still allocate without swapping [bytes] (None: unknown).

    Linux: ``MemAvailable`` of ``/proc/meminfo`` (free memory plus caches the kernel can
    drop), lowered to what a cgroup memory limit (containers, batch jobs) leaves. Other
    POSIX systems: free pages (``os.sysconf('SC_AVPHYS_PAGES')``).

    Returns
    -------
    int or None
        Bytes; None where the system does not tell.

    Examples
    --------
    >>> free = available_memory()
    >>> free is None or free >= 0
    True
    """
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    # cgroup v2, then v1 (a "no limit" v1 value is a huge number, harmless in min())
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None:
            avail = min(avail, max(limit - usage, 0))
            break
    return int(avail)


def check_memory(estimate: MemoryEstimate, limit_gb: float | None = None, *,
                 key: str = "memory_limit_gb", warn: Callable[[str], None] | None = None,
                 available: int | None = None) -> None:
    """Refuse a run whose estimated peak memory exceeds the limit.

    The limit is ``limit_gb`` [GiB] when the scenario gives one, otherwise the memory
    available now (:func:`available_memory`). A user's limit above the available memory
    is honoured (they may know better), with a warning.

    Parameters
    ----------
    estimate : MemoryEstimate
        The run's estimated peak.
    limit_gb : float, optional
        The scenario's limit [GiB]; None: the memory available now.
    key : str
        The scenario key of the limit, for messages.
    warn : callable(str), optional
        Receives the warning when a given limit exceeds the available memory.
    available : int, optional
        Available memory [bytes] (default: :func:`available_memory`; for tests).

    Raises
    ------
    ResourceError
        Naming ``estimate.field``, with the estimate, the limit and a suggestion.

    Examples
    --------
    >>> est = MemoryEstimate({"3D soil fields": 3 * GIB}, field="grid.resolution",
    ...                      suggest=lambda limit: "use grid.resolution: 0.5")
    >>> check_memory(est, limit_gb=8)          # fits: returns quietly
    >>> check_memory(est, limit_gb=2)
    Traceback (most recent call last):
    ...
    rhizoscale.errors.ResourceError: grid.resolution: the run needs about 3 GiB (3D soil fields 3 GiB) of memory, more than the memory_limit_gb of 2 GiB; use grid.resolution: 0.5
    >>> check_memory(est, limit_gb=8, available=2 * GIB, warn=print)
    the run needs about 3 GiB and only 2 GiB are available now; it goes ahead because memory_limit_gb allows 8 GiB
    """
    available = available_memory() if available is None else available
    if limit_gb is not None:
        limit = float(limit_gb) * GIB
        where = f"the {key} of {limit_gb:g} GiB"
        if warn is not None and available is not None and available < estimate.total <= limit:
            warn(f"the run needs about {_gib(estimate.total)} and only {_gib(available)} are "
                 f"available now; it goes ahead because {key} allows {limit_gb:g} GiB")
    elif available is not None:
        limit = float(available)
        where = f"the {_gib(limit)} available (set {key} [GiB] to override)"
    else:
        return
    if estimate.total <= limit:
        return
    # suggest what fits with a tenth to spare (the estimates are within about 25 %)
    hint = estimate.suggest(0.9 * limit) if estimate.suggest is not None else ""
    raise ResourceError(f"the run needs about {estimate.describe()} of memory, more than {where}"
                        + (f"; {hint}" if hint else ""), field=estimate.field)


def record_estimate(products, estimate: MemoryEstimate) -> None:
    """Put the estimate into a run's products: the scalar ``memory_estimate`` [GiB] and, in
    the details of ``summary.json``, ``memory_estimate_gib`` with its parts.

    Parameters
    ----------
    products : rhizoscale.products.Products
        The run's products (changed in place).
    estimate : MemoryEstimate
        The estimate the run was checked against.

    Examples
    --------
    >>> from rhizoscale.products import Products
    >>> products = Products("toy")
    >>> record_estimate(products, MemoryEstimate({"fields": 0.5 * GIB, "figures": 0.25 * GIB}, "n"))
    >>> products.value("memory_estimate"), products.info["memory_estimate_parts_gib"]
    (0.75, {'fields': 0.5, 'figures': 0.25})
    """
    products.add_scalar("memory_estimate", estimate.gib, "GiB",
                        "estimated peak memory of the run (checked before it started)")
    products.info["memory_estimate_gib"] = estimate.gib
    products.info["memory_estimate_parts_gib"] = {k: v / GIB for k, v in estimate.parts.items()}
    if estimate.note:
        products.info["memory_estimate_note"] = estimate.note


def largest_fitting(make_estimate: Callable[[float], float], limit: float, start: float, *,
                    factor: float = 2 ** 0.25, up: bool = True, steps: int = 80) -> float | None:
    """The first value ``start * factor**k`` (k = 1, 2, ...; decreasing when ``up`` is
    False) whose estimate [bytes] fits ``limit``; None if none within ``steps``.

    For suggestions: the coarsest resolution or the smallest sample that would fit.

    Parameters
    ----------
    make_estimate : callable(float) -> float
        Estimated peak [bytes] for a value of the scenario field.
    limit : float
        Memory to fit in [bytes].
    start : float
        The scenario's value (not itself tried).
    factor : float
        Ratio between tried values (> 1).
    up : bool
        Try growing values (a coarser resolution) rather than shrinking ones (a smaller
        sample).
    steps : int
        Most values tried.

    Returns
    -------
    float or None

    Examples
    --------
    The coarsest voxel size [cm] for which 8 bytes per voxel of a 10 cm cube fit in
    10 kB (the exact answer is 0.928 cm; values grow by 2**(1/4)):

    >>> h = largest_fitting(lambda h: 8 * (10 / h) ** 3, 1e4, start=0.1)
    >>> round(h, 4), round(8 * (10 / h) ** 3)
    (0.9514, 9291)
    """
    v = start
    for _ in range(steps):
        v = v * factor if up else v / factor
        if make_estimate(v) <= limit:
            return v
    return None


_NICE = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)


def round_nice(value: float, up: bool = True) -> float:
    """``value`` rounded up (or down) to 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power
    of ten (a value a user would type).

    Parameters
    ----------
    value : float
        Any positive value (others are returned unchanged).
    up : bool
        Round up (else down).

    Returns
    -------
    float

    Examples
    --------
    >>> round_nice(0.23), round_nice(0.23, up=False), round_nice(3.1e6), round_nice(7.0, up=False)
    (0.25, 0.2, 4000000.0, 6.0)
    """
    import math
    if value <= 0:
        return value
    e = math.floor(math.log10(value))
    for m in (_NICE if up else _NICE[::-1]):
        c = m * 10.0 ** e
        if (up and c >= value * (1 - 1e-12)) or (not up and c <= value * (1 + 1e-12)):
            return c
    return value

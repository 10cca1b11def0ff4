"""NetCDF output of fields (xarray), compressed, written atomically and interruptibly.

Ctrl-C during a write
---------------------
xarray's netCDF4 backend guards every access to a file with a non-reentrant
``threading.Lock`` (the HDF5/netCDF-C lock combined with a per-file lock). A variable is
written by one long C call inside ``with lock:``; Python runs the SIGINT handler at the
first bytecode after that call returns, which is the entry of the lock's ``__exit__``,
*before* it releases the lock. The ``KeyboardInterrupt`` leaves the lock held, and
xarray's ``finally: store.close()`` then waits for that same lock forever (a second
Ctrl-C interrupts the wait). So every Ctrl-C during a variable write hung the process.

:func:`write_netcdf` therefore holds Ctrl-C while the file is open (the handler only
notes it, so no exception can fire inside a lock) and writes each variable in blocks of
whole HDF5 chunks of at most ``_BLOCK_BYTES``; between blocks, outside any lock, a noted
Ctrl-C is delivered to the previous handler (a ``KeyboardInterrupt`` by default). The
file is then closed and the temporary ``.part`` file removed, so nothing appears under
the final name, within about one block's write time (well under a second).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import signal
import threading
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import xarray as xr

from .atomic import atomic_path

__all__ = ["write_netcdf", "read_netcdf", "deferred_interrupt"]

#: largest block of a variable written by one netCDF call [bytes]: a Ctrl-C waits for it
_BLOCK_BYTES = 8 * 2**20
#: HDF5 chunk cache of a variable written block by block [bytes] (see _BlockwiseTarget)
_CHUNK_CACHE_BYTES = 2**20


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[Callable[[], None]]:
    """Hold SIGINT (Ctrl-C) inside the block; yield ``check()``, which delivers a held one.

    The handler installed here only records the signal. ``check()`` — called by the code
    inside at points where an exception is safe (no lock held) — and the end of the block
    hand a recorded signal to the handler that was installed before (Python's default
    raises ``KeyboardInterrupt``). Outside the main thread, or when SIGINT is ignored or
    not handled by Python, nothing is changed and ``check()`` does nothing.

    Yields
    ------
    check : callable
        ``check()`` delivers a held SIGINT to the previous handler (and clears it).

    Examples
    --------
    A Ctrl-C that arrives while a file is open is handled at ``check()``, not where it
    arrived (a handler that records it stands in for Python's ``KeyboardInterrupt``):

    >>> import signal
    >>> seen = []
    >>> old = signal.signal(signal.SIGINT, lambda signum, frame: seen.append("Ctrl-C"))
    >>> try:
    ...     with deferred_interrupt() as check:
    ...         signal.raise_signal(signal.SIGINT)      # arrives mid-block: only noted
    ...         held = list(seen)
    ...         check()                                 # a safe point: delivered here
    ... finally:
    ...     _ = signal.signal(signal.SIGINT, old)
    >>> held, seen
    ([], ['Ctrl-C'])
    """
    previous = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() \
        else None
    if not callable(previous):
        yield lambda: None
        return
    pending: list = []

    def note(signum, frame):
        pending.append((signum, frame))

    def check():
        if pending:
            signum, frame = pending[0]
            pending.clear()
            previous(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield check
    finally:
        signal.signal(signal.SIGINT, previous)
    check()


def _blocks(shape: tuple[int, ...], chunks: tuple[int, ...], itemsize: int,
            max_bytes: int) -> Iterator[tuple[slice, ...]]:
    """Slices covering ``shape`` in blocks of whole chunks, each at most ``max_bytes``
    where possible (a single chunk may be larger)."""
    block = list(shape)
    for i in range(len(shape)):
        if math.prod(block) * itemsize <= max_bytes:
            break
        rest = math.prod(block[:i] + block[i + 1:]) * itemsize  # bytes per index of axis i
        c = max(1, min(chunks[i], shape[i]))
        block[i] = max(c, (max_bytes // max(rest, 1)) // c * c)
        block[i] = min(block[i], shape[i])
    starts = [range(0, n, b) for n, b in zip(shape, block)]
    for corner in itertools.product(*starts):
        yield tuple(slice(s, min(s + b, n)) for s, b, n in zip(corner, block, shape))


class _BlockwiseTarget:
    """Writes ``target[...] = value`` block by block, delivering a held Ctrl-C in between."""

    def __init__(self, target, check: Callable[[], None]):
        self.target = target
        self.check = check

    def __setitem__(self, key, value):
        value = np.asarray(value)
        if key is not Ellipsis or value.ndim == 0 or value.nbytes <= _BLOCK_BYTES:
            self.target[key] = value
            self.check()
            return
        var = self.target.get_array()
        # HDF5 compresses a chunk when it leaves the chunk cache; netCDF's default cache
        # holds a whole variable, so all the work would happen in one uninterruptible
        # flush. With a small cache each block's chunks are compressed as they are written.
        with contextlib.suppress(AttributeError, RuntimeError):
            var.set_var_chunk_cache(size=_CHUNK_CACHE_BYTES)
        chunking = var.chunking()
        chunks = tuple(chunking) if isinstance(chunking, (list, tuple)) else (1,) * value.ndim
        for block in _blocks(value.shape, chunks, value.itemsize, _BLOCK_BYTES):
            self.check()
            self.target[block] = value[block]
        self.check()


class _InterruptibleNetCDF4Store(xr.backends.NetCDF4DataStore):
    """xarray's netCDF4 store whose variables are written block by block (see module docs)."""

    check: Callable[[], None] = staticmethod(lambda: None)

    def prepare_variable(self, name, variable, *args, **kwargs):
        target, source = super().prepare_variable(name, variable, *args, **kwargs)
        return _BlockwiseTarget(target, self.check), source


def write_netcdf(data: xr.Dataset | xr.DataArray, path: str | Path, *, compress: bool = True,
                 complevel: int = 1) -> Path:
    """Write a Dataset/DataArray to NetCDF-4 (zlib-compressed numbers), atomically.

    The file is written to a hidden ``.part`` file beside ``path`` and renamed when
    complete. Ctrl-C stops the write within about a second (see the module docs): the
    ``KeyboardInterrupt`` propagates and neither ``path`` nor the ``.part`` file remains.

    Parameters
    ----------
    data : xarray.Dataset or DataArray
        Fields with coordinates and ``units`` attributes.
    path : path-like
        Output file (``.nc``).
    compress : bool
        Compress numeric data variables with zlib at ``complevel``.
    complevel : int
        zlib compression level (1–9). With the byte shuffle filter (on) level 1 writes the
        CS2 example's 130 MB of float64 fields in 0.76x the time of level 4 for a file
        4 % larger (22.2 vs 23.0 MB; measured 28 Nov 2026 on a loaded machine by writing
        the example's ``fields.nc`` with ``Dataset.to_netcdf`` at both settings).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rhizoscale import RegularGrid
    >>> from rhizoscale.io import read_netcdf, write_netcdf
    >>> field = RegularGrid.from_resolution((0, 0, -2), (1, 1, 0), 0.5).field(name="rld", units="cm cm-3")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ds = read_netcdf(write_netcdf(field, Path(tmp) / "rld.nc"))
    >>> ds["rld"].dims, ds["rld"].attrs["units"], ds["z"].attrs["units"]
    (('z', 'y', 'x'), 'cm cm-3', 'cm')
    """
    ds = data.to_dataset() if isinstance(data, xr.DataArray) else data
    encoding = {}
    if compress:
        for name, var in ds.data_vars.items():
            if var.ndim >= 1 and var.dtype.kind in "fiu":
                encoding[name] = {"zlib": True, "complevel": complevel, "shuffle": True}
    path = Path(path)
    with atomic_path(path) as tmp, deferred_interrupt() as check:
        store = _InterruptibleNetCDF4Store.open(str(tmp), mode="w", format="NETCDF4")
        store.check = check
        try:
            ds.dump_to_store(store, encoding=encoding)
        finally:
            store.close()
        check()  # a Ctrl-C during the last block or the close: no rename
    return path


def read_netcdf(path: str | Path) -> xr.Dataset:
    """Open a NetCDF file written by rhizoscale (loaded into memory).

    Ctrl-C is held while the file is open (it would leave xarray's file lock held and
    hang the close, see the module docs) and delivered once the file is closed.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    xarray.Dataset
        All variables loaded; the file is closed.

    See Also
    --------
    write_netcdf : has an example that writes and reads a field.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import xarray as xr
    >>> c = xr.Dataset({"c": ("x", [1.0, 0.5], {"units": "umol cm-3"})},
    ...                coords={"x": ("x", [0.05, 0.15], {"units": "cm"})})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     back = read_netcdf(write_netcdf(c, Path(tmp) / "c.nc"))
    >>> back["c"].values, back["c"].attrs["units"]      # usable after the file is gone
    (array([1. , 0.5]), 'umol cm-3')
    """
    with deferred_interrupt():
        with xr.open_dataset(path, engine="netcdf4") as ds:
            return ds.load()

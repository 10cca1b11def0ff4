"""Numba builds of threaded kernels, and the choice of threads per call.

A kernel is written once as a plain Python function with ``numba.prange`` loops. Small
grids (coarse multigrid levels, 2D images) run on one thread, where waking the threads
costs more than the work (measured on the shared 2-core machine: ~15 ms per threaded
call under load against 0.3 ms for a one-thread sweep of 3e5 voxels).

The solver kernels (``single_build=True``) are compiled once, threaded, and run on one
thread for small grids: that build on one thread took 0.34-0.73 of the CPU time of a
serial build of the same kernel on 4^3-128^3 grids (red-black sweep, stencil product,
restriction; Numba keeps reference counting of the arrays passed to inlined helpers in
serial code and drops it in threaded loop bodies), and it halves the first-run
compilation. Other kernels are compiled twice, threaded and serial; the serial build is
compiled from a copy of the function under another name and qualified name: Numba's
on-disk cache is keyed by them, and two builds of one function would share one cache
entry, so that a "serial" kernel loaded from the cache could be the threaded build
(seen in case study 4).
"""

from __future__ import annotations

import os
import types
from contextlib import contextmanager

# OpenMP worker threads spin after each parallel region by default; between the many
# short threaded sweeps of a V-cycle they then steal the core that the main thread needs
# for the serial coarse levels. On the loaded 2-core machine a 2048^2 tensor took 11-17 s
# with spinning threads and 6 s with passive waiting (same load). libgomp reads this when
# Numba first starts its thread pool; an explicit user setting is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402

__all__ = ["JIT", "threaded_kernel", "use_threads", "level_threads", "thread_limit",
           "PARALLEL_MIN_VOXELS", "VOXELS_PER_THREAD", "PARALLEL_CHUNK"]

#: voxels per thread of a threaded kernel call: a grid of n voxels runs on
#: min(threads, n // VOXELS_PER_THREAD) threads, so coarse multigrid levels use fewer
#: threads than fine ones and the coarsest run serially (environment variable
#: ``RHIZOSCALE_VOXELS_PER_THREAD`` overrides it)
VOXELS_PER_THREAD = int(os.environ.get("RHIZOSCALE_VOXELS_PER_THREAD", 1 << 16))
#: grids with at least this many voxels run the threaded build (when threads > 1);
#: environment variable ``RHIZOSCALE_PARALLEL_MIN_VOXELS`` overrides it
PARALLEL_MIN_VOXELS = int(os.environ.get("RHIZOSCALE_PARALLEL_MIN_VOXELS",
                                         2 * VOXELS_PER_THREAD))
#: dynamic scheduling in small chunks: on a shared machine a thread that loses its core
#: leaves its remaining planes to the others instead of stalling all
#: (``RHIZOSCALE_PARALLEL_CHUNK`` overrides it; 0: Numba's static division)
PARALLEL_CHUNK = int(os.environ.get("RHIZOSCALE_PARALLEL_CHUNK", 2))

#: compilation options of every solver kernel
JIT = dict(cache=True, fastmath=True, boundscheck=False, error_model="numpy")


def use_threads(n_voxels: int) -> bool:
    """Whether a kernel on a grid of ``n_voxels`` runs its threaded build."""
    return n_voxels >= PARALLEL_MIN_VOXELS and numba.get_num_threads() > 1


def level_threads(n_voxels: int) -> int:
    """Threads a threaded kernel uses on a grid of ``n_voxels``: about
    :data:`VOXELS_PER_THREAD` voxels each, at most the current Numba thread count."""
    return max(1, min(numba.get_num_threads(), n_voxels // VOXELS_PER_THREAD))


@contextmanager
def thread_limit(threads: int | None):
    """Run the enclosed solver calls on at most ``threads`` Numba threads.

    ``None`` leaves the current setting. The count is capped at the size of Numba's
    thread pool (``NUMBA_NUM_THREADS``, by default the number of cores); the previous
    count is restored on exit (it is per calling thread).

    Examples
    --------
    >>> import numba
    >>> from rhizoscale.solvers import thread_limit
    >>> before = numba.get_num_threads()
    >>> with thread_limit(1):
    ...     numba.get_num_threads()
    1
    >>> numba.get_num_threads() == before
    True
    """
    if threads is None:
        yield
        return
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(old)


def threaded_kernel(fn, *, single_build: bool = False, size_arg: int = 0, **options):
    """Compile ``fn`` threaded and serial; the returned function picks one by grid size.

    The size is that of the first argument (an array), or of argument ``size_arg`` (e.g.
    the node grid of a lattice-Boltzmann kernel whose first argument holds the
    populations). The builds are kept as the
    ``parallel`` and ``serial`` attributes of the returned function. ``options`` replace
    entries of :data:`JIT` (e.g. ``fastmath=False`` for kernels whose results must equal
    their NumPy specification bit for bit). ``single_build``: compile only the threaded
    build and run it on one thread for small grids (``serial`` is then None), for
    kernels whose serial build is slower (Numba keeps reference counting of the arrays
    passed to inlined helpers in serial code, and drops it in threaded loop bodies).
    """
    options = {**JIT, **options}
    par = numba.njit(parallel=True, **options)(fn)
    if single_build:
        ser = None

        def run_serial(*args):
            threads = numba.get_num_threads()
            if threads == 1:
                return par(*args)
            numba.set_num_threads(1)
            try:
                return par(*args)
            finally:
                numba.set_num_threads(threads)
    else:
        serial_fn = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial",
                                       fn.__defaults__, fn.__closure__)
        serial_fn.__qualname__ = fn.__qualname__ + "_serial"
        serial_fn.__doc__ = fn.__doc__
        ser = run_serial = numba.njit(**options)(serial_fn)

    def kernel(*args):
        n = args[size_arg].size
        if not use_threads(n):
            return run_serial(*args)
        total = numba.get_num_threads()
        threads = level_threads(n)
        old = numba.set_parallel_chunksize(PARALLEL_CHUNK)
        if threads < total:
            numba.set_num_threads(threads)
        try:
            return par(*args)
        finally:
            numba.set_parallel_chunksize(old)
            if threads < total:
                numba.set_num_threads(total)

    name = fn.__name__[:-3] if fn.__name__.endswith("_py") else fn.__name__
    kernel.__name__ = kernel.__qualname__ = name
    kernel.__doc__ = fn.__doc__
    kernel.parallel = par
    kernel.serial = ser
    return kernel

"""Compile the Numba kernels ahead of a run, and tell whether a run will compile.

rhizoscale's hot loops are Numba kernels compiled with ``cache=True``: the first call
after installing compiles them (seconds to a minute per case study) and writes the
machine code to Numba's cache (``__pycache__`` next to the source, or
``NUMBA_CACHE_DIR``); later runs load it in milliseconds. :func:`warm_up` runs each
case study's public functions on tiny inputs so that a real run finds its kernels
compiled; :func:`cold_cases` tells, without compiling anything, which case studies have
no kernel in the cache yet (the command line uses it to say that a run will compile).

The cache check reads Numba's own index of each kernel (the index is only valid for
the source file it was made from), through attributes that are not Numba's public API:
when they are missing, the check answers "unknown" rather than guessing.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from typing import Callable

__all__ = ["CASES", "KERNEL_MODULES", "numba_kernels", "cache_state", "cold_cases", "compile_note",
           "warm_up", "WarmupResult"]

#: modules holding ``cache=True`` kernels, per case study (shared ones listed where used)
KERNEL_MODULES: dict[str, tuple[str, ...]] = {
    "plant growth": ("rhizoscale.plant._growth_kernels", "rhizoscale.plant.confinement", "rhizoscale.core.grid"),
    "CS1 rhizodeposition": ("rhizoscale.rhizodeposition.particles", "rhizoscale.rhizodeposition.deposition",
                            "rhizoscale.rhizodeposition.single_root", "rhizoscale.rhizodeposition.heat_kernel",
                            "rhizoscale.rhizodeposition.release", "rhizoscale.rhizodeposition.field"),
    "CS2 phosphate uptake": ("rhizoscale.nutrients.sorption", "rhizoscale.nutrients.rhizosphere",
                             "rhizoscale.nutrients.soil3d", "rhizoscale.solvers.voxel_operator"),
    "CS3 root hairs": ("rhizoscale.diffusion.matrix_free", "rhizoscale.solvers.voxel_operator",
                       "rhizoscale.solvers.stencil", "rhizoscale.solvers.multigrid",
                       "rhizoscale.solvers.krylov"),
    "CS4 homogenisation": ("rhizoscale.homogenization._kernels", "rhizoscale.solvers.voxel_operator",
                           "rhizoscale.solvers.stencil", "rhizoscale.solvers.multigrid",
                           "rhizoscale.solvers.krylov"),
}

#: typical first-run compile time per case study [s], cold cache: benchmarks/bench_warmup.py
#: on the shared 2-core development machine gave 3.4, 3.2, 6.0, 63 (serial and threaded
#: solver builds) and 8.6 s (alone); rounded up. CS2 has compiled the shared voxel
#: operator's CSR kernel since (17.6 s against 7.6 s before, CS2-CS4 in one warmup, on
#: a machine that then took 41 s for CS3)
TYPICAL_COMPILE_S: dict[str, float] = {
    "plant growth": 5, "CS1 rhizodeposition": 5, "CS2 phosphate uptake": 20,
    "CS3 root hairs": 60, "CS4 homogenisation": 10,
}


def _dispatchers_in(obj) -> list:
    from numba.core.dispatcher import Dispatcher
    if isinstance(obj, Dispatcher):
        return [obj]
    # threaded solver kernels keep their two builds as attributes (solvers._numba)
    return [v for v in (getattr(obj, "parallel", None), getattr(obj, "serial", None))
            if isinstance(v, Dispatcher)]


def numba_kernels(cases=None) -> dict[str, object]:
    """The cached Numba kernels of some case studies (all by default), by qualified name.

    Parameters
    ----------
    cases : list of str, optional
        Keys of :data:`KERNEL_MODULES` (default: all).

    Returns
    -------
    dict of str to numba dispatcher
        ``"module.function"`` -> the ``cache=True`` kernel (imported, not compiled).

    Examples
    --------
    >>> kernels = numba_kernels(["plant growth"])
    >>> "rhizoscale.core.grid._segment_cell_lengths_kernel" in kernels
    True
    """
    out: dict[str, object] = {}
    for case in cases or KERNEL_MODULES:
        for name in KERNEL_MODULES[case]:
            module = importlib.import_module(name)
            for value in vars(module).values():
                for disp in _dispatchers_in(value):
                    if getattr(disp, "_cache", None) is not None and \
                            type(disp._cache).__name__ != "NullCache":
                        out[f"{name}.{disp.py_func.__name__}"] = disp
    return out


def _is_cached(disp) -> bool | None:
    """Whether Numba's cache holds a build of this kernel for its current source (None: unknown)."""
    try:
        return bool(disp._cache._cache_file._load_index())
    except Exception:  # pragma: no cover - Numba internals changed
        return None


def cache_state(cases=None) -> tuple[int, int] | None:
    """``(kernels with a cache entry, kernels)`` of some case studies; None if unknown.

    Only kernels called from Python get cache entries of their own: helpers called from
    other kernels are compiled into their callers. So a warm cache never has every
    kernel cached, and a cold one (fresh install, new version, new ``NUMBA_CACHE_DIR``)
    has none.

    Parameters
    ----------
    cases : list of str, optional
        Keys of :data:`KERNEL_MODULES` (default: all).

    Returns
    -------
    tuple of int or None
        ``(cached, total)``; None when Numba's cache index cannot be read.

    Examples
    --------
    >>> cached, total = cache_state(["plant growth"])
    >>> 0 <= cached <= total
    True
    """
    kernels = numba_kernels(cases)
    cached = 0
    for disp in kernels.values():
        state = _is_cached(disp)
        if state is None:
            return None
        cached += state
    return cached, len(kernels)


def cold_cases(cases=None) -> list[str]:
    """The case studies none of whose kernels is in Numba's cache (they will compile).

    Parameters
    ----------
    cases : list of str, optional
        Keys of :data:`KERNEL_MODULES` (default: all).

    Returns
    -------
    list of str

    Examples
    --------
    >>> _ = warm_up(["plant growth"])
    >>> cold_cases(["plant growth"])
    []
    """
    out = []
    for case in cases or KERNEL_MODULES:
        state = cache_state([case])
        if state is not None and state[1] and state[0] == 0:
            out.append(case)
    return out


def compile_note(cases=None) -> str | None:
    """One line telling that a run is about to compile kernels, or None when they are cached.

    Parameters
    ----------
    cases : list of str, optional
        Keys of :data:`KERNEL_MODULES` the run uses (default: all).

    Returns
    -------
    str or None
        The note, with the typical compile time [s] of the cold case studies.

    Examples
    --------
    >>> _ = warm_up(["plant growth"])
    >>> compile_note(["plant growth"]) is None
    True
    """
    try:
        cold = cold_cases(cases)
    except Exception:  # pragma: no cover - never stop a run for a hint
        return None
    if not cold:
        return None
    seconds = [TYPICAL_COMPILE_S[c] for c in cold]
    lo, hi = round(min(seconds)), round(max(seconds))
    about = f"about {lo} s" if len(cold) == 1 else \
        (f"about {lo} s per case study" if lo == hi else f"about {lo}-{hi} s per case study")
    return (f"first run after install: compiling numerical kernels ({about}, once; "
            "`rhizoscale warmup` does it ahead)")


# ------------------------------------------------------------------ tiny problems
def _plant() -> None:
    from .core.grid import RegularGrid, root_length_density
    from .plant import Box, grow_root_system, load_plant_parameters
    params = load_plant_parameters("vicia_faba")
    rs = grow_root_system(params, 3.0, seed=1)
    grow_root_system(params, 3.0, seed=1, confinement=Box((-5, -5, -20), (5, 5, 0)))
    root_length_density(rs, RegularGrid.from_resolution((-5, -5, -10), (5, 5, 0), 1.0))


def _cs1() -> None:
    import numpy as np

    from .core.grid import RegularGrid
    from .parameters import load_parameter_set
    from .plant import grow_root_system, load_plant_parameters
    from .plant.generators import straight_root_system
    from .rhizodeposition.field import rhizodeposition_fields
    from .rhizodeposition.green import root_paths
    from .rhizodeposition.parameters import ExudateParameters
    rs = grow_root_system(load_plant_parameters("vicia_faba"), 3.0, seed=1)
    paths = root_paths(rs)
    grid = RegularGrid.from_resolution((-2, -2, -8), (2, 2, 0), 0.5)
    for name in ("mucilage", "citrate"):
        p = load_parameter_set(ExudateParameters, name)
        for direct in (None, np.inf):  # propagated (a run's "auto") and direct evaluation
            for snap in rhizodeposition_fields(paths, grid, p, [2.0, 3.0], direct_age=direct,
                                               single_root_threshold=p.threshold_liquid):
                pass
        straight = straight_root_system(1.0, 2.0)
        list(rhizodeposition_fields(straight, RegularGrid.from_resolution((-0.5, -0.5, -3), (0.5, 0.5, 0), 0.1),
                                    p, [2.0]))


def _cs2() -> None:
    import numpy as np

    from . import RootSystem
    from .core.grid import RegularGrid
    from .nutrients import CoupledUptakeModel, load_citrate, load_phosphate, load_soil
    s = np.linspace(0, 1, 11)
    tap = np.stack([np.full(11, 4.0), np.full(11, 0.5), -0.2 - 6 * s], axis=1)
    lat = np.stack([4.0 + 2 * s[:6] / s[5], np.full(6, 0.5), np.full(6, -3.0)], axis=1)
    rs = RootSystem.from_polylines([tap, lat], [0.5 * s, 0.25 + 0.25 * s[:6] / s[5]], [0.05, 0.03],
                                   parents=[-1, 0], parent_nodes=[None, 5])
    grid = RegularGrid.from_resolution((0, 0, -8), (8, 1, 0), 1.0)
    for exudation in (True, False):
        model = CoupledUptakeModel(rs, grid, load_soil(), load_phosphate(), load_citrate(),
                                   n_radial_cells=8, exudation=exudation)
        for _ in range(6):  # 0.75 d: every segment has emerged
            model.step(3 * 3600.0)


def _cs3() -> None:
    from .diffusion.exudates import simulate_exudate_diffusion
    from .image.generators import rhizosphere_sample
    s = rhizosphere_sample((16, 20, 20), 3e-3, root_radius=0.01, hair_count=4, seed=1)
    for img in (s.with_hairs, s.without_hairs):
        simulate_exudate_diffusion(img, t_end=60.0, memory_limit=None)


def _cs4() -> None:
    from .homogenization.cell_problem import effective_diffusion_tensor
    from .image.generators.granular import liquid_configuration, sand_packing
    packing = sand_packing((8, 8, 8), 1e-3, 0.4, mean_radius=2e-3, seed=1)
    water = liquid_configuration(packing, 0.2, 0.0)
    bridges = liquid_configuration(packing, 0.2, 0.3)
    for img in (water, bridges):
        for per in ("translation", "mirror"):
            try:
                effective_diffusion_tensor(img, periodisation=per)
            except Exception:  # a tiny sample may hold no connected liquid: the kernels ran
                pass
    # the multigrid path (real images): tiny samples take the direct solve; binary media
    # run CG on float32 conductances, others on float64 ones (two builds)
    import numpy as np
    binary = (np.random.default_rng(1).random((12, 12, 12)) < 0.7).astype(float)
    for d in (binary, np.where(binary > 0, 1.0, 0.3)):
        for per in ("translation", "mirror"):
            effective_diffusion_tensor(d, periodisation=per, solver="multigrid")


CASES: dict[str, Callable[[], None]] = {
    "plant growth": _plant, "CS1 rhizodeposition": _cs1, "CS2 phosphate uptake": _cs2,
    "CS3 root hairs": _cs3, "CS4 homogenisation": _cs4,
}


@dataclass
class WarmupResult:
    """What :func:`warm_up` did for one case study.

    Attributes
    ----------
    case : str
        The case study (a key of :data:`CASES`).
    seconds : float
        Wall-clock time of its tiny problems [s], compiling included.
    compiled : int
        Kernel builds compiled now (then written to the cache).
    loaded : int
        Kernel builds found in the cache.
    cached : int
        Kernels of the case with a cache entry afterwards.
    kernels : int
        Kernels of the case (helpers are compiled into their callers).

    Examples
    --------
    >>> WarmupResult("plant growth", seconds=0.6, compiled=0, loaded=4, cached=6, kernels=12)
    WarmupResult(case='plant growth', seconds=0.6, compiled=0, loaded=4, cached=6, kernels=12)
    """

    case: str
    seconds: float
    compiled: int          # kernel builds compiled now (then written to the cache)
    loaded: int            # kernel builds found in the cache
    cached: int = 0        # kernels of the case with a cache entry afterwards
    kernels: int = 0       # kernels of the case (helpers are compiled into their callers)


def _counts(kernels) -> tuple[int, int]:
    misses = hits = 0
    for disp in kernels.values():
        misses += sum(disp.stats.cache_misses.values())
        hits += sum(disp.stats.cache_hits.values())
    return misses, hits


def warm_up(cases=None, *, report: Callable[[WarmupResult], None] | None = None,
            threaded: bool = True) -> list[WarmupResult]:
    """Run each case study on a tiny problem so that its kernels are compiled and cached.

    Parameters
    ----------
    cases : list of str, optional
        Keys of :data:`CASES` (default: all).
    report : callable, optional
        Called with each case's :class:`WarmupResult` as soon as it is done.
    threaded : bool
        Also compile the threaded builds of the solver kernels, which real runs use on
        grids of more than ``solvers._numba.PARALLEL_MIN_VOXELS`` voxels (the tiny
        problems are run once more with that threshold at 0).

    Returns
    -------
    list of WarmupResult
        One per case study, in order.

    Examples
    --------
    Seconds with a warm cache, a few more the first time after installing:

    >>> [result] = warm_up(["plant growth"])
    >>> result.case, result.kernels
    ('plant growth', 12)
    >>> cold_cases(["plant growth"])
    []
    """
    from .solvers import _numba
    results = []
    for case in cases or CASES:
        if case not in CASES:
            raise KeyError(case)
        kernels = numba_kernels([case])
        before = _counts(kernels)
        t0 = time.perf_counter()
        CASES[case]()
        if threaded and case in ("CS3 root hairs", "CS4 homogenisation"):
            old = _numba.PARALLEL_MIN_VOXELS
            _numba.PARALLEL_MIN_VOXELS = 0
            try:
                CASES[case]()
            finally:
                _numba.PARALLEL_MIN_VOXELS = old
        seconds = time.perf_counter() - t0
        after = _counts(kernels)
        cached, total = cache_state([case]) or (0, len(kernels))
        result = WarmupResult(case, seconds, after[0] - before[0], after[1] - before[1], cached, total)
        results.append(result)
        if report is not None:
            report(result)
    return results

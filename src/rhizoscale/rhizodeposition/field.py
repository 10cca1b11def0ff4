"""Voxel-averaged rhizodeposit fields on a regular grid, fast and exact to a stated tolerance.

Method
------
The field at time ``T`` is the superposition of all mass released before ``T`` (see
:mod:`.green`). The releases are cut into *particles*: small pieces of released mass with a
position, a (mean) release time and a root. Each particle is spread with the exact
voxel integral of its Gaussian kernel (a product of three ``erf`` differences), so every
voxel gets the *voxel average* of the field: finite on root paths and convergent under
grid refinement.

How releases become particles (for output time ``T``):

* ages ``T - t`` are cut into chunks whose kernel variance ``s^2 = w^2 + 2 D' tau`` grows
  by at most the factor ``age_ratio`` (default 1.125) within a chunk; the youngest chunk
  is ``[0, tau_0]``;
* point source: each chunk (also split at path node times) is cut into pieces along which
  the tip moves at most ``spacing`` times the chunk's smallest kernel width ``s``, with two
  Gauss-Legendre points per piece in time;
* line source: within a chunk the mass released per cm of root is computed exactly at
  each arc point (time the point spent inside the release zone), and the release zone
  is cut into pieces of at most ``spacing * s`` (also at path nodes) with two
  Gauss-Legendre points per piece in arc length; each particle takes the mean time at
  which its mass was released.

A Gaussian of width ``s`` sampled every ``spacing * s`` with 2-point Gauss-Legendre
weights has a relative error below 1e-3 for ``spacing = 1``; the variance spread within
a chunk gives a relative error of about ``(age_ratio - 1)^2 / 6`` (0.26 % by default).
Kernels are cut at ``n_sigma`` standard deviations per axis: the mass left out is at
most ``3 erfc(n_sigma / sqrt 2)`` of each particle (6e-9 for ``n_sigma = 6``).

Old mass (semigroup)
--------------------
Mass older than ``direct_age`` can be propagated instead of re-evaluated: the field of
releases older than ``T - direct_age`` is advanced from one output time to the next with
the heat kernel (separable, normalised sampled Gaussian) times ``exp(-k' dt)``, and only
the mass that turns older than ``direct_age`` in between is added with its exact kernel.
Propagating voxel averages is exact for band-limited fields; the error is the part of
the spectrum of the old field beyond the grid's Nyquist wavenumber, at most about
``exp(-pi^2 s_A^2 / (2 h^2))`` relative for kernels of width ``s_A`` (2.7e-9 for
``s_A = 2 h``). The default ``direct_age`` makes ``s_A >= 2 h_max``, so for mucilage on
a 1 mm grid everything younger than 19 d is evaluated directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from ..core.grid import RegularGrid
from ..errors import InputError
from .deposition import _deposit
from .green import RootPaths, root_paths
from .heat_kernel import heat_propagate
from .parameters import ExudateParameters
from .particles import FieldDiscretisation, _particles
from .release import released_mass
from .single_root import single_root_exceeds, single_root_maximum

__all__ = [
    "FieldDiscretisation",
    "FieldSnapshot",
    "released_mass",
    "rhizodeposition_fields",
    "RhizodepositionModel",
    "default_direct_age",
    "heat_propagate",
    "single_root_maximum",
]


@dataclass
class FieldSnapshot:
    """The field of one exudate at one output time.

    Yielded by :func:`rhizodeposition_fields`.

    Attributes
    ----------
    time : float
        Output time [d].
    concentration : ndarray (z, y, x)
        Voxel-averaged liquid concentration [ug cm-3].
    single_root_max : ndarray or None
        The largest concentration any single root produces alone [ug cm-3], exact (all
        ages of every root's releases), in every voxel where the concentration exceeds
        the ``single_root_threshold`` it was asked for and 0 elsewhere (None when not
        asked for).
    released : float
        Mass released up to ``time`` [ug] (without decay).
    expected_mass : float
        Mass still present (released, decayed) [ug], exact integral.
    mass_in_domain : float
        Mass on the grid [ug] (``theta R sum(c) V``).
    hot_single_root_max : ndarray or None
        ``single_root_max`` at the voxels above the threshold only, in C order (what
        :func:`~rhizoscale.rhizodeposition.analysis.hotspot_statistics` needs, without a
        pass over the whole grid).
    hot_single_root_exceeds : bool ndarray or None
        Instead of the maxima (a model asked for ``single_root="exceeds"``): at the voxels
        above the threshold, in C order, whether one root alone exceeds it
        (:func:`single_root_exceeds`, exactly ``hot_single_root_max > threshold``).

    Examples
    --------
    >>> from rhizoscale.grid import RegularGrid
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters, straight_root_system
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> root = straight_root_system(0.5, 4.0)                # 0.5 cm d-1 for 4 d
    >>> grid = RegularGrid.from_resolution((-0.3, -0.3, -2.3), (0.3, 0.3, 0.3), 0.05)   # [cm]
    >>> snap = next(iter(rhizodeposition_fields(root, grid, mucilage, [4.0])))
    >>> snap.time, snap.concentration.shape, round(snap.expected_mass, 2)    # [d], (z, y, x), [ug]
    (4.0, (52, 12, 12), 88.79)
    >>> round(snap.mass_outside / snap.expected_mass, 4)     # left the grid [1]
    0.0002
    """

    time: float
    concentration: np.ndarray
    single_root_max: np.ndarray | None
    released: float
    expected_mass: float
    mass_in_domain: float
    hot_single_root_max: np.ndarray | None = None
    hot_single_root_exceeds: np.ndarray | None = None

    @property
    def mass_outside(self) -> float:
        """Mass that left the domain (or was released outside it) [ug]."""
        return self.expected_mass - self.mass_in_domain


def default_direct_age(params: ExudateParameters, grid: RegularGrid, factor: float = 2.0) -> float:
    """Age [d] from which old mass may be propagated: its kernel is ``factor`` cells wide.

    ``((factor h)^2 - w^2) / (2 D/R)`` with ``h`` the largest cell size and ``w`` the
    source width (0 when the source is already wider).

    Parameters
    ----------
    params : ExudateParameters
        ``D``, ``R`` and ``source_width``.
    grid : RegularGrid
        The grid of the field.
    factor : float
        Kernel standard deviation in cells at that age.

    Returns
    -------
    float
        Age [d].

    Examples
    --------
    >>> from rhizoscale.grid import RegularGrid
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters, default_direct_age
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> grid = RegularGrid.from_resolution((-10, -10, -45), (10, 10, 0), 0.1)   # 1 mm cells
    >>> round(default_direct_age(mucilage, grid), 1)
    19.2
    """
    h = float(np.max(grid.spacing))
    return max(0.0, ((factor * h) ** 2 - params.source_width ** 2) / (2 * params.diffusivity_retarded))


def rhizodeposition_fields(root_system, grid: RegularGrid, params: ExudateParameters, times, *,
                           single_root_threshold: float | None = None, direct_age: float | None = np.inf,
                           discretisation: FieldDiscretisation = FieldDiscretisation(),
                           callback=None):
    """Voxel-averaged liquid concentration of one exudate at each output time (a generator).

    Parameters
    ----------
    root_system : RootSystem or RootPaths
        The growing root system (node times give the tip paths).
    grid : RegularGrid
        Where the field is wanted; the soil itself is infinite (mass that leaves the
        box is not reflected).
    params : ExudateParameters
        Release and transport parameters of the exudate.
    times : sequence of float
        Increasing output times [d], each at most the root system's age.
    single_root_threshold : float, optional
        When given [ug cm-3], every voxel whose concentration exceeds it also gets the
        largest concentration any single root produces there alone
        (:func:`single_root_maximum`, exact whatever ``direct_age`` is), for
        :func:`~rhizoscale.rhizodeposition.analysis.overlap_share` at that threshold.
    direct_age : float or None
        Releases younger than this [d] are evaluated directly at every output time; older
        mass is propagated with the heat kernel. ``inf`` (default): everything direct
        (exact, slowest); ``None``: :func:`default_direct_age` (fast, accurate when the
        kernel of the oldest directly evaluated mass spans two cells).
    discretisation : FieldDiscretisation
        Particle accuracy knobs.
    callback : callable(done, total), optional
        Progress.

    Yields
    ------
    FieldSnapshot
        One per output time: concentration [ug cm-3], masses [ug].

    Raises
    ------
    InputError
        Output times not increasing, negative, or beyond the root system's age.

    References
    ----------
    Landl, M., et al. (2021), Front. Plant Sci. (the model); the voxel-averaged particle
    method and its error bounds are described in the module docstring.

    Examples
    --------
    >>> from rhizoscale.grid import RegularGrid
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import (ExudateParameters, hotspot_volume, rhizodeposition_fields,
    ...                                         straight_root_system)
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> root = straight_root_system(0.5, 10.0)
    >>> grid = RegularGrid.from_resolution((-0.3, -0.3, -5.3), (0.3, 0.3, 0.3), 0.02)
    >>> for snap in rhizodeposition_fields(root, grid, mucilage, [5.0, 10.0]):
    ...     print(snap.time, round(snap.expected_mass, 1), round(snap.mass_in_domain, 1),
    ...           round(hotspot_volume(snap.concentration, mucilage.threshold_liquid, grid.cell_volume), 4))
    5.0 101.2 101.2 0.0596
    10.0 134.9 133.9 0.0597
    """
    times = np.asarray(times, float).reshape(-1)
    if len(times) == 0:
        return
    model = RhizodepositionModel(root_system, grid, params, single_root_threshold=single_root_threshold,
                                 direct_age=direct_age, discretisation=discretisation)
    model.check_times(times)
    for n, T in enumerate(times):
        model.advance_to(T)
        yield model.snapshot
        if callback is not None:
            callback(n + 1, len(times))


class RhizodepositionModel:
    """Case study 1 as a model: the field of one exudate, advanced from output time to
    output time (the loop of :func:`rhizodeposition_fields`, whose parameters it takes).

    State: the propagated field of mass older than ``direct_age`` (the semigroup part),
    the release time up to which it holds mass, and the last output time; ``advance_to(T)``
    computes the exact voxel-averaged field at ``T`` into :attr:`snapshot`. Under a
    :class:`~rhizoscale.simulation.Simulation` with ``time_steps`` = the output times, a
    run checkpoints and resumes bit-identically.

    Parameters
    ----------
    root_system : RootSystem or RootPaths
        The roots (their tip paths and times [d]).
    grid : RegularGrid
        Where the field is computed [cm].
    params : ExudateParameters
        Release, diffusion, sorption and decay of the exudate.
    single_root_threshold : float, optional
        Also record the largest single-root concentration where the field exceeds this
        [ug cm-3].
    single_root : {"maximum", "exceeds"}
        With ``single_root_threshold``: record the maxima (``single_root_max``,
        ``hot_single_root_max``) or only whether one root alone exceeds the threshold
        (``hot_single_root_exceeds``: what the overlap share needs, several times faster).
    reuse_snapshot : bool
        Compute every snapshot into the same array (no new grid-sized array per output
        time): a snapshot's ``concentration`` is then valid only until the next
        ``advance_to``; for a caller that copies what it keeps (a scenario's recorder).
    direct_age : float, optional
        Mass younger than this [d] is summed exactly; older mass is propagated on the
        grid (inf: all exact; None: :func:`default_direct_age`).
    discretisation : FieldDiscretisation
        Quadrature settings.

    Attributes
    ----------
    time : float
        The last output time [d] (``-inf`` before the first).
    snapshot : FieldSnapshot or None
        The field at ``time``.

    References
    ----------
    Landl, M., et al. (2021). Front. Plant Sci. (case study 1).

    Examples
    --------
    >>> from rhizoscale.grid import RegularGrid
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters, straight_root_system
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> root = straight_root_system(0.5, 4.0)                # 0.5 cm d-1 for 4 d
    >>> grid = RegularGrid.from_resolution((-0.3, -0.3, -2.3), (0.3, 0.3, 0.3), 0.05)   # [cm]
    >>> from rhizoscale.simulation import IterationInterval, Simulation
    >>> model = RhizodepositionModel(root, grid, mucilage)
    >>> sim = Simulation(model, stop_time=4.0, time_steps=[2.0, 4.0], name="cs1")
    >>> masses = []
    >>> sim.add_callback("record", lambda s: masses.append(round(s.model.snapshot.mass_in_domain, 2)),
    ...                  IterationInterval(1))
    >>> _ = sim.run()
    >>> model.time, masses                                   # [d], [ug]
    (4.0, [54.01, 88.78])
    """

    def __init__(self, root_system, grid: RegularGrid, params: ExudateParameters, *,
                 single_root_threshold: float | None = None, direct_age: float | None = np.inf,
                 discretisation: FieldDiscretisation = FieldDiscretisation(), single_root: str = "maximum",
                 reuse_snapshot: bool = False):
        self.paths = root_system if isinstance(root_system, RootPaths) else root_paths(root_system)
        self.grid, self.params, self.discretisation = grid, params, discretisation
        if single_root not in ("maximum", "exceeds"):
            raise InputError(f"single_root must be 'maximum' or 'exceeds', not {single_root!r}", field="single_root")
        self.single_root_threshold, self.single_root = single_root_threshold, single_root
        self.reuse_snapshot = reuse_snapshot
        self._scratch = self._total = None
        self.direct_age = default_direct_age(params, grid) if direct_age is None else direct_age
        self.t_first = self.paths.time.min() if len(self.paths.time) else 0.0
        self.old = None
        self.cut_prev = -np.inf
        self.t_prev = None
        self.time = -np.inf          # before the first output time (which may be 0)
        self.snapshot: FieldSnapshot | None = None

    def check_times(self, times) -> None:
        """InputError unless the output times are non-negative, increasing and within the age."""
        times = np.asarray(times, float).reshape(-1)
        if np.any(np.diff(times) <= 0) or (len(times) and times[0] < 0):
            raise InputError("output times must be non-negative and increasing", field="times")
        if len(times) and times[-1] > self.paths.age + 1e-9:
            raise InputError(f"output time {times[-1]:g} d is beyond the root system's age "
                             f"{self.paths.age:g} d", field="times")

    def advance_to(self, T: float) -> None:
        """The field at output time ``T`` [d] (after the previous one) into :attr:`snapshot`."""
        paths, grid, params, disc = self.paths, self.grid, self.params, self.discretisation
        old = self.old
        cut = T - self.direct_age
        if np.isfinite(cut) and cut > self.t_first:
            old = np.zeros(grid.shape) if old is None else self._propagate(old, T - self.t_prev)
            grad = _particles(paths, T, params, disc, t_lo=self.cut_prev, t_hi=cut)
            _deposit(grad, T, params, grid, disc, old)
            self.cut_prev = cut
        elif old is not None:
            old = self._propagate(old, T - self.t_prev)
        self.old = old
        self.t_prev = T
        self.time = float(T)
        self.snapshot = self._snapshot()

    def _propagate(self, old: np.ndarray, dt: float) -> np.ndarray:
        """``old`` advanced by ``dt`` with the heat kernel, ping-ponging between ``old`` (the
        model's own array, consumed) and one kept scratch array: no new 144 MB arrays (and
        their page faults) per step; the numbers are those of :func:`heat_propagate`."""
        if self._scratch is None or self._scratch.shape != old.shape:
            self._scratch = np.empty_like(old)
        new = heat_propagate(old, self.grid, dt, self.params, self.discretisation.n_sigma, out=self._scratch,
                             overwrite_input=True)
        self._scratch = old
        return new

    def _snapshot(self) -> FieldSnapshot:
        """The field at :attr:`time`: the old mass plus the young releases deposited exactly."""
        paths, grid, params, disc, T = self.paths, self.grid, self.params, self.discretisation, self.time
        if self.reuse_snapshot and self._total is not None:
            total = self._total             # the previous snapshot's array, overwritten
            if self.old is None:
                total.fill(0.0)
            else:
                np.copyto(total, self.old)
        else:
            total = np.zeros(grid.shape) if self.old is None else self.old.copy()
            if self.reuse_snapshot:
                self._total = total
        young = _particles(paths, T, params, disc, t_lo=self.cut_prev, t_hi=np.inf)
        _deposit(young, T, params, grid, disc, total)
        mass = float(total.sum() * params.theta * params.R * grid.cell_volume)
        rootmax = hot_max = hot_exceeds = None
        if self.single_root_threshold is not None:
            hot = _voxels_above(total, float(self.single_root_threshold))     # = np.argwhere(total > thr)
            if self.single_root == "exceeds":
                hot_exceeds = single_root_exceeds(paths, grid, params, T, hot, self.single_root_threshold, disc)
            else:
                rootmax = np.zeros(grid.shape)      # (pages not written stay unmapped)
                hot_max = single_root_maximum(paths, grid, params, T, hot, disc)
                rootmax[tuple(hot.T)] = hot_max
        return FieldSnapshot(
            time=T, concentration=total, single_root_max=rootmax,
            released=released_mass(paths, T, params, decay=False),
            expected_mass=released_mass(paths, T, params, decay=True),
            mass_in_domain=mass, hot_single_root_max=hot_max, hot_single_root_exceeds=hot_exceeds,
        )

    def state(self) -> "xr.Dataset":
        """The field at the model's time as a Dataset with units: the voxel-averaged
        liquid concentration [µg cm-3] on the grid, the mass in the domain and the mass
        released (without decay) [µg]; ``time`` [d] as a scalar coordinate. Defined from
        the first output time on (recomputed after a restore)."""
        import xarray as xr
        if not np.isfinite(self.time):
            raise InputError("the field is defined from the first output time on; advance the model first",
                             field="time")
        if self.snapshot is None:
            self.snapshot = self._snapshot()
        snap = self.snapshot
        return xr.Dataset(
            {"concentration": (("z", "y", "x"), snap.concentration,
                               {"units": "ug cm-3", "long_name": f"{self.params.name} in the soil liquid"}),
             "mass_in_domain": ((), snap.mass_in_domain, {"units": "ug"}),
             "released": ((), snap.released, {"units": "ug", "long_name": "released, without decay"})},
            coords={**self.grid.coords(), "time": ((), snap.time, {"units": "d"})})

    def checkpoint_state(self) -> dict:
        return {"time": self.time, "t_prev": np.nan if self.t_prev is None else self.t_prev,
                "cut_prev": self.cut_prev, "has_old": self.old is not None,
                "old": np.zeros(0) if self.old is None else self.old}

    def restore_state(self, s: dict) -> None:
        self.time = float(s["time"])
        self.t_prev = None if np.isnan(float(s["t_prev"])) else float(s["t_prev"])
        self.cut_prev = float(s["cut_prev"])
        self.old = np.array(s["old"]).reshape(self.grid.shape) if bool(s["has_old"]) else None
        self.snapshot = None


@numba.njit(parallel=True, cache=True)
def _voxels_above(c, threshold):
    """``np.argwhere(c > threshold)`` for a 3D array (C order), threads over z slabs."""
    nz, ny, nx = c.shape
    counts = np.zeros(nz + 1, np.int64)
    for a in numba.prange(nz):
        n = 0
        for b in range(ny):
            for k in range(nx):
                if c[a, b, k] > threshold:
                    n += 1
        counts[a + 1] = n
    for a in range(nz):
        counts[a + 1] += counts[a]
    out = np.empty((counts[nz], 3), np.int64)
    for a in numba.prange(nz):
        q = counts[a]
        for b in range(ny):
            for k in range(nx):
                if c[a, b, k] > threshold:
                    out[q, 0] = a
                    out[q, 1] = b
                    out[q, 2] = k
                    q += 1
    return out


@numba.njit(cache=True)
def _point_values_kernel(parts, pts, T, w2, Dr, kr, scale, out):
    """Reference (readable) point values: every particle against every point.

    Particle ``p`` (rows of :func:`~.particles._particles`: x, y, z, mass, release time,
    root) adds ``m exp(-d^2 / (2 s^2)) / (2 pi s^2)^1.5`` with ``s^2 = w^2 + 2 D' tau``
    where ``d^2 < 80 s^2``. The specification of :func:`_point_values_binned`.
    """
    for p in range(parts.shape[0]):
        tau = T - parts[p, 4]
        s2 = w2 + 2.0 * Dr * tau
        if s2 <= 0:
            continue
        m = parts[p, 3] * math.exp(-kr * tau) * scale / (2.0 * math.pi * s2) ** 1.5
        for i in range(pts.shape[0]):
            d2 = (pts[i, 0] - parts[p, 0]) ** 2 + (pts[i, 1] - parts[p, 1]) ** 2 + (pts[i, 2] - parts[p, 2]) ** 2
            if d2 < 80.0 * s2:
                out[i] += m * math.exp(-0.5 * d2 / s2)


@numba.njit(cache=True, inline="always")
def _cut_radius(s2):
    """Radius [cm] beyond which :func:`_point_values_kernel` skips a particle of variance
    ``s2`` (``sqrt(80 s2)``), widened by 1e-9 relative so that binning never loses a term."""
    return math.sqrt(80.0 * s2) * (1.0 + 1e-9)


@numba.njit(cache=True, inline="always")
def _bin_of(x, lo, b, nb):
    """Bin index of coordinate ``x`` on bins of size ``b`` from ``lo``, clipped to [0, nb)."""
    k = math.floor((x - lo) / b)
    if k < 0:
        return 0
    if k >= nb:
        return nb - 1
    return int(k)


@numba.njit(cache=True)
def _slab_lists(parts, T, w2, Dr, lo0, b, nb0):
    """Particles per slab of bins along axis 0 (CSR; ascending particle order in each slab)."""
    n = parts.shape[0]
    first = np.zeros(n, np.int64)
    last = np.full(n, -1, np.int64)
    count = np.zeros(nb0 + 1, np.int64)
    for p in range(n):
        s2 = w2 + 2.0 * Dr * (T - parts[p, 4])
        if s2 <= 0:
            continue
        r = _cut_radius(s2)
        a = math.floor((parts[p, 0] - r - lo0) / b)
        z = math.floor((parts[p, 0] + r - lo0) / b)
        if z < 0 or a >= nb0:
            continue
        first[p] = max(0, int(a))
        last[p] = min(nb0 - 1, int(z))
        for s in range(first[p], last[p] + 1):
            count[s + 1] += 1
    for s in range(nb0):
        count[s + 1] += count[s]
    fill = count[:-1].copy()
    lists = np.empty(count[nb0], np.int64)
    for p in range(n):
        for s in range(first[p], last[p] + 1):
            lists[fill[s]] = p
            fill[s] += 1
    return count, lists


@numba.njit(cache=True, parallel=True)
def _point_values_binned(parts, pts, order, bin_ptr, lo, b, nb, slab_ptr, slab_parts, T, w2, Dr, kr,
                         scale, out):
    """:func:`_point_values_kernel` with the points in bins: each particle visits only the
    bins its cut-off sphere overlaps. Threads own slabs of bins along axis 0, and every
    point sums its particles in ascending order as the reference does: the same terms in
    the same order, hence the same numbers on any thread count.

    ``order``/``bin_ptr``: the points sorted by bin (CSR over the ``nb`` bins of size ``b``
    from ``lo``); ``slab_ptr``/``slab_parts``: :func:`_slab_lists`.
    """
    nb1, nb2 = nb[1], nb[2]
    for s in numba.prange(nb[0]):
        for q in range(slab_ptr[s], slab_ptr[s + 1]):
            p = slab_parts[q]
            tau = T - parts[p, 4]
            s2 = w2 + 2.0 * Dr * tau
            m = parts[p, 3] * math.exp(-kr * tau) * scale / (2.0 * math.pi * s2) ** 1.5
            r = _cut_radius(s2)
            y0 = math.floor((parts[p, 1] - r - lo[1]) / b)
            y1 = math.floor((parts[p, 1] + r - lo[1]) / b)
            x0 = math.floor((parts[p, 2] - r - lo[2]) / b)
            x1 = math.floor((parts[p, 2] + r - lo[2]) / b)
            if y1 < 0 or x1 < 0 or y0 >= nb1 or x0 >= nb2:
                continue
            for j in range(max(0, int(y0)), min(nb1 - 1, int(y1)) + 1):
                for k in range(max(0, int(x0)), min(nb2 - 1, int(x1)) + 1):
                    cell = (s * nb1 + j) * nb2 + k
                    for t in range(bin_ptr[cell], bin_ptr[cell + 1]):
                        i = order[t]
                        d2 = ((pts[i, 0] - parts[p, 0]) ** 2 + (pts[i, 1] - parts[p, 1]) ** 2
                              + (pts[i, 2] - parts[p, 2]) ** 2)
                        if d2 < 80.0 * s2:
                            out[i] += m * math.exp(-0.5 * d2 / s2)


def _point_bins(pts: np.ndarray, per_bin: float = 4.0):
    """Bins for :func:`_point_values_binned`: the axis with most bins first.

    Cubic bins sized so that there are about ``n / per_bin`` of them over the points'
    bounding box (never fewer than 1 per axis). Returns the column permutation, ``lo``,
    the bin size, the bin counts, the points' sort order and the CSR pointer over bins.
    """
    n = len(pts)
    lo = pts.min(axis=0)
    ext = pts.max(axis=0) - lo
    big = float(ext.max())
    b = big if big > 0 else 1.0
    nb = np.ones(3, np.int64)
    while True:                      # halve the bins until there are about n / per_bin
        nb = np.maximum(1, np.ceil(ext / b * (1 + 1e-12))).astype(np.int64)
        if big == 0 or nb.prod() * per_bin >= n:
            break
        b *= 0.5
    perm = np.argsort(-nb, kind="stable")
    idx = np.minimum(np.floor((pts - lo) / b).astype(np.int64), nb - 1)[:, perm]
    nbp = nb[perm]
    flat = (idx[:, 0] * nbp[1] + idx[:, 1]) * nbp[2] + idx[:, 2]
    order = np.argsort(flat, kind="stable")
    ptr = np.zeros(int(nbp.prod()) + 1, np.int64)
    np.cumsum(np.bincount(flat, minlength=int(nbp.prod())), out=ptr[1:])
    return perm, lo[perm], float(b), nbp, order, ptr


def concentration_points(root_system, points, T: float, params: ExudateParameters, *,
                         discretisation: FieldDiscretisation = FieldDiscretisation()) -> np.ndarray:
    """Liquid concentration [ug cm-3] at points from the same particles as the grid fields.

    The fast counterpart of :func:`~rhizoscale.rhizodeposition.green.concentration_at`
    (point values instead of voxel averages); used to test the particle discretisation.

    Parameters
    ----------
    root_system : RootSystem or RootPaths
        The growing root system.
    points : (n, 3) array
        Where to evaluate [cm].
    T : float
        Time [d], at most the root system's age.
    params : ExudateParameters
        Release and transport parameters.
    discretisation : FieldDiscretisation
        Particle accuracy knobs.

    Returns
    -------
    (n,) ndarray
        Liquid concentration [ug cm-3].

    Raises
    ------
    InputError
        ``T`` beyond the root system's age.

    Examples
    --------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters, concentration_points, straight_root_system
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> c = concentration_points(straight_root_system(0.5, 10.0), [[0.05, 0.0, -4.0]], 10.0, mucilage)
    >>> round(float(c[0]))                    # exact quadrature: 4055.2
    4055
    """
    paths = root_system if isinstance(root_system, RootPaths) else root_paths(root_system)
    if T > paths.age + 1e-9:
        raise InputError(f"time {T:g} d is beyond the root system's age {paths.age:g} d", field="T")
    pts = np.ascontiguousarray(np.atleast_2d(points), dtype=float)
    if pts.size == 0:
        pts = pts.reshape(0, 3)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise InputError(f"points must be an (n, 3) array of x, y, z [cm], got shape {pts.shape}",
                         field="points")
    if not np.isfinite(pts).all():      # the point bins would span without end
        raise InputError("points must be finite (a NaN or infinite coordinate)", field="points")
    parts = _particles(paths, T, params, discretisation)
    out = np.zeros(len(pts))
    if len(pts) == 0 or len(parts) == 0:
        return out
    args = (float(T), params.source_width ** 2, params.diffusivity_retarded)
    perm, lo, b, nb, order, ptr = _point_bins(pts)
    pts_p = np.ascontiguousarray(pts[:, perm])
    parts_p = np.ascontiguousarray(np.concatenate([parts[:, perm], parts[:, 3:]], axis=1))
    slab_ptr, slab_parts = _slab_lists(parts_p, *args, lo[0], b, nb[0])
    _point_values_binned(parts_p, pts_p, order, ptr, lo, b, nb, slab_ptr, slab_parts, *args,
                         params.decay_retarded, 1.0 / (params.theta * params.R), out)
    return out

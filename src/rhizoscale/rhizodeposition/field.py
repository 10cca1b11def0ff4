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

from ..errors import InputError
from ..grid import RegularGrid
from .green import RootPaths, root_paths
from .parameters import ExudateParameters

__all__ = [
    "FieldDiscretisation",
    "FieldSnapshot",
    "released_mass",
    "rhizodeposition_fields",
    "default_direct_age",
    "heat_propagate",
]

_GL = 1.0 / math.sqrt(3.0)


@dataclass(frozen=True)
class FieldDiscretisation:
    """Accuracy knobs of the grid fields (see the module docstring for the error bounds).

    Attributes
    ----------
    spacing : float
        Particle spacing in units of the smallest kernel width of their chunk.
    age_ratio : float
        Largest growth factor of the kernel variance within one age chunk.
    youngest_age : float
        Age [d] below which releases form one chunk.
    n_sigma : float
        Kernel cut-off in standard deviations per axis.
    """

    spacing: float = 1.0
    age_ratio: float = 1.125
    youngest_age: float = 1e-5
    n_sigma: float = 6.0


@dataclass
class FieldSnapshot:
    """The field of one exudate at one output time.

    Attributes
    ----------
    time : float
        Output time [d].
    concentration : ndarray (z, y, x)
        Voxel-averaged liquid concentration [ug cm-3].
    single_root_max : ndarray or None
        Per voxel, the largest concentration any single root produces alone [ug cm-3]
        (None when not tracked).
    single_root_complete : bool
        False when old mass was propagated (then ``single_root_max`` misses each root's
        releases older than ``direct_age``).
    released : float
        Mass released up to ``time`` [ug] (without decay).
    expected_mass : float
        Mass still present (released, decayed) [ug], exact integral.
    mass_in_domain : float
        Mass on the grid [ug] (``theta R sum(c) V``).
    """

    time: float
    concentration: np.ndarray
    single_root_max: np.ndarray | None
    single_root_complete: bool
    released: float
    expected_mass: float
    mass_in_domain: float

    @property
    def mass_outside(self) -> float:
        """Mass that left the domain (or was released outside it) [ug]."""
        return self.expected_mass - self.mass_in_domain


# ----------------------------------------------------------------------------- particles
@numba.njit(cache=True)
def _interp(x, xp, fp):
    n = xp.shape[0]
    if x <= xp[0]:
        return fp[0]
    if x >= xp[n - 1]:
        return fp[n - 1]
    lo, hi = 0, n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xp[mid] <= x:
            lo = mid
        else:
            hi = mid
    d = xp[hi] - xp[lo]
    if d <= 0.0:
        return fp[hi]
    return fp[lo] + (fp[hi] - fp[lo]) * (x - xp[lo]) / d


@numba.njit(cache=True)
def _inv_arc(s, arc, tm):
    """First time the tip reached arc length ``s`` (inf if never)."""
    n = arc.shape[0]
    if s > arc[n - 1]:
        return np.inf
    if s <= arc[0]:
        return tm[0]
    lo, hi = 0, n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if arc[mid] < s:
            lo = mid
        else:
            hi = mid
    d = arc[hi] - arc[lo]
    if d <= 0.0:
        return tm[hi]
    return tm[lo] + (tm[hi] - tm[lo]) * (s - arc[lo]) / d


@numba.njit(cache=True)
def _push(buf, n, x, y, z, m, t, r):
    if n < buf.shape[0]:
        buf[n, 0] = x
        buf[n, 1] = y
        buf[n, 2] = z
        buf[n, 3] = m
        buf[n, 4] = t
        buf[n, 5] = r
    return n + 1


@numba.njit(cache=True)
def _particles_kernel(ptr, ptime, ppos, parc, T, t_lo, t_hi, line, Q, l_rel, keep_line, w2, Dr,
                      age_edges, spacing, kr, buf):
    """Fill ``buf`` rows (x, y, z, mass, release time, root); return the count (may exceed size)."""
    n = 0
    n_edges = age_edges.shape[0]
    for r in range(ptr.shape[0] - 1):
        i0, i1 = ptr[r], ptr[r + 1]
        if i1 - i0 < 2:
            continue
        tm = ptime[i0:i1]
        pos = ppos[i0:i1]
        arc = parc[i0:i1]
        if arc[arc.shape[0] - 1] <= 0.0:
            continue
        t_start = tm[0]
        t_stop = tm[tm.shape[0] - 1]
        t_end = min(t_stop, T) if (not line or not keep_line) else T
        lo = max(t_start, t_lo)
        hi = min(t_end, t_hi)
        if hi <= lo:
            continue
        # chunk edges: release times T - age_edges within [lo, hi] (and node times for points)
        for e in range(n_edges - 1):
            a = max(lo, T - age_edges[e + 1])
            b = min(hi, T - age_edges[e])
            if b <= a:
                continue
            s_min2 = w2 + 2.0 * Dr * (T - b)
            sig_min = math.sqrt(s_min2) if s_min2 > 0 else 1e-300
            step = spacing * sig_min
            if not line:
                # split at node times, then by path length
                k = 0
                while k < tm.shape[0] - 1:
                    ta = max(a, tm[k])
                    tb = min(b, tm[k + 1])
                    k += 1
                    if tb <= ta:
                        continue
                    d = 0.0
                    for c in range(3):
                        pa = _interp(ta, tm, pos[:, c])
                        pb = _interp(tb, tm, pos[:, c])
                        d += (pb - pa) ** 2
                    npiece = max(1, int(math.ceil(math.sqrt(d) / step)))
                    h = (tb - ta) / npiece
                    for p in range(npiece):
                        mid = ta + (p + 0.5) * h
                        for g in range(2):
                            tg = mid + (g * 2 - 1) * _GL * 0.5 * h
                            n = _push(buf, n, _interp(tg, tm, pos[:, 0]), _interp(tg, tm, pos[:, 1]),
                                      _interp(tg, tm, pos[:, 2]), Q * 0.5 * h, tg, r)
            else:
                # release zone swept during [a, b]: arcs [S(a) - l, S(b)]
                sa = _interp(a, tm, arc)
                sb = _interp(b, tm, arc)
                s_lo = max(0.0, sa - l_rel)
                s_hi = sb
                if s_hi <= s_lo:
                    continue
                # breakpoints: path nodes, the zone ends and the nodes shifted by l
                m = 0
                bp = np.empty(2 * arc.shape[0] + 4)
                bp[m] = s_lo
                m += 1
                bp[m] = s_hi
                m += 1
                for q in (sa, sb - l_rel, sa - l_rel):
                    if s_lo < q < s_hi:
                        bp[m] = q
                        m += 1
                for j in range(arc.shape[0]):
                    if s_lo < arc[j] < s_hi:
                        bp[m] = arc[j]
                        m += 1
                    q = arc[j] - l_rel
                    if s_lo < q < s_hi:
                        bp[m] = q
                        m += 1
                bps = np.sort(bp[:m])
                s_final = arc[arc.shape[0] - 1]
                for j in range(m - 1):
                    u0, u1 = bps[j], bps[j + 1]
                    if u1 <= u0:
                        continue
                    npiece = max(1, int(math.ceil((u1 - u0) / step)))
                    h = (u1 - u0) / npiece
                    for p in range(npiece):
                        mid = u0 + (p + 0.5) * h
                        for g in range(2):
                            sg = mid + (g * 2 - 1) * _GL * 0.5 * h
                            t_in = max(a, _inv_arc(sg, arc, tm))
                            if sg + l_rel > s_final:
                                t_out = b if keep_line else min(b, t_stop)
                            else:
                                t_out = min(b, _inv_arc(sg + l_rel, arc, tm))
                            if t_out <= t_in:
                                continue
                            x = _interp(sg, arc, pos[:, 0])
                            y = _interp(sg, arc, pos[:, 1])
                            z = _interp(sg, arc, pos[:, 2])
                            # exact mean of the decay factor over the release interval
                            half = 0.5 * kr * (t_out - t_in)
                            f = math.sinh(half) / half if half > 1e-8 else 1.0
                            n = _push(buf, n, x, y, z, Q * 0.5 * h * (t_out - t_in) * f, 0.5 * (t_in + t_out), r)
    return n


def _age_edges(T: float, params: ExudateParameters, disc: FieldDiscretisation) -> np.ndarray:
    w2, Dr = params.source_width ** 2, params.diffusivity_retarded
    edges = [0.0, min(disc.youngest_age, T)]
    if w2 > 0:
        # with a source width the kernel barely changes at first: the first chunk may be longer
        edges[1] = max(edges[1], min(T, (disc.age_ratio - 1) * w2 / (2 * Dr)))
    while edges[-1] < T:
        tau = edges[-1]
        s2 = w2 + 2 * Dr * tau
        edges.append(min(T, tau + (disc.age_ratio - 1) * s2 / (2 * Dr)))
    return np.asarray(edges + [np.inf])


def _particles(paths: RootPaths, T, params, disc, t_lo=-np.inf, t_hi=np.inf) -> np.ndarray:
    age_edges = _age_edges(T, params, disc)
    size = 4096
    while True:
        buf = np.empty((size, 6))
        n = _particles_kernel(paths.ptr, paths.time, paths.pos, paths.arc, float(T), float(t_lo),
                              float(t_hi), params.release == "line", params.Q, params.release_length,
                              params.stopped_roots == "continue", params.source_width ** 2,
                              params.diffusivity_retarded, age_edges, disc.spacing,
                              params.decay_retarded, buf)
        if n <= size:
            return buf[:n]
        size = n


# ----------------------------------------------------------------------------- deposition
@numba.njit(cache=True)
def _axis_fractions(x, sig, lower, h, n, n_sigma, out):
    """Fraction of a 1D Gaussian (mean x, sd sig) in each cell of a box; returns first index, count."""
    i0 = int(math.floor((x - n_sigma * sig - lower) / h))
    i1 = int(math.floor((x + n_sigma * sig - lower) / h))
    i0 = max(i0, 0)
    i1 = min(i1, n - 1)
    if i1 < i0:
        return 0, 0
    inv = 1.0 / (math.sqrt(2.0) * sig)
    prev = math.erf((lower + i0 * h - x) * inv)
    for i in range(i0, i1 + 1):
        cur = math.erf((lower + (i + 1) * h - x) * inv)
        out[i - i0] = 0.5 * (cur - prev)
        prev = cur
    return i0, i1 - i0 + 1


@numba.njit(cache=True)
def _deposit_kernel(parts, T, w2, Dr, kr, scale, lower, h, shape, n_sigma, total, rootmax, track):
    """Add every particle's voxel-integrated kernel to ``total``; per-root max into ``rootmax``."""
    nz, ny, nx = shape[0], shape[1], shape[2]
    np_ = parts.shape[0]
    start = 0
    while start < np_:
        r = parts[start, 5]
        stop = start
        while stop < np_ and parts[stop, 5] == r:
            stop += 1
        # bounding box of this root's kernels
        bx0, by0, bz0 = nx, ny, nz
        bx1, by1, bz1 = -1, -1, -1
        for p in range(start, stop):
            tau = T - parts[p, 4]
            sig = math.sqrt(w2 + 2.0 * Dr * tau)
            if sig <= 0:
                sig = 1e-12
            ext = n_sigma * sig
            bx0 = min(bx0, max(0, int(math.floor((parts[p, 0] - ext - lower[0]) / h[0]))))
            by0 = min(by0, max(0, int(math.floor((parts[p, 1] - ext - lower[1]) / h[1]))))
            bz0 = min(bz0, max(0, int(math.floor((parts[p, 2] - ext - lower[2]) / h[2]))))
            bx1 = max(bx1, min(nx - 1, int(math.floor((parts[p, 0] + ext - lower[0]) / h[0]))))
            by1 = max(by1, min(ny - 1, int(math.floor((parts[p, 1] + ext - lower[1]) / h[1]))))
            bz1 = max(bz1, min(nz - 1, int(math.floor((parts[p, 2] + ext - lower[2]) / h[2]))))
        if bx1 < bx0 or by1 < by0 or bz1 < bz0:
            start = stop
            continue
        lx, ly, lz = bx1 - bx0 + 1, by1 - by0 + 1, bz1 - bz0 + 1
        if track:
            local = np.zeros((lz, ly, lx))
        fx = np.empty(nx)
        fy = np.empty(ny)
        fz = np.empty(nz)
        for p in range(start, stop):
            tau = T - parts[p, 4]
            sig = math.sqrt(w2 + 2.0 * Dr * tau)
            if sig <= 0:
                sig = 1e-12
            m = parts[p, 3] * math.exp(-kr * tau) * scale
            ix, cx = _axis_fractions(parts[p, 0], sig, lower[0], h[0], nx, n_sigma, fx)
            iy, cy = _axis_fractions(parts[p, 1], sig, lower[1], h[1], ny, n_sigma, fy)
            iz, cz = _axis_fractions(parts[p, 2], sig, lower[2], h[2], nz, n_sigma, fz)
            for a in range(cz):
                va = m * fz[a]
                for b in range(cy):
                    vb = va * fy[b]
                    if track:
                        for c in range(cx):
                            local[iz + a - bz0, iy + b - by0, ix + c - bx0] += vb * fx[c]
                    else:
                        for c in range(cx):
                            total[iz + a, iy + b, ix + c] += vb * fx[c]
        if track:
            for a in range(lz):
                for b in range(ly):
                    for c in range(lx):
                        v = local[a, b, c]
                        total[bz0 + a, by0 + b, bx0 + c] += v
                        if v > rootmax[bz0 + a, by0 + b, bx0 + c]:
                            rootmax[bz0 + a, by0 + b, bx0 + c] = v
        start = stop


def _deposit(parts, T, params, grid, disc, total, rootmax):
    if len(parts) == 0:
        return
    sp = grid.spacing
    scale = 1.0 / (params.theta * params.R * grid.cell_volume)
    _deposit_kernel(parts, float(T), params.source_width ** 2, params.diffusivity_retarded,
                    params.decay_retarded, scale, np.asarray(grid.lower, float), np.asarray(sp, float),
                    np.asarray(grid.shape, np.int64), disc.n_sigma, total,
                    rootmax if rootmax is not None else np.zeros((1, 1, 1)), rootmax is not None)


# ----------------------------------------------------------------------------- heat kernel
@numba.njit(parallel=True, cache=True)
def _convolve_axis(src, dst, w, axis):
    nz, ny, nx = src.shape
    rad = (w.shape[0] - 1) // 2
    if axis == 2:
        for a in numba.prange(nz):
            for b in range(ny):
                for c in range(nx):
                    acc = 0.0
                    for j in range(max(0, c - rad), min(nx, c + rad + 1)):
                        acc += w[j - c + rad] * src[a, b, j]
                    dst[a, b, c] = acc
    elif axis == 1:
        for a in numba.prange(nz):
            for b in range(ny):
                for c in range(nx):
                    dst[a, b, c] = 0.0
                for j in range(max(0, b - rad), min(ny, b + rad + 1)):
                    wj = w[j - b + rad]
                    for c in range(nx):
                        dst[a, b, c] += wj * src[a, j, c]
    else:
        for a in numba.prange(nz):
            for b in range(ny):
                for c in range(nx):
                    dst[a, b, c] = 0.0
            for j in range(max(0, a - rad), min(nz, a + rad + 1)):
                wj = w[j - a + rad]
                for b in range(ny):
                    for c in range(nx):
                        dst[a, b, c] += wj * src[j, b, c]


def _sampled_gaussian(sigma_cells: float, n_sigma: float) -> np.ndarray:
    if sigma_cells <= 0:
        return np.ones(1)
    rad = max(1, int(math.ceil(n_sigma * sigma_cells)))
    k = np.arange(-rad, rad + 1)
    w = np.exp(-0.5 * (k / sigma_cells) ** 2)
    return w / w.sum()


def heat_propagate(field: np.ndarray, grid: RegularGrid, dt: float, params: ExudateParameters,
                   n_sigma: float = 6.0) -> np.ndarray:
    """Advance a voxel-averaged field by ``dt`` days of diffusion and decay (open boundaries).

    Convolves with the normalised sampled Gaussian of variance ``2 D' dt`` along each axis
    and multiplies by ``exp(-k' dt)``. Mass that diffuses past the boundary is lost.
    Exact for fields whose spectrum lies below the grid's Nyquist wavenumber.
    """
    var = 2 * params.diffusivity_retarded * dt
    sp = grid.spacing
    a = np.ascontiguousarray(field, dtype=np.float64)
    b = np.empty_like(a)
    for axis, h in ((2, sp[0]), (1, sp[1]), (0, sp[2])):
        w = _sampled_gaussian(math.sqrt(var) / h, n_sigma)
        _convolve_axis(a, b, w, axis)
        a, b = b, a
    a *= math.exp(-params.decay_retarded * dt)
    return a


# ----------------------------------------------------------------------------- mass
def released_mass(paths: RootPaths, T: float, params: ExudateParameters, decay: bool = True) -> float:
    """Mass released up to ``T`` [ug], decayed to ``T`` when ``decay`` (exact integral).

    Point source: ``sum Q int exp(-k'(T - t)) dt`` over each root's growth period.
    Line source: ``Q`` times the release-zone length, integrated the same way (the zone
    length is piecewise linear in time, integrated by adaptive quadrature).
    """
    from scipy import integrate
    kr = params.decay_retarded if decay else 0.0
    total = 0.0
    for i in range(paths.n_roots):
        tm, _, arc = paths.root(i)
        if len(tm) < 2 or arc[-1] <= 0:
            continue
        t0 = tm[0]
        t1 = min(tm[-1], T) if (params.release == "point" or params.stopped_roots == "stop") else T
        if t1 <= t0:
            continue
        if params.release == "point":
            total += params.Q * (t1 - t0 if kr == 0 else (np.exp(-kr * (T - t1)) - np.exp(-kr * (T - t0))) / kr)
        else:
            l_rel = params.release_length
            brk = np.concatenate([tm, np.interp(arc + l_rel, arc, tm, right=np.inf)])
            brk = np.unique(np.clip(brk[np.isfinite(brk)], t0, t1))
            f = lambda t: (np.interp(t, tm, arc) - max(0.0, np.interp(t, tm, arc) - l_rel)) * np.exp(-kr * (T - t))
            for a, b in zip(brk[:-1], brk[1:]):
                if b > a:
                    total += params.Q * integrate.quad(f, a, b, epsabs=0, epsrel=1e-13, limit=200)[0]
    return total


def default_direct_age(params: ExudateParameters, grid: RegularGrid, factor: float = 2.0) -> float:
    """Age [d] from which old mass may be propagated: its kernel is ``factor`` cells wide."""
    h = float(np.max(grid.spacing))
    return max(0.0, ((factor * h) ** 2 - params.source_width ** 2) / (2 * params.diffusivity_retarded))


def rhizodeposition_fields(root_system, grid: RegularGrid, params: ExudateParameters, times, *,
                           track_single_root: bool = True, direct_age: float | None = np.inf,
                           discretisation: FieldDiscretisation = FieldDiscretisation(),
                           callback=None):
    """Voxel-averaged liquid concentration of one exudate at each output time (a generator).

    Parameters
    ----------
    root_system : RootSystem or RootPaths
        The growing root system (node times give the tip paths).
    grid : RegularGrid
    params : ExudateParameters
    times : sequence of float
        Increasing output times [d], each at most the root system's age.
    track_single_root : bool
        Also return, per voxel, the largest concentration of any single root alone (for
        :func:`~rhizoscale.rhizodeposition.analysis.overlap_share`).
    direct_age : float or None
        Releases younger than this [d] are evaluated directly at every output time; older
        mass is propagated with the heat kernel. ``inf`` (default): everything direct
        (exact, slowest); ``None``: :func:`default_direct_age` (fast, accurate when the
        kernel of the oldest directly evaluated mass spans two cells).
    discretisation : FieldDiscretisation
    callback : callable(done, total), optional
        Progress.

    Yields
    ------
    FieldSnapshot
    """
    paths = root_system if isinstance(root_system, RootPaths) else root_paths(root_system)
    times = np.asarray(times, float).reshape(-1)
    if len(times) == 0:
        return
    if np.any(np.diff(times) <= 0) or times[0] < 0:
        raise InputError("output times must be non-negative and increasing", field="times")
    if times[-1] > paths.age + 1e-9:
        raise InputError(f"output time {times[-1]:g} d is beyond the root system's age "
                         f"{paths.age:g} d", field="times")
    if direct_age is None:
        direct_age = default_direct_age(params, grid)
    old = None
    cut_prev = -np.inf
    t_prev = None
    for n, T in enumerate(times):
        cut = T - direct_age
        if np.isfinite(cut) and cut > (paths.time.min() if len(paths.time) else 0.0):
            old = np.zeros(grid.shape) if old is None else heat_propagate(old, grid, T - t_prev, params,
                                                                          discretisation.n_sigma)
            grad = _particles(paths, T, params, discretisation, t_lo=cut_prev, t_hi=cut)
            _deposit(grad, T, params, grid, discretisation, old, None)
            cut_prev = cut
        elif old is not None:
            old = heat_propagate(old, grid, T - t_prev, params, discretisation.n_sigma)
        total = np.zeros(grid.shape)
        rootmax = np.zeros(grid.shape) if track_single_root else None
        young = _particles(paths, T, params, discretisation, t_lo=cut_prev, t_hi=np.inf)
        _deposit(young, T, params, grid, discretisation, total, rootmax)
        if old is not None:
            total += old
        mass = float(total.sum() * params.theta * params.R * grid.cell_volume)
        yield FieldSnapshot(
            time=float(T), concentration=total, single_root_max=rootmax,
            single_root_complete=old is None,
            released=released_mass(paths, T, params, decay=False),
            expected_mass=released_mass(paths, T, params, decay=True),
            mass_in_domain=mass,
        )
        t_prev = T
        if callback is not None:
            callback(n + 1, len(times))


@numba.njit(cache=True)
def _point_values_kernel(parts, pts, T, w2, Dr, kr, scale, out):
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


def concentration_points(root_system, points, T: float, params: ExudateParameters, *,
                         discretisation: FieldDiscretisation = FieldDiscretisation()) -> np.ndarray:
    """Liquid concentration [ug cm-3] at points from the same particles as the grid fields.

    The fast counterpart of :func:`~rhizoscale.rhizodeposition.green.concentration_at`
    (point values instead of voxel averages); used to test the particle discretisation.
    """
    paths = root_system if isinstance(root_system, RootPaths) else root_paths(root_system)
    if T > paths.age + 1e-9:
        raise InputError(f"time {T:g} d is beyond the root system's age {paths.age:g} d", field="T")
    pts = np.ascontiguousarray(np.atleast_2d(points), dtype=float)
    parts = _particles(paths, T, params, discretisation)
    out = np.zeros(len(pts))
    _point_values_kernel(parts, pts, float(T), params.source_width ** 2, params.diffusivity_retarded,
                         params.decay_retarded, 1.0 / (params.theta * params.R), out)
    return out

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
from ..core.grid import RegularGrid
from .green import RootPaths, root_paths
from .parameters import ExudateParameters

__all__ = [
    "FieldDiscretisation",
    "FieldSnapshot",
    "released_mass",
    "rhizodeposition_fields",
    "default_direct_age",
    "heat_propagate",
    "single_root_maximum",
]

_GL = 1.0 / math.sqrt(3.0)


@dataclass(frozen=True)
class FieldDiscretisation:
    """Accuracy knobs of the grid fields (see the module docstring for the error bounds).

    The defaults give a relative error of about 0.3 % (variance spread within an age
    chunk) and below 1e-3 (particle spacing); tests check 0.5 % against the exact
    steady state and adaptive quadrature.

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

    Examples
    --------
    >>> from rhizoscale.rhizodeposition import FieldDiscretisation
    >>> FieldDiscretisation(age_ratio=1.05)      # finer age chunks: more particles, smaller error
    FieldDiscretisation(spacing=1.0, age_ratio=1.05, youngest_age=1e-05, n_sigma=6.0)
    """

    spacing: float = 1.0
    age_ratio: float = 1.125
    youngest_age: float = 1e-5
    n_sigma: float = 6.0


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
    """

    time: float
    concentration: np.ndarray
    single_root_max: np.ndarray | None
    released: float
    expected_mass: float
    mass_in_domain: float

    @property
    def mass_outside(self) -> float:
        """Mass that left the domain (or was released outside it) [ug]."""
        return self.expected_mass - self.mass_in_domain


# ----------------------------------------------------------------------------- particles
@numba.njit(cache=True)
def _lerp_sorted(x, xp, fp, first):
    """Linear interpolation in ascending ``xp`` with ``xp[0] < x < xp[-1]``; where ``xp``
    repeats a value (a tip that stood still), ``first`` picks the first such node."""
    lo, hi = 0, xp.shape[0] - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xp[mid] < x or (not first and xp[mid] == x):
            lo = mid
        else:
            hi = mid
    d = xp[hi] - xp[lo]
    if d <= 0.0:
        return fp[hi]
    return fp[lo] + (fp[hi] - fp[lo]) * (x - xp[lo]) / d


@numba.njit(cache=True)
def _interp(x, xp, fp):
    """``np.interp`` for one point (constant beyond the ends)."""
    n = xp.shape[0]
    if x <= xp[0]:
        return fp[0]
    if x >= xp[n - 1]:
        return fp[n - 1]
    return _lerp_sorted(x, xp, fp, False)


@numba.njit(cache=True)
def _inv_arc(s, arc, tm):
    """First time the tip reached arc length ``s`` (inf if never)."""
    n = arc.shape[0]
    if s > arc[n - 1]:
        return np.inf
    if s <= arc[0]:
        return tm[0]
    return _lerp_sorted(s, arc, tm, True)


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
def _sigma(w2, Dr, tau):
    s2 = w2 + 2.0 * Dr * tau
    return math.sqrt(s2) if s2 > 1e-24 else 1e-12


@numba.njit(cache=True)
def _particle_boxes(parts, T, w2, Dr, lower, h, shape, n_sigma):
    """Clipped voxel box (z0, z1, y0, y1, x0, x1, inclusive; z1 < z0 when empty) of each particle."""
    P = parts.shape[0]
    boxes = np.empty((P, 6), np.int64)
    cost = np.empty(P)
    for p in range(P):
        sig = _sigma(w2, Dr, T - parts[p, 4])
        ext = n_sigma * sig
        c = 1.0
        for ax in range(3):
            n = shape[2 - ax]
            i0 = max(0, int(math.floor((parts[p, ax] - ext - lower[ax]) / h[ax])))
            i1 = min(n - 1, int(math.floor((parts[p, ax] + ext - lower[ax]) / h[ax])))
            boxes[p, 4 - 2 * ax] = i0
            boxes[p, 5 - 2 * ax] = i1
            c *= max(0, i1 - i0 + 1)
        if c == 0:
            boxes[p, 1] = boxes[p, 0] - 1
        cost[p] = 0.52 * c + 10.0
    return boxes, cost


@numba.njit(cache=True)
def _deposit_block(parts, T, w2, Dr, kr, scale, lower, h, n_sigma, cut, local):
    """Add the voxel-integrated kernels of ``parts`` to the block ``local`` (lower corner ``lower``).

    Rows (fixed z, y) where the kernel stays below ``cut`` times its peak are skipped
    (for ``cut = exp(-n_sigma^2 / 2)`` they lie outside the cylinder of radius
    ``n_sigma`` sd around the particle's x line; mass left out <= cut per particle).
    """
    nz, ny, nx = local.shape
    fx = np.empty(nx)
    fy = np.empty(ny)
    fz = np.empty(nz)
    for p in range(parts.shape[0]):
        tau = T - parts[p, 4]
        sig = _sigma(w2, Dr, tau)
        m = parts[p, 3] * math.exp(-kr * tau) * scale
        ix, cx = _axis_fractions(parts[p, 0], sig, lower[0], h[0], nx, n_sigma, fx)
        iy, cy = _axis_fractions(parts[p, 1], sig, lower[1], h[1], ny, n_sigma, fy)
        iz, cz = _axis_fractions(parts[p, 2], sig, lower[2], h[2], nz, n_sigma, fz)
        py = 0.0
        for b in range(cy):
            py = max(py, fy[b])
        pz = 0.0
        for a in range(cz):
            pz = max(pz, fz[a])
        level = cut * py * pz
        for a in range(cz):
            va = m * fz[a]
            for b in range(cy):
                if fz[a] * fy[b] < level:
                    continue
                vb = va * fy[b]
                for c in range(cx):
                    local[iz + a, iy + b, ix + c] += vb * fx[c]


@numba.njit(parallel=True, cache=True)
def _deposit_groups(parts, gstart, T, w2, Dr, kr, scale, lower, h, n_sigma, cut, total):
    """Groups ``0, 2, 4, ...`` deposit in parallel, then groups ``1, 3, ...``.

    Groups of one colour must write to disjoint z ranges of ``total`` (checked by the caller).
    """
    ng = gstart.shape[0] - 1
    for colour in range(2):
        nc = (ng - colour + 1) // 2
        for j in numba.prange(nc):
            g = colour + 2 * j
            _deposit_block(parts[gstart[g]:gstart[g + 1]], T, w2, Dr, kr, scale, lower, h, n_sigma, cut, total)


def _deposit(parts, T, params, grid, disc, total, n_groups=None):
    """Add the voxel averages of all particles' kernels at time ``T`` to ``total`` (in place).

    Particles are sorted by depth and cut into groups of about equal work whose kernels
    reach disjoint z ranges two groups apart; even groups deposit in parallel, then odd
    ones (no write conflicts, no scratch copies). Within a group the particles keep their
    generation order (root by root along the path), so consecutive kernels overlap and
    stay in cache. Where the groups cannot be made disjoint, fewer groups are used.
    """
    if len(parts) == 0:
        return
    lower = np.asarray(grid.lower, float)
    h = np.asarray(grid.spacing, float)
    shape = np.asarray(grid.shape, np.int64)
    w2, Dr = params.source_width ** 2, params.diffusivity_retarded
    boxes, cost = _particle_boxes(parts, float(T), w2, Dr, lower, h, shape, disc.n_sigma)
    idx = np.flatnonzero(boxes[:, 1] >= boxes[:, 0])
    if len(idx) == 0:
        return
    order = idx[np.argsort(boxes[idx, 0] + boxes[idx, 1], kind="stable")]
    if n_groups is None:
        n_groups = 2 * numba.get_num_threads()
    n_groups = max(1, min(n_groups, len(order) // 256 or 1))
    cum = np.cumsum(cost[order])
    while True:
        cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_groups) / n_groups)
        gstart = np.unique(np.concatenate([[0], cuts, [len(order)]])).astype(np.int64)
        zlo = np.minimum.reduceat(boxes[order, 0], gstart[:-1])
        zhi = np.maximum.reduceat(boxes[order, 1], gstart[:-1])
        ng = len(gstart) - 1
        disjoint = all(zhi[g] < zlo[k] or zhi[k] < zlo[g]
                       for g in range(ng) for k in range(g + 2, ng, 2))
        if disjoint or n_groups == 1:
            break
        n_groups = max(1, n_groups // 2)
    if n_groups == 1:
        gstart = np.array([0, len(order)], np.int64)
    for g0, g1 in zip(gstart[:-1], gstart[1:]):
        order[g0:g1] = np.sort(order[g0:g1])
    _deposit_groups(np.ascontiguousarray(parts[order]), gstart, float(T), w2, Dr, params.decay_retarded,
                    1.0 / (params.theta * params.R * grid.cell_volume), lower, h, disc.n_sigma,
                    math.exp(-0.5 * disc.n_sigma ** 2), total)


# ----------------------------------------------------------------------------- single roots
@numba.njit(cache=True)
def _single_root_kernel(parts, pstart, pend, T, w2, Dr, kr, scale, lower, h, shape, n_sigma, vox, bin_ptr,
                        bin_vox, bin_size, nb, best):
    """Largest single-root voxel average at the voxels ``vox`` over the roots of particle runs."""
    K = vox.shape[0]
    acc = np.zeros(K)
    touched = np.empty(K, np.int64)
    mark = np.zeros(K, np.bool_)
    fx = np.empty(shape[2])
    fy = np.empty(shape[1])
    fz = np.empty(shape[0])
    for run in range(pstart.shape[0]):
        nt = 0
        for p in range(pstart[run], pend[run]):
            tau = T - parts[p, 4]
            sig = _sigma(w2, Dr, tau)
            m = parts[p, 3] * math.exp(-kr * tau) * scale
            ix, cx = _axis_fractions(parts[p, 0], sig, lower[0], h[0], shape[2], n_sigma, fx)
            iy, cy = _axis_fractions(parts[p, 1], sig, lower[1], h[1], shape[1], n_sigma, fy)
            iz, cz = _axis_fractions(parts[p, 2], sig, lower[2], h[2], shape[0], n_sigma, fz)
            if cx == 0 or cy == 0 or cz == 0:
                continue
            for bz in range(iz // bin_size, (iz + cz - 1) // bin_size + 1):
                for by in range(iy // bin_size, (iy + cy - 1) // bin_size + 1):
                    for bx in range(ix // bin_size, (ix + cx - 1) // bin_size + 1):
                        bi = (bz * nb[1] + by) * nb[2] + bx
                        for q in range(bin_ptr[bi], bin_ptr[bi + 1]):
                            v = bin_vox[q]
                            a = vox[v, 0] - iz
                            b = vox[v, 1] - iy
                            c = vox[v, 2] - ix
                            if a < 0 or a >= cz or b < 0 or b >= cy or c < 0 or c >= cx:
                                continue
                            acc[v] += m * fz[a] * fy[b] * fx[c]
                            if not mark[v]:
                                mark[v] = True
                                touched[nt] = v
                                nt += 1
        for q in range(nt):
            v = touched[q]
            if acc[v] > best[v]:
                best[v] = acc[v]
            acc[v] = 0.0
            mark[v] = False


@numba.njit(parallel=True, cache=True)
def _single_root_parallel(parts, rstart, rend, n_chunks, T, w2, Dr, kr, scale, lower, h, shape, n_sigma, vox,
                          bin_ptr, bin_vox, bin_size, nb, out):
    K = vox.shape[0]
    R = rstart.shape[0]
    bests = np.zeros((n_chunks, K))
    for j in numba.prange(n_chunks):
        lo = (R * j) // n_chunks
        hi = (R * (j + 1)) // n_chunks
        _single_root_kernel(parts, rstart[lo:hi], rend[lo:hi], T, w2, Dr, kr, scale, lower, h, shape, n_sigma,
                            vox, bin_ptr, bin_vox, bin_size, nb, bests[j])
    for j in range(n_chunks):
        for v in range(K):
            if bests[j, v] > out[v]:
                out[v] = bests[j, v]


def single_root_maximum(paths: RootPaths, grid: RegularGrid, params: ExudateParameters, T: float, voxels,
                        discretisation: FieldDiscretisation = FieldDiscretisation()) -> np.ndarray:
    """Largest concentration any single root produces alone at the given voxels [ug cm-3].

    Every root's own field (all its releases, of every age, with their exact voxel-
    integrated kernels) is evaluated at the voxels only, and the maximum over roots is
    taken. This costs about as much as depositing the particles whose kernels reach the
    voxels, so it is meant for the few voxels of a hotspot.

    Parameters
    ----------
    paths : RootPaths
        Tip paths (:func:`~rhizoscale.rhizodeposition.root_paths`).
    grid : RegularGrid
        The voxels.
    params : ExudateParameters
        Release and transport parameters.
    T : float
        Time [d].
    voxels : (K, 3) int array
        Voxel indices (iz, iy, ix).
    discretisation : FieldDiscretisation
        Particle accuracy knobs (as for the grid field).

    Returns
    -------
    (K,) ndarray
        Largest single-root voxel-averaged concentration [ug cm-3] at each voxel.

    Examples
    --------
    With one root the maximum over roots is the field itself:

    >>> import numpy as np
    >>> from rhizoscale.grid import RegularGrid
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import (ExudateParameters, rhizodeposition_fields, root_paths,
    ...                                         straight_root_system)
    >>> from rhizoscale.rhizodeposition.field import single_root_maximum
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> paths = root_paths(straight_root_system(0.5, 10.0))
    >>> grid = RegularGrid.from_resolution((-0.3, -0.3, -5.3), (0.3, 0.3, 0.3), 0.02)
    >>> c = next(rhizodeposition_fields(paths, grid, mucilage, [10.0])).concentration
    >>> voxel = np.unravel_index(np.argmax(c), c.shape)
    >>> bool(np.isclose(single_root_maximum(paths, grid, mucilage, 10.0, [voxel])[0], c[voxel]))
    True
    """
    vox = np.ascontiguousarray(np.asarray(voxels, np.int64).reshape(-1, 3))
    out = np.zeros(len(vox))
    if len(vox) == 0:
        return out
    parts = _particles(paths, T, params, discretisation)
    if len(parts) == 0:
        return out
    # particles come out root by root: runs of equal root index
    r = parts[:, 5]
    brk = np.flatnonzero(np.diff(r) != 0) + 1
    rstart = np.concatenate([[0], brk]).astype(np.int64)
    rend = np.concatenate([brk, [len(parts)]]).astype(np.int64)
    if len(np.unique(r[rstart])) != len(rstart):
        raise RuntimeError("particles of one root are not contiguous")
    bin_size = 8
    shape = np.asarray(grid.shape, np.int64)
    nb = (shape + bin_size - 1) // bin_size
    b = vox // bin_size
    bi = (b[:, 0] * nb[1] + b[:, 1]) * nb[2] + b[:, 2]
    bin_vox = np.argsort(bi, kind="stable").astype(np.int64)
    bin_ptr = np.searchsorted(bi[bin_vox], np.arange(int(np.prod(nb)) + 1)).astype(np.int64)
    n_chunks = max(1, min(len(rstart), numba.get_num_threads()))
    _single_root_parallel(parts, rstart, rend, n_chunks, float(T), params.source_width ** 2,
                          params.diffusivity_retarded, params.decay_retarded,
                          1.0 / (params.theta * params.R * grid.cell_volume), np.asarray(grid.lower, float),
                          np.asarray(grid.spacing, float), shape, discretisation.n_sigma, vox, bin_ptr, bin_vox,
                          bin_size, nb.astype(np.int64), out)
    return out


# ----------------------------------------------------------------------------- heat kernel
@numba.njit(parallel=True, cache=True)
def _convolve_axis(src, dst, w, axis):
    """``dst = src * w`` along ``axis`` (zero outside; taps outermost so inner loops vectorise)."""
    nz, ny, nx = src.shape
    rad = (w.shape[0] - 1) // 2
    if axis == 2:
        for a in numba.prange(nz):
            pad = np.zeros(nx + 2 * rad)
            for b in range(ny):
                for c in range(nx):
                    pad[rad + c] = src[a, b, c]
                    dst[a, b, c] = 0.0
                for k in range(w.shape[0]):
                    wk = w[k]
                    for c in range(nx):
                        dst[a, b, c] += wk * pad[c + k]
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


@numba.njit(parallel=True, cache=True)
def _abs_max(field):
    nz = field.shape[0]
    m = np.zeros(nz)
    for a in numba.prange(nz):
        v = 0.0
        for b in range(field.shape[1]):
            for c in range(field.shape[2]):
                v = max(v, abs(field[a, b, c]))
        m[a] = v
    return m.max()


@numba.njit(parallel=True, cache=True)
def _support_box(field, tol):
    """Bounding box (z0, z1, y0, y1, x0, x1) of voxels with ``|field| > tol`` (z1 < z0 if none)."""
    nz, ny, nx = field.shape
    zb = np.full((nz, 4), -1, np.int64)
    for a in numba.prange(nz):
        y0, y1, x0, x1 = ny, -1, nx, -1
        for b in range(ny):
            for c in range(nx):
                if abs(field[a, b, c]) > tol:
                    y0 = min(y0, b)
                    y1 = max(y1, b)
                    x0 = min(x0, c)
                    x1 = max(x1, c)
        if y1 >= 0:
            zb[a, 0], zb[a, 1], zb[a, 2], zb[a, 3] = y0, y1, x0, x1
    box = np.array([nz, -1, ny, -1, nx, -1], np.int64)
    for a in range(nz):
        if zb[a, 1] >= 0:
            box[0] = min(box[0], a)
            box[1] = max(box[1], a)
            box[2] = min(box[2], zb[a, 0])
            box[3] = max(box[3], zb[a, 1])
            box[4] = min(box[4], zb[a, 2])
            box[5] = max(box[5], zb[a, 3])
    return box


def _sampled_gaussian(sigma_cells: float, n_sigma: float) -> np.ndarray:
    if sigma_cells <= 0:
        return np.ones(1)
    rad = max(1, int(math.ceil(n_sigma * sigma_cells)))
    k = np.arange(-rad, rad + 1)
    w = np.exp(-0.5 * (k / sigma_cells) ** 2)
    return w / w.sum()


def heat_propagate(field: np.ndarray, grid: RegularGrid, dt: float, params: ExudateParameters,
                   n_sigma: float = 6.0, support_tol: float = 1e-15) -> np.ndarray:
    """Advance a voxel-averaged field by ``dt`` days of diffusion and decay (open boundaries).

    Convolves with the normalised sampled Gaussian of variance ``2 D' dt`` along each axis
    and multiplies by ``exp(-k' dt)``. Mass that diffuses past the boundary is lost.
    Exact for fields whose spectrum lies below the grid's Nyquist wavenumber.

    Only the bounding box of the voxels above ``support_tol`` times the field's maximum,
    widened by the kernel radius, is convolved; the voxels left out hold at most
    ``n_voxels * support_tol`` of the mass (relative).

    Parameters
    ----------
    field : ndarray (z, y, x)
        Voxel-averaged liquid concentration [ug cm-3] on ``grid``.
    grid : RegularGrid
        The voxels.
    dt : float
        Time step [d].
    params : ExudateParameters
        ``D``, ``R`` and ``k`` (total mass moves with ``D/R`` and decays at ``k/R``).
    n_sigma : float
        Kernel cut-off in standard deviations.
    support_tol : float
        Relative level below which voxels are treated as empty.

    Returns
    -------
    ndarray
        The field ``dt`` days later (a new array).

    Examples
    --------
    Mass far from the boundary only decays, at ``k/R``:

    >>> import numpy as np
    >>> from rhizoscale.grid import RegularGrid
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters, heat_propagate
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> grid = RegularGrid.from_resolution((-0.5, -0.5, -0.5), (0.5, 0.5, 0.5), 0.05)
    >>> field = np.zeros(grid.shape)
    >>> field[10, 10, 10] = 1.0
    >>> later = heat_propagate(field, grid, 1.0, mucilage)
    >>> round(float(later.sum() / field.sum()), 6), round(float(np.exp(-mucilage.k)), 6)
    (0.802519, 0.802519)
    """
    var = 2 * params.diffusivity_retarded * dt
    sp = grid.spacing
    src = np.ascontiguousarray(field, dtype=np.float64)
    out = np.zeros_like(src)
    peak = _abs_max(src) if src.size else 0.0
    if peak == 0.0:
        return out
    box = _support_box(src, support_tol * peak)
    ws = [_sampled_gaussian(math.sqrt(var) / h, n_sigma) for h in (sp[2], sp[1], sp[0])]  # z, y, x
    sl = tuple(slice(max(0, box[2 * a] - (len(ws[a]) - 1) // 2), min(src.shape[a], box[2 * a + 1] + (len(ws[a]) - 1) // 2 + 1))
               for a in range(3))
    a = np.ascontiguousarray(src[sl])
    b = np.empty_like(a)
    for axis in (2, 1, 0):
        _convolve_axis(a, b, ws[axis], axis)
        a, b = b, a
    a *= math.exp(-params.decay_retarded * dt)
    out[sl] = a
    return out


# ----------------------------------------------------------------------------- mass
@numba.njit(cache=True)
def _exp_integrals(a, b, T, kr):
    """``int_a^b E dt`` and ``int_a^b (t - a) E dt`` with ``E = exp(-kr (T - t))`` (stable for small kr)."""
    d = b - a
    eb = math.exp(-kr * (T - b))
    x = kr * d
    if x < 1e-4:
        i0 = eb * d * (1.0 - x / 2.0 + x * x / 6.0)
        i1 = eb * d * d * (0.5 - x / 6.0 + x * x / 24.0)
    else:
        em = -math.expm1(-x)
        i0 = eb * d * em / x
        i1 = eb * d * d * (x - em) / (x * x)
    return i0, i1


@numba.njit(cache=True)
def _line_release_kernel(ptr, ptime, parc, T, l_rel, keep, kr):
    """``sum_roots int min(S(t), l) exp(-kr (T - t)) dt`` exactly (S piecewise linear in t)."""
    total = 0.0
    for r in range(ptr.shape[0] - 1):
        i0, i1 = ptr[r], ptr[r + 1]
        if i1 - i0 < 2 or parc[i1 - 1] <= 0.0:
            continue
        tm = ptime[i0:i1]
        arc = parc[i0:i1]
        n = tm.shape[0]
        t_end = T if keep else min(tm[n - 1], T)
        for j in range(n):
            # piece j: [tm[j], tm[j+1]] (the last piece: constant length after the root stopped)
            ta = tm[j]
            tb = tm[j + 1] if j < n - 1 else t_end
            sa = arc[j]
            sb = arc[j + 1] if j < n - 1 else arc[n - 1]
            a = max(ta, tm[0])
            b = min(tb, t_end)
            if b <= a or tb <= ta:
                continue
            slope = (sb - sa) / (tb - ta)
            s_at_a = sa + slope * (a - ta)
            s_at_b = sa + slope * (b - ta)
            # split where S crosses l
            cuts = [a, b]
            if (s_at_a - l_rel) * (s_at_b - l_rel) < 0.0:
                cuts = [a, a + (l_rel - s_at_a) / slope, b]
            for k in range(len(cuts) - 1):
                u, v = cuts[k], cuts[k + 1]
                if v <= u:
                    continue
                su = s_at_a + slope * (u - a)
                sv = s_at_a + slope * (v - a)
                e0, e1 = _exp_integrals(u, v, T, kr)
                if 0.5 * (su + sv) >= l_rel:
                    total += l_rel * e0
                else:
                    total += su * e0 + slope * e1
    return total


def released_mass(paths: RootPaths, T: float, params: ExudateParameters, decay: bool = True) -> float:
    """Mass released up to ``T`` [ug], decayed to ``T`` when ``decay`` (exact, closed form).

    Point source: ``sum Q int exp(-k'(T - t)) dt`` over each root's growth period.
    Line source: ``Q int min(S(t), l) exp(-k'(T - t)) dt`` with the tip's arc length
    ``S(t)`` piecewise linear in time, integrated piece by piece in closed form.

    Parameters
    ----------
    paths : RootPaths
        Tip paths (:func:`~rhizoscale.rhizodeposition.root_paths`).
    T : float
        Time [d].
    params : ExudateParameters
        Release rate ``Q`` and decay (``k/R`` acts on the total mass).
    decay : bool
        Subtract the mass that decayed before ``T``.

    Returns
    -------
    float
        Mass [ug].

    Examples
    --------
    A tip releases 33.38 ug d-1 for 10 days:

    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters, released_mass, root_paths, straight_root_system
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> paths = root_paths(straight_root_system(0.5, 10.0))
    >>> [round(float(released_mass(paths, 10.0, mucilage, decay=d)), 2) for d in (False, True)]
    [333.8, 134.92]
    """
    kr = params.decay_retarded if decay else 0.0
    if params.release == "line":
        return params.Q * _line_release_kernel(paths.ptr, paths.time, paths.arc, float(T),
                                               params.release_length, params.stopped_roots == "continue", kr)
    total = 0.0
    for i in range(paths.n_roots):
        tm, _, arc = paths.root(i)
        if len(tm) < 2 or arc[-1] <= 0:
            continue
        t0, t1 = tm[0], min(tm[-1], T)
        if t1 <= t0:
            continue
        total += params.Q * (t1 - t0 if kr == 0 else (np.exp(-kr * (T - t1)) - np.exp(-kr * (T - t0))) / kr)
    return total


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
    t_first = paths.time.min() if len(paths.time) else 0.0
    for n, T in enumerate(times):
        cut = T - direct_age
        if np.isfinite(cut) and cut > t_first:
            old = np.zeros(grid.shape) if old is None else heat_propagate(old, grid, T - t_prev, params,
                                                                          discretisation.n_sigma)
            grad = _particles(paths, T, params, discretisation, t_lo=cut_prev, t_hi=cut)
            _deposit(grad, T, params, grid, discretisation, old)
            cut_prev = cut
        elif old is not None:
            old = heat_propagate(old, grid, T - t_prev, params, discretisation.n_sigma)
        total = np.zeros(grid.shape) if old is None else old.copy()
        young = _particles(paths, T, params, discretisation, t_lo=cut_prev, t_hi=np.inf)
        _deposit(young, T, params, grid, discretisation, total)
        mass = float(total.sum() * params.theta * params.R * grid.cell_volume)
        rootmax = None
        if single_root_threshold is not None:
            rootmax = np.zeros(grid.shape)
            hot = np.argwhere(total > single_root_threshold)
            rootmax[tuple(hot.T)] = single_root_maximum(paths, grid, params, T, hot, discretisation)
        yield FieldSnapshot(
            time=float(T), concentration=total, single_root_max=rootmax,
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
    parts = _particles(paths, T, params, discretisation)
    out = np.zeros(len(pts))
    _point_values_kernel(parts, pts, float(T), params.source_width ** 2, params.diffusivity_retarded,
                         params.decay_retarded, 1.0 / (params.theta * params.R), out)
    return out

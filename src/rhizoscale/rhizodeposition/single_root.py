"""The largest concentration any single root alone produces in a voxel (overlap share)."""

from __future__ import annotations

import math

import numba
import numpy as np

from ..core.grid import RegularGrid
from .deposition import _axis_fractions, _particle_boxes, _sigma
from .green import RootPaths
from .parameters import ExudateParameters
from .particles import FieldDiscretisation, _particles

__all__ = ["single_root_maximum", "single_root_exceeds"]


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
def _single_root_parallel(parts, rstart, rend, chunk_ptr, T, w2, Dr, kr, scale, lower, h, shape, n_sigma, vox,
                          bin_ptr, bin_vox, bin_size, nb, out):
    """Chunks of whole roots (``chunk_ptr`` over the roots) in parallel, each into its own
    row of maxima, then the maximum over chunks: the same numbers on any thread count."""
    K = vox.shape[0]
    n_chunks = chunk_ptr.shape[0] - 1
    bests = np.zeros((n_chunks, K))
    for j in numba.prange(n_chunks):
        lo = chunk_ptr[j]
        hi = chunk_ptr[j + 1]
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
    prep = _prepare(paths, grid, params, T, vox, discretisation)
    if prep is None:
        return out
    parts, rstart, rend, chunk_ptr, vox_sorted, bin_ptr, bin_size, nb, order = prep
    out_sorted = np.zeros(len(vox))
    old_chunk = numba.set_parallel_chunksize(1)
    try:
        _single_root_parallel(parts, rstart, rend, chunk_ptr, float(T), params.source_width ** 2,
                              params.diffusivity_retarded, params.decay_retarded,
                              1.0 / (params.theta * params.R * grid.cell_volume), np.asarray(grid.lower, float),
                              np.asarray(grid.spacing, float), np.asarray(grid.shape, np.int64),
                              discretisation.n_sigma, vox_sorted, bin_ptr, np.arange(len(vox), dtype=np.int64),
                              bin_size, nb, out_sorted)
    finally:
        numba.set_parallel_chunksize(old_chunk)
    out[order] = out_sorted
    return out


def _prepare(paths: RootPaths, grid: RegularGrid, params: ExudateParameters, T: float, vox: np.ndarray,
             discretisation: FieldDiscretisation):
    """What both single-root kernels take: all particles at ``T`` in runs of one root, the
    chunks of roots of about equal work, and the voxels sorted into bins of 8^3 cells
    (None when there is nothing to do)."""
    if len(vox) == 0:
        return None
    parts = _particles(paths, T, params, discretisation)
    if len(parts) == 0:
        return None
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
    order = np.argsort(bi, kind="stable")
    bin_ptr = np.searchsorted(bi[order], np.arange(int(np.prod(nb)) + 1)).astype(np.int64)
    # the voxels stored bin by bin: a particle's voxels lie together in memory
    vox_sorted = np.ascontiguousarray(vox[order])
    # chunks of roots of about equal work (particles times kernel box cells), several per
    # thread, handed out one at a time: a few large roots no longer keep one thread busy
    # while the others wait
    threads = numba.get_num_threads()
    n_chunks = max(1, min(len(rstart), 8 * threads if threads > 1 else 1))
    _, cost = _particle_boxes(parts, float(T), params.source_width ** 2, params.diffusivity_retarded,
                              np.asarray(grid.lower, float), np.asarray(grid.spacing, float), shape,
                              discretisation.n_sigma)
    cum = np.cumsum(cost)[rend - 1]
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_chunks) / n_chunks, side="right")
    chunk_ptr = np.unique(np.concatenate([[0], cuts, [len(rstart)]])).astype(np.int64)
    return parts, rstart, rend, chunk_ptr, vox_sorted, bin_ptr, bin_size, nb.astype(np.int64), order


# ------------------------------------------------------------------ the threshold test
#: particles per group of the upper bound (consecutive particles of one root)
_GROUP = 8
#: relative margin of the bound test (covers rounding of the terms and of their sum)
_BOUND_MARGIN = 1e-9


@numba.njit(cache=True)
def _axis_bounds(xlo, xhi, slo, shi, lower, h, n, n_sigma, lo, hi, out):
    """Upper bounds of the 1D cell fractions of every Gaussian with mean in ``[xlo, xhi]``
    and sd in ``[slo, shi]``, cell by cell over the union of their boxes (and within
    ``lo..hi``); returns first index, count.

    A fraction is at most ``h`` times the largest density over the cell,
    ``h / (s sqrt(2 pi)) exp(-d^2 / (2 s^2))`` (``d``: distance from the mean to the cell),
    and at most 1; ``2e-16`` more covers the rounding of the ``erf`` differences."""
    i0 = max(int(math.floor((xlo - n_sigma * shi - lower) / h)), 0, lo)
    i1 = min(int(math.floor((xhi + n_sigma * shi - lower) / h)), n - 1, hi)
    if i1 < i0:
        return 0, 0
    peak = h / (slo * math.sqrt(2.0 * math.pi))
    for i in range(i0, i1 + 1):
        a = lower + i * h
        d = max(0.0, a - xhi, xlo - (a + h))
        d = max(0.0, d * (1.0 - 1e-12) - 1e-12)
        out[i - i0] = min(1.0, peak * math.exp(-d * d / (2.0 * shi * shi))) + 2e-16
    return i0, i1 - i0 + 1


@numba.njit(cache=True)
def _axis_fractions_within(x, sig, lower, h, n, n_sigma, lo, hi, out):
    """:func:`~.deposition._axis_fractions` on the cells ``lo..hi`` of its box only: the
    same values (each cell's fraction is the same ``erf`` difference), first index, count."""
    i0 = int(math.floor((x - n_sigma * sig - lower) / h))
    i1 = int(math.floor((x + n_sigma * sig - lower) / h))
    i0 = max(i0, 0, lo)
    i1 = min(i1, n - 1, hi)
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
def _group(parts, g0, g1, T, w2, Dr, kr, scale, box):
    """Extent of the particles ``g0..g1`` into ``box`` (x, y, z lows and highs, smallest
    and largest sd); returns their total kernel mass ``sum m exp(-k' tau) scale``."""
    for ax in range(3):
        box[2 * ax] = parts[g0, ax]
        box[2 * ax + 1] = parts[g0, ax]
    box[6] = np.inf
    box[7] = 0.0
    M = 0.0
    for p in range(g0, g1):
        tau = T - parts[p, 4]
        sig = _sigma(w2, Dr, tau)
        box[6] = min(box[6], sig)
        box[7] = max(box[7], sig)
        M += parts[p, 3] * math.exp(-kr * tau) * scale
        for ax in range(3):
            box[2 * ax] = min(box[2 * ax], parts[p, ax])
            box[2 * ax + 1] = max(box[2 * ax + 1], parts[p, ax])
    return M


@numba.njit(cache=True)
def _exceeds_kernel(parts, pstart, pend, T, w2, Dr, kr, scale, lower, h, shape, n_sigma, vox, bin_ptr, bin_size,
                    nb, threshold, decided):
    """Mark ``decided[v]`` where one root of the runs alone exceeds ``threshold``.

    Per root: (1) an upper bound of its sum at every hot voxel its kernels reach, from
    groups of consecutive particles (:func:`_axis_bounds` times the group's mass); (2) at
    the voxels whose bound exceeds the threshold and that no root has decided yet, its
    exact sum with the terms, in the order, of :func:`_single_root_kernel`, group by
    group. A voxel is decided as soon as the partial sum exceeds the threshold by more
    than what later terms could take back (terms are >= 0 up to the rounding of the
    ``erf`` differences, at most ``2e-16`` of the particle's mass each), else at the end
    of the root when the complete sum exceeds it: exactly ``max over roots > threshold``.
    A voxel leaves the root's work as soon as its partial sum plus the bound of the
    groups still to come cannot exceed the threshold.
    """
    K = vox.shape[0]
    nbins = nb[0] * nb[1] * nb[2]
    acc = np.zeros(K)
    rem = np.zeros(K)
    u0 = np.zeros(K)
    touched = np.empty(K, np.int64)
    mark = np.zeros(K, np.bool_)
    active = np.empty(K, np.int64)
    act_bin = np.empty(K, np.int64)
    bin_lo = np.zeros(nbins, np.int64)
    bin_hi = np.zeros(nbins, np.int64)
    fx = np.empty(shape[2])
    fy = np.empty(shape[1])
    fz = np.empty(shape[0])
    gb = np.empty(8)
    big = 1 << 40
    for run in range(pstart.shape[0]):
        p0, p1 = pstart[run], pend[run]
        # (1) bounds
        nt = 0
        mass = 0.0
        for g0 in range(p0, p1, _GROUP):
            M = _group(parts, g0, min(g0 + _GROUP, p1), T, w2, Dr, kr, scale, gb)
            mass += M
            M *= 1.0 + 1e-12
            ix, cx = _axis_bounds(gb[0], gb[1], gb[6], gb[7], lower[0], h[0], shape[2], n_sigma, 0, big, fx)
            iy, cy = _axis_bounds(gb[2], gb[3], gb[6], gb[7], lower[1], h[1], shape[1], n_sigma, 0, big, fy)
            iz, cz = _axis_bounds(gb[4], gb[5], gb[6], gb[7], lower[2], h[2], shape[0], n_sigma, 0, big, fz)
            if cx == 0 or cy == 0 or cz == 0:
                continue
            for bz in range(iz // bin_size, (iz + cz - 1) // bin_size + 1):
                for by in range(iy // bin_size, (iy + cy - 1) // bin_size + 1):
                    for bx in range(ix // bin_size, (ix + cx - 1) // bin_size + 1):
                        bi = (bz * nb[1] + by) * nb[2] + bx
                        for v in range(bin_ptr[bi], bin_ptr[bi + 1]):
                            a = vox[v, 0] - iz
                            b = vox[v, 1] - iy
                            c = vox[v, 2] - ix
                            if a < 0 or a >= cz or b < 0 or b >= cy or c < 0 or c >= cx:
                                continue
                            if not mark[v]:
                                mark[v] = True
                                touched[nt] = v
                                nt += 1
                            acc[v] += M * fz[a] * fy[b] * fx[c]
        # the voxels this root might decide, by bin (voxels are stored bin by bin)
        na = 0
        for q in range(nt):
            v = touched[q]
            if not decided[v] and acc[v] * (1.0 + _BOUND_MARGIN) > threshold:
                active[na] = v
                na += 1
                rem[v] = acc[v]
                u0[v] = acc[v]
            acc[v] = 0.0
            mark[v] = False
        if na == 0:
            continue
        active[:na].sort()
        z0, z1, y0, y1, x0, x1 = shape[0], -1, shape[1], -1, shape[2], -1
        for q in range(na):
            v = active[q]
            mark[v] = True                 # alive: this root may still exceed here
            z0 = min(z0, vox[v, 0])
            z1 = max(z1, vox[v, 0])
            y0 = min(y0, vox[v, 1])
            y1 = max(y1, vox[v, 1])
            x0 = min(x0, vox[v, 2])
            x1 = max(x1, vox[v, 2])
            bi = ((vox[v, 0] // bin_size) * nb[1] + vox[v, 1] // bin_size) * nb[2] + vox[v, 2] // bin_size
            act_bin[q] = bi
            if q == 0 or act_bin[q - 1] != bi:
                bin_lo[bi] = q
            bin_hi[bi] = q + 1
        # (2) exact sums at the active voxels (same terms, same order as the maximum)
        slack = 4e-16 * mass
        for g0 in range(p0, p1, _GROUP):
            g1 = min(g0 + _GROUP, p1)
            for p in range(g0, g1):
                tau = T - parts[p, 4]
                sig = _sigma(w2, Dr, tau)
                ext = n_sigma * sig
                # the box of _axis_fractions, first without the erf values
                bx0 = max(int(math.floor((parts[p, 0] - ext - lower[0]) / h[0])), 0, x0)
                bx1 = min(int(math.floor((parts[p, 0] + ext - lower[0]) / h[0])), shape[2] - 1, x1)
                by0 = max(int(math.floor((parts[p, 1] - ext - lower[1]) / h[1])), 0, y0)
                by1 = min(int(math.floor((parts[p, 1] + ext - lower[1]) / h[1])), shape[1] - 1, y1)
                bz0 = max(int(math.floor((parts[p, 2] - ext - lower[2]) / h[2])), 0, z0)
                bz1 = min(int(math.floor((parts[p, 2] + ext - lower[2]) / h[2])), shape[0] - 1, z1)
                if bx0 > bx1 or by0 > by1 or bz0 > bz1:
                    continue
                have = False
                m = 0.0
                ix = iy = iz = 0
                cx = cy = cz = 0
                for bz in range(bz0 // bin_size, bz1 // bin_size + 1):
                    for by in range(by0 // bin_size, by1 // bin_size + 1):
                        for bx in range(bx0 // bin_size, bx1 // bin_size + 1):
                            bi = (bz * nb[1] + by) * nb[2] + bx
                            for q in range(bin_lo[bi], bin_hi[bi]):
                                v = active[q]
                                if decided[v] or not mark[v]:
                                    continue
                                if not have:
                                    m = parts[p, 3] * math.exp(-kr * tau) * scale
                                    ix, cx = _axis_fractions_within(parts[p, 0], sig, lower[0], h[0], shape[2],
                                                                    n_sigma, x0, x1, fx)
                                    iy, cy = _axis_fractions_within(parts[p, 1], sig, lower[1], h[1], shape[1],
                                                                    n_sigma, y0, y1, fy)
                                    iz, cz = _axis_fractions_within(parts[p, 2], sig, lower[2], h[2], shape[0],
                                                                    n_sigma, z0, z1, fz)
                                    have = True
                                a = vox[v, 0] - iz
                                b = vox[v, 1] - iy
                                c = vox[v, 2] - ix
                                if a < 0 or a >= cz or b < 0 or b >= cy or c < 0 or c >= cx:
                                    continue
                                acc[v] += m * fz[a] * fy[b] * fx[c]
                                if acc[v] > threshold + slack:
                                    decided[v] = True
            # the group's bound is spent: voxels that cannot reach the threshold any more leave
            if g1 == p1:
                break
            M = _group(parts, g0, g1, T, w2, Dr, kr, scale, gb) * (1.0 + 1e-12)
            ix, cx = _axis_bounds(gb[0], gb[1], gb[6], gb[7], lower[0], h[0], shape[2], n_sigma, x0, x1, fx)
            iy, cy = _axis_bounds(gb[2], gb[3], gb[6], gb[7], lower[1], h[1], shape[1], n_sigma, y0, y1, fy)
            iz, cz = _axis_bounds(gb[4], gb[5], gb[6], gb[7], lower[2], h[2], shape[0], n_sigma, z0, z1, fz)
            if cx == 0 or cy == 0 or cz == 0:
                continue
            for bz in range(iz // bin_size, (iz + cz - 1) // bin_size + 1):
                for by in range(iy // bin_size, (iy + cy - 1) // bin_size + 1):
                    for bx in range(ix // bin_size, (ix + cx - 1) // bin_size + 1):
                        bi = (bz * nb[1] + by) * nb[2] + bx
                        for q in range(bin_lo[bi], bin_hi[bi]):
                            v = active[q]
                            if decided[v] or not mark[v]:
                                continue
                            a = vox[v, 0] - iz
                            b = vox[v, 1] - iy
                            c = vox[v, 2] - ix
                            if a < 0 or a >= cz or b < 0 or b >= cy or c < 0 or c >= cx:
                                continue
                            rem[v] -= M * fz[a] * fy[b] * fx[c]
                            # the rest of the root's sum is at most rem (to the rounding of the
                            # subtractions, well below 1e-10 of the first bound)
                            if (acc[v] + max(rem[v], 0.0) + slack) * (1.0 + _BOUND_MARGIN) + 1e-10 * u0[v] \
                                    <= threshold:
                                mark[v] = False
        for q in range(na):
            v = active[q]
            if mark[v] and acc[v] > threshold:
                decided[v] = True
            acc[v] = 0.0
            rem[v] = 0.0
            u0[v] = 0.0
            mark[v] = False
            bin_lo[act_bin[q]] = 0
            bin_hi[act_bin[q]] = 0


@numba.njit(parallel=True, cache=True)
def _exceeds_parallel(parts, rstart, rend, chunk_ptr, T, w2, Dr, kr, scale, lower, h, shape, n_sigma, vox,
                      bin_ptr, bin_size, nb, threshold, decided):
    """Chunks of whole roots in parallel into one shared ``decided``: a voxel is only ever
    marked when one root's exact sum exceeds the threshold, so the result is the same
    whatever the order and thread count."""
    n_chunks = chunk_ptr.shape[0] - 1
    for j in numba.prange(n_chunks):
        lo = chunk_ptr[j]
        hi = chunk_ptr[j + 1]
        _exceeds_kernel(parts, rstart[lo:hi], rend[lo:hi], T, w2, Dr, kr, scale, lower, h, shape, n_sigma, vox,
                        bin_ptr, bin_size, nb, threshold, decided)


def single_root_exceeds(paths: RootPaths, grid: RegularGrid, params: ExudateParameters, T: float, voxels,
                        threshold: float, discretisation: FieldDiscretisation = FieldDiscretisation()) -> np.ndarray:
    """Whether any single root alone exceeds ``threshold`` at the given voxels (what the
    overlap share needs): exactly ``single_root_maximum(...) > threshold``, much faster.

    Per root, an upper bound of its sum from groups of 8 consecutive particles (their
    mass times the largest fraction any of them can put into the voxel, axis by axis)
    leaves out the voxels the root cannot push over the threshold (most roots at most
    voxels: the old releases of distant roots); at the others its sum is added up with
    the terms and in the order of :func:`single_root_maximum` and stops as soon as it
    exceeds the threshold by more than later terms could take back; a voxel stops as soon
    as one root exceeds. The result is exact (the same booleans as the maximum, tested)
    and does not depend on the thread count.

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
    threshold : float
        Liquid concentration [ug cm-3].
    discretisation : FieldDiscretisation
        Particle accuracy knobs (as for the grid field).

    Returns
    -------
    (K,) bool ndarray
        True where one root alone exceeds ``threshold``.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.grid import RegularGrid
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters, root_paths, straight_root_system
    >>> from rhizoscale.rhizodeposition.single_root import single_root_exceeds, single_root_maximum
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> paths = root_paths(straight_root_system(0.5, 10.0))
    >>> grid = RegularGrid.from_resolution((-0.3, -0.3, -5.3), (0.3, 0.3, 0.3), 0.02)
    >>> voxels = [(100, 15, 15), (100, 15, 0)]
    >>> single_root_maximum(paths, grid, mucilage, 10.0, voxels) > 1298.0
    array([ True, False])
    >>> single_root_exceeds(paths, grid, mucilage, 10.0, voxels, 1298.0)
    array([ True, False])
    """
    vox = np.ascontiguousarray(np.asarray(voxels, np.int64).reshape(-1, 3))
    out = np.zeros(len(vox), np.bool_)
    prep = _prepare(paths, grid, params, T, vox, discretisation)
    if prep is None:
        return out
    parts, rstart, rend, chunk_ptr, vox_sorted, bin_ptr, bin_size, nb, order = prep
    decided = np.zeros(len(vox), np.bool_)
    old_chunk = numba.set_parallel_chunksize(1)
    try:
        _exceeds_parallel(parts, rstart, rend, chunk_ptr, float(T), params.source_width ** 2,
                          params.diffusivity_retarded, params.decay_retarded,
                          1.0 / (params.theta * params.R * grid.cell_volume), np.asarray(grid.lower, float),
                          np.asarray(grid.spacing, float), np.asarray(grid.shape, np.int64), discretisation.n_sigma,
                          vox_sorted, bin_ptr, bin_size, nb, float(threshold), decided)
    finally:
        numba.set_parallel_chunksize(old_chunk)
    out[order] = decided
    return out

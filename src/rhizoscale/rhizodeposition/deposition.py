"""Particles spread onto a grid with their exact voxel-averaged Gaussian kernels.

Each voxel receives the voxel average of a particle's kernel (a product of three ``erf``
differences, cut at ``n_sigma`` standard deviations per axis), so fields are finite on
root paths and converge under refinement. Groups of particles are deposited in parallel
into private blocks and summed.
"""

from __future__ import annotations

import math

import numba
import numpy as np


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

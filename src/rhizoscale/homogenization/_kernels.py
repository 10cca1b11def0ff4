"""Numba kernels of the finite-volume cell problem (voxel stencil, right-hand side, fluxes).

Every array is handled as 3D ``(n0, n1, n2)``; a 2D image is a 3D one with ``n0 = 1``
and no conductance along axis 0. Voxel sizes come scaled by the smallest one (``hs``)
and diffusivities by the largest (the solver works on O(1) numbers).

Face conductance between voxels ``p`` and ``q``: the harmonic mean
``2 D_p D_q / (D_p + D_q)``, which is the exact conductance of two half-voxels in series
(so layered media are reproduced exactly across the layers).

Boundary handling along axis ``a`` is one of: periodic (the ``+`` neighbour of the last
voxel is the first one), closed (no flux), or Dirichlet (``chi = 0`` on the outer face,
half a voxel away: conductance ``2 D_p / h``), the last one used for the mirrored cell.
Voxels with ``index < 0`` are not unknowns: either they do not conduct, belong to a
cluster that was removed, or are anchors whose value is pinned to 0.
"""

from __future__ import annotations

import numba
import numpy as np

PERIODIC, CLOSED, DIRICHLET = 0, 1, 2


@numba.njit(cache=True, inline="always")
def _harmonic(a, b):
    s = a + b
    if a <= 0.0 or b <= 0.0:
        return 0.0
    return 2.0 * a * b / s


@numba.njit(cache=True, inline="always")
def _shifted(a, j, i0, i1, i2):
    """Index of voxel ``(i0, i1, i2)`` with its coordinate along axis ``a`` replaced by ``j``."""
    if a == 0:
        return j, i1, i2
    if a == 1:
        return i0, j, i2
    return i0, i1, j


@numba.njit(cache=True)
def _neighbour(i, n, step, bc):
    """Index of the neighbour ``i + step`` (step = +-1), or -1 outside a non-periodic axis."""
    j = i + step
    if j < 0 or j >= n:
        if bc != PERIODIC:
            return -1
        return j % n
    return j


@numba.njit(cache=True, parallel=True)
def row_lengths(index, d, hs2, bc, active):
    """Number of stored entries of each matrix row (one pass before filling)."""
    n0, n1, n2 = index.shape
    nrow = 0
    for i0 in range(n0):
        for i1 in range(n1):
            for i2 in range(n2):
                if index[i0, i1, i2] >= 0:
                    nrow += 1
    counts = np.zeros(nrow, dtype=np.int64)
    for i0u in numba.prange(n0):
        i0 = np.int64(i0u)
        cols = np.empty(7, dtype=np.int64)
        for i1 in range(n1):
            for i2 in range(n2):
                r = index[i0, i1, i2]
                if r < 0:
                    continue
                k = _row_columns(index, d, bc, active, i0, i1, i2, cols)
                counts[r] = k
    return counts


@numba.njit(cache=True)
def _row_columns(index, d, bc, active, i0, i1, i2, cols):
    """Distinct off-diagonal columns of a row plus the diagonal, sorted; returns the count."""
    n = index.shape
    p = (i0, i1, i2)
    k = 0
    cols[k] = index[i0, i1, i2]
    k += 1
    dp = d[i0, i1, i2]
    for a in range(3):
        if not active[a]:
            continue
        for step in (-1, 1):
            j = _neighbour(p[a], n[a], step, bc[a])
            if j < 0 or j == p[a]:
                continue
            q0, q1, q2 = _shifted(a, j, i0, i1, i2)
            c = index[q0, q1, q2]
            if c < 0 or _harmonic(dp, d[q0, q1, q2]) == 0.0:
                continue
            dup = False
            for m in range(k):
                if cols[m] == c:
                    dup = True
            if not dup:
                cols[k] = c
                k += 1
    return k


@numba.njit(cache=True, parallel=True)
def fill_rows(index, d, hs2, bc, active, indptr, indices, data):
    """Fill CSR ``indices``/``data`` of the symmetric positive (semi-)definite operator.

    Row of voxel p: ``sum_faces c_f (chi_p - chi_q)`` with ``c_f = g_f / hs_a^2``; a
    Dirichlet outer face adds ``2 D_p / hs_a^2`` to the diagonal.
    """
    n0, n1, n2 = index.shape
    n = index.shape
    for i0u in numba.prange(n0):
        i0 = np.int64(i0u)
        cols = np.empty(7, dtype=np.int64)
        vals = np.empty(7, dtype=np.float64)
        for i1 in range(n1):
            for i2 in range(n2):
                r = index[i0, i1, i2]
                if r < 0:
                    continue
                p = (i0, i1, i2)
                dp = d[i0, i1, i2]
                k = 1
                cols[0] = r
                vals[0] = 0.0
                for a in range(3):
                    if not active[a]:
                        continue
                    for step in (-1, 1):
                        j = _neighbour(p[a], n[a], step, bc[a])
                        if j < 0:
                            if bc[a] == DIRICHLET:
                                vals[0] += 2.0 * dp / hs2[a]
                            continue
                        if j == p[a]:
                            continue
                        q0, q1, q2 = _shifted(a, j, i0, i1, i2)
                        g = _harmonic(dp, d[q0, q1, q2])
                        if g == 0.0:
                            continue
                        c = g / hs2[a]
                        vals[0] += c
                        col = index[q0, q1, q2]
                        if col < 0:
                            continue  # pinned anchor (chi = 0): diagonal only
                        found = -1
                        for m in range(k):
                            if cols[m] == col:
                                found = m
                        if found >= 0:
                            vals[found] -= c
                        else:
                            cols[k] = col
                            vals[k] = -c
                            k += 1
                # insertion sort by column (k <= 7)
                for m in range(1, k):
                    cc = cols[m]
                    vv = vals[m]
                    t = m - 1
                    while t >= 0 and cols[t] > cc:
                        cols[t + 1] = cols[t]
                        vals[t + 1] = vals[t]
                        t -= 1
                    cols[t + 1] = cc
                    vals[t + 1] = vv
                start = indptr[r]
                for m in range(k):
                    indices[start + m] = cols[m]
                    data[start + m] = vals[m]


@numba.njit(cache=True, parallel=True)
def face_conductances(d, unknown, hs2, bc, active, cx, cy, cz, g):
    """Face conductances of the operator on the full grid (matrix-free form).

    ``cx``, ``cy``, ``cz``: conductance ``g_f / hs_a^2`` of the face towards the ``+``
    neighbour along axis 2, 1, 0 (the last voxel's face wraps around on a periodic axis,
    0 otherwise); 0 where either side is not an unknown. ``g``: conductance to pinned
    anchors (chi = 0) and Dirichlet outer faces. The same operator as :func:`fill_rows`.
    """
    n0, n1, n2 = d.shape
    n = d.shape
    for r in numba.prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        for i2 in range(n2):
            if not unknown[i0, i1, i2]:
                continue
            dp = d[i0, i1, i2]
            p = (i0, i1, i2)
            gp = 0.0
            for a in range(3):
                if not active[a]:
                    continue
                for step in (-1, 1):
                    j = _neighbour(p[a], n[a], step, bc[a])
                    if j < 0:
                        if bc[a] == DIRICHLET:
                            gp += 2.0 * dp / hs2[a]
                        continue
                    if j == p[a]:
                        continue  # periodic axis of length 1: a face to itself
                    q0, q1, q2 = _shifted(a, j, i0, i1, i2)
                    c = _harmonic(dp, d[q0, q1, q2]) / hs2[a]
                    if c == 0.0:
                        continue
                    if not unknown[q0, q1, q2]:
                        gp += c  # pinned anchor (chi = 0)
                    elif step == 1:
                        if a == 0:
                            cz[i0, i1, i2] = c
                        elif a == 1:
                            cy[i0, i1, i2] = c
                        else:
                            cx[i0, i1, i2] = c
            g[i0, i1, i2] = gp


@numba.njit(cache=True, parallel=True)
def right_hand_side(unknown, d, hs, bc, axis, out):
    """``b_p = (g(p+1/2) - g(p-1/2)) / hs_j``: divergence of ``D e_j`` around each unknown.

    On the full grid (0 off the unknowns). Outer faces: periodic faces use the harmonic
    mean with the wrapped neighbour, Dirichlet (mirror) faces the voxel's own D, closed
    faces 0.
    """
    n0, n1, n2 = d.shape
    n = d.shape
    for r in numba.prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        for i2 in range(n2):
            if not unknown[i0, i1, i2]:
                out[i0, i1, i2] = 0.0
                continue
            p = (i0, i1, i2)
            dp = d[i0, i1, i2]
            gsum = 0.0
            for step in (-1, 1):
                j = _neighbour(p[axis], n[axis], step, bc[axis])
                if j < 0:
                    g = dp if bc[axis] == DIRICHLET else 0.0
                else:
                    if axis == 0:
                        g = _harmonic(dp, d[j, i1, i2])
                    elif axis == 1:
                        g = _harmonic(dp, d[i0, j, i2])
                    else:
                        g = _harmonic(dp, d[i0, i1, j])
                gsum += step * g
            out[i0, i1, i2] = gsum / hs[axis]


@numba.njit(cache=True, parallel=True)
def periodic_mean_flux(kept, d, chi, hs, active, j):
    """Cell average of the flux components ``g_i (delta_ij + d chi / d y_i)`` (periodic cell).

    Every voxel owns the face towards its ``+`` neighbour along each axis, so the sum over
    voxels of the face fluxes divided by the number of voxels is the cell average.
    Faces touching a voxel that is not ``kept`` carry no flux (removed clusters).
    """
    n0, n1, n2 = d.shape
    out = np.zeros((n0, 3))
    for i0u in numba.prange(n0):
        i0 = np.int64(i0u)
        for i1 in range(n1):
            for i2 in range(n2):
                if not kept[i0, i1, i2]:
                    continue
                dp = d[i0, i1, i2]
                cp = chi[i0, i1, i2]
                for a in range(3):
                    if not active[a]:
                        continue
                    if a == 0:
                        q0, q1, q2 = (i0 + 1) % n0, i1, i2
                    elif a == 1:
                        q0, q1, q2 = i0, (i1 + 1) % n1, i2
                    else:
                        q0, q1, q2 = i0, i1, (i2 + 1) % n2
                    if not kept[q0, q1, q2]:
                        continue
                    g = _harmonic(dp, d[q0, q1, q2])
                    if g == 0.0:
                        continue
                    grad = (chi[q0, q1, q2] - cp) / hs[a]
                    out[i0, a] += g * ((1.0 if a == j else 0.0) + grad)
    return out.sum(axis=0) / (n0 * n1 * n2)


@numba.njit(cache=True)
def mirrored_plane_fluxes(kept, d, chi, hs, axis):
    """Total flux through each of the ``n + 1`` face planes normal to ``axis`` (Dirichlet ends).

    Plane 0 and plane n are the outer faces with ``chi = 0`` half a voxel away.
    """
    n = d.shape
    na = n[axis]
    q = np.zeros(na + 1)
    for i0 in range(n[0]):
        for i1 in range(n[1]):
            for i2 in range(n[2]):
                if not kept[i0, i1, i2]:
                    continue
                p = (i0, i1, i2)
                ia = p[axis]
                dp = d[i0, i1, i2]
                cp = chi[i0, i1, i2]
                if ia == 0:
                    q[0] += dp * (1.0 + 2.0 * cp / hs[axis])
                if ia == na - 1:
                    q[na] += dp * (1.0 - 2.0 * cp / hs[axis])
                else:
                    if axis == 0:
                        r0, r1, r2 = i0 + 1, i1, i2
                    elif axis == 1:
                        r0, r1, r2 = i0, i1 + 1, i2
                    else:
                        r0, r1, r2 = i0, i1, i2 + 1
                    if not kept[r0, r1, r2]:
                        continue
                    g = _harmonic(dp, d[r0, r1, r2])
                    q[ia + 1] += g * (1.0 + (chi[r0, r1, r2] - cp) / hs[axis])
    return q


@numba.njit(cache=True)
def first_voxel_of_label(labels, n_labels):
    """Flat index of the first voxel (C order) of every label 1..n (-1 when absent)."""
    flat = labels.ravel()
    first = np.full(n_labels + 1, -1, dtype=np.int64)
    for i in range(flat.size):
        lab = flat[i]
        if lab > 0 and first[lab] < 0:
            first[lab] = i
    return first

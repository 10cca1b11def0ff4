"""Numba kernels of the finite-volume cell problem (right-hand side, fluxes).

The operator of the cell problem (face conductances, CSR rows) is the shared one of
:mod:`rhizoscale.solvers.voxel_operator`: harmonic-mean face conductances, per axis
periodic, closed or Dirichlet (``chi = 0`` on the outer face, half a voxel away: the
mirrored cell) boundaries, anchors pinned to 0 (conducting voxels that are not
unknowns). This module holds what is particular to homogenisation: the divergence of
``D e_j`` (right-hand side) and the fluxes that make the tensor.

Every array is handled as 3D ``(n0, n1, n2)``; a 2D image is a 3D one with ``n0 = 1``
and no conductance along axis 0. Voxel sizes come scaled by the smallest one (``hs``)
and diffusivities by the largest (the solver works on O(1) numbers).
"""

from __future__ import annotations

import numba
import numpy as np

from ..solvers.voxel_operator import CLOSED, DIRICHLET, PERIODIC, harmonic_mean, neighbour

__all__ = ["PERIODIC", "CLOSED", "DIRICHLET", "right_hand_side", "periodic_mean_flux",
           "mirrored_plane_fluxes", "first_voxel_of_label"]


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
                j = neighbour(p[axis], n[axis], step, bc[axis])
                if j < 0:
                    g = dp if bc[axis] == DIRICHLET else 0.0
                else:
                    if axis == 0:
                        g = harmonic_mean(dp, d[j, i1, i2])
                    elif axis == 1:
                        g = harmonic_mean(dp, d[i0, j, i2])
                    else:
                        g = harmonic_mean(dp, d[i0, i1, j])
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
                    g = harmonic_mean(dp, d[q0, q1, q2])
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
                    g = harmonic_mean(dp, d[r0, r1, r2])
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

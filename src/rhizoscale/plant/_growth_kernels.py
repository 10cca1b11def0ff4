"""Numba kernels of the root growth model (see :mod:`rhizoscale.plant.growth`).

The readable statement of the rules is in :mod:`rhizoscale.plant.growth`; these kernels
walk every root of one generation (all roots of the same topological order) at once.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .confinement import signed_distance_kernel

GF_NEGEXP, GF_LINEAR = 1, 2
PLAGIO, GRAVI, EXO = 0, 1, 2
#: heading retries when a step would leave the confinement: angle steps and radial draws
ALPHA_STEPS, BETA_TRIES = 40, 50


@numba.njit(cache=True, inline="always")
def age_at_length(s, r, k, gf):
    """Age [d] at which a root grown by law ``gf`` reaches length ``s`` [cm] (inf if never)."""
    if r <= 0.0:
        return math.inf
    if gf == GF_LINEAR:
        return s / r
    if s >= k:
        return math.inf
    return -k / r * math.log1p(-s / k)


@numba.njit(cache=True, inline="always")
def length_at_age(t, r, k, gf):
    """Length [cm] of a root of age ``t`` [d] grown by law ``gf`` with rate r and maximum k."""
    if t <= 0.0 or k <= 0.0:
        return 0.0
    if gf == GF_LINEAR:
        return min(k, r * t)
    return k * (-math.expm1(-(r / k) * t))


@numba.njit(cache=True, inline="always")
def _frame(hx, hy, hz):
    """Two unit vectors u, v completing the unit heading h to an orthonormal frame."""
    # cross h with the axis least aligned with it
    ax, ay, az = abs(hx), abs(hy), abs(hz)
    if ax <= ay and ax <= az:
        ex, ey, ez = 1.0, 0.0, 0.0
    elif ay <= az:
        ex, ey, ez = 0.0, 1.0, 0.0
    else:
        ex, ey, ez = 0.0, 0.0, 1.0
    ux, uy, uz = hy * ez - hz * ey, hz * ex - hx * ez, hx * ey - hy * ex
    n = math.sqrt(ux * ux + uy * uy + uz * uz)
    ux, uy, uz = ux / n, uy / n, uz / n
    vx, vy, vz = hy * uz - hz * uy, hz * ux - hx * uz, hx * uy - hy * ux
    return ux, uy, uz, vx, vy, vz


@numba.njit(cache=True, inline="always")
def _rotate(hx, hy, hz, ux, uy, uz, vx, vy, vz, a, b):
    """Heading h turned by angle a towards the radial direction at angle b (CPlantBox rotAB)."""
    ca, sa = math.cos(a), math.sin(a)
    cb, sb = math.cos(b), math.sin(b)
    return (ca * hx + sa * (cb * ux + sb * vx),
            ca * hy + sa * (cb * uy + sb * vy),
            ca * hz + sa * (cb * uz + sb * vz))


@numba.njit(cache=True, inline="always")
def _objective(kind, dx_, dy_, dz_, ix, iy, iz):
    """Tropism objective to minimise for a candidate heading (CPlantBox's definitions)."""
    if kind == GRAVI:
        return 0.5 * (dz_ + 1.0)
    if kind == PLAGIO:
        return abs(dz_)
    c = dx_ * ix + dy_ * iy + dz_ * iz
    c = min(1.0, max(-1.0, c))
    return math.acos(c) / math.pi


@numba.njit(cache=True)
def initial_headings(parent_heading, theta, beta):
    """Headings at insertion angle ``theta`` from the parent heading, radial angle ``beta``."""
    n = theta.shape[0]
    out = np.empty((n, 3))
    for i in range(n):
        hx, hy, hz = parent_heading[i, 0], parent_heading[i, 1], parent_heading[i, 2]
        ux, uy, uz, vx, vy, vz = _frame(hx, hy, hz)
        x, y, z = _rotate(hx, hy, hz, ux, uy, uz, vx, vy, vz, theta[i], beta[i])
        nrm = math.sqrt(x * x + y * y + z * z)
        out[i, 0], out[i, 1], out[i, 2] = x / nrm, y / nrm, z / nrm
    return out


@numba.njit(cache=True)
def walk_roots(start, heading0, t0, r, k, gf, dx, tropism, trials, sigma, final_length,
               bp_ptr, bp_s, node_ptr, conf_kind, conf_params, rng):
    """Grow the polylines of a batch of roots to their final lengths.

    Nodes are placed every ``dx`` along the root, restarting at each branching point (so
    that laterals start exactly on a node), and at the tip. A node's creation time is the
    exact time the tip passed it: ``t0 + age_at_length(s)``. Each new segment's heading is
    the best of ``1 + round(N sqrt(dx))`` random perturbations of the previous heading
    (angle ~ sigma sqrt(dx) N(0,1), uniform radial angle) by the tropism objective; a
    heading whose new node would leave the confinement is redrawn (new radial angles, then
    growing angles); a root that cannot continue inside stops growing.

    Returns
    -------
    nodes, node_s, node_t, n_nodes, bp_node, bp_heading, grown
        Node coordinates/arc lengths/times (in slots ``node_ptr[i]:``), the number of nodes
        of each root, each branching point's node (local index, -1 if not reached) and the
        heading of the segment ending there, and each root's grown length.
    """
    n = start.shape[0]
    cap = node_ptr[n]
    nodes = np.empty((cap, 3))
    node_s = np.empty(cap)
    node_t = np.empty(cap)
    n_nodes = np.zeros(n, dtype=np.int64)
    m = bp_s.shape[0]
    bp_node = np.full(m, -1, dtype=np.int64)
    bp_heading = np.zeros((m, 3))
    grown = np.zeros(n)
    eps = 1e-9
    for i in range(n):
        base = node_ptr[i]
        px, py, pz = start[i, 0], start[i, 1], start[i, 2]
        hx, hy, hz = heading0[i, 0], heading0[i, 1], heading0[i, 2]
        ix, iy, iz = hx, hy, hz
        L = final_length[i]
        step = dx[i]
        sq = math.sqrt(step)
        sig = sigma[i] * sq
        ntr = trials[i] * sq
        kind = tropism[i]
        nodes[base, 0], nodes[base, 1], nodes[base, 2] = px, py, pz
        node_s[base] = 0.0
        node_t[base] = t0[i]
        cnt = 1
        s = 0.0
        j = bp_ptr[i]
        jend = bp_ptr[i + 1]
        while True:
            while j < jend and bp_s[j] <= s + eps:
                bp_node[j] = cnt - 1
                bp_heading[j, 0], bp_heading[j, 1], bp_heading[j, 2] = hx, hy, hz
                j += 1
            if s >= L - eps:
                break
            target = min(s + step, L)
            if j < jend and bp_s[j] < target:
                target = bp_s[j]
            sdx = target - s
            # tropism: best of several random perturbations of the heading
            ux, uy, uz, vx, vy, vz = _frame(hx, hy, hz)
            a = sig * rng.standard_normal()
            b = 2.0 * math.pi * rng.random()
            if ntr > 0.0:
                nt = math.floor(ntr)
                if rng.random() < ntr - nt:
                    nt += 1
                cx, cy, cz = _rotate(hx, hy, hz, ux, uy, uz, vx, vy, vz, a, b)
                best = _objective(kind, cx, cy, cz, ix, iy, iz)
                for _ in range(int(nt)):
                    b2 = 2.0 * math.pi * rng.random()
                    a2 = sig * rng.standard_normal()
                    cx, cy, cz = _rotate(hx, hy, hz, ux, uy, uz, vx, vy, vz, a2, b2)
                    v = _objective(kind, cx, cy, cz, ix, iy, iz)
                    if v < best:
                        best, a, b = v, a2, b2
            nx, ny, nz = _rotate(hx, hy, hz, ux, uy, uz, vx, vy, vz, a, b)
            if conf_kind != 0:
                ok = signed_distance_kernel(conf_kind, conf_params, px + nx * sdx, py + ny * sdx,
                                            pz + nz * sdx) <= 0.0
                ia = 0
                while not ok and ia <= ALPHA_STEPS:
                    aa = a + ia * math.pi / ALPHA_STEPS
                    for _ in range(BETA_TRIES):
                        bb = 2.0 * math.pi * rng.random()
                        nx, ny, nz = _rotate(hx, hy, hz, ux, uy, uz, vx, vy, vz, aa, bb)
                        if signed_distance_kernel(conf_kind, conf_params, px + nx * sdx,
                                                  py + ny * sdx, pz + nz * sdx) <= 0.0:
                            ok = True
                            break
                    ia += 1
                if not ok:
                    break  # the tip is stuck in a corner: the root stops here
            nrm = math.sqrt(nx * nx + ny * ny + nz * nz)
            hx, hy, hz = nx / nrm, ny / nrm, nz / nrm
            px, py, pz = px + hx * sdx, py + hy * sdx, pz + hz * sdx
            s = target
            q = base + cnt
            nodes[q, 0], nodes[q, 1], nodes[q, 2] = px, py, pz
            node_s[q] = s
            node_t[q] = t0[i] + age_at_length(s, r[i], k[i], gf[i])
            cnt += 1
        n_nodes[i] = cnt
        grown[i] = s
    return nodes, node_s, node_t, n_nodes, bp_node, bp_heading, grown

"""Numba kernels of the bead-spring network: forces and fused integrator steps.

Each kernel computes what :func:`rhizoscale.mucilage.network.network_forces` (the
readable NumPy specification) computes, and is tested against it. One threaded build
(``prange`` over beads) runs on one thread for small networks.

Argument layout shared by the kernels (all float64 unless said):

* ``pos, vel, force``: (n, 3) bead positions [µm], velocities [µm s-1], forces [µN];
* ``radius``: (n,) bead radius [µm]; ``external``: (n, 3) applied force [µN];
* bonds per bead as adjacency lists: bead ``i``'s bonds are ``bond_index[bond_start[i]:
  bond_start[i + 1]]`` with other ends ``bond_other[...]`` (int64), rest lengths
  ``bond_rest[...]`` [µm] and stiffnesses ``bond_k[...]`` [µN µm-1] in the same (adjacency)
  order, so that a bead reads its bonds contiguously; ``bond_alive[bond]`` (uint8) per bond;
* tethers per bead likewise (``tether_start``, ``tether_index``); per tether
  ``tether_particle`` (int64), ``tether_anchor``: (m, 3) anchor offsets from the particle
  centre [µm], ``tether_alive`` (uint8);
* ``centres`` (p, 3), ``pradius`` (p,) [µm];
* ``law``: 0 harmonic, 1 FENE on the extension; ``fene_max``: maximal extension / rest length;
  ``break_strain``: bonds break above this |extension| / rest length;
* ``k_adh`` [µN µm-1], ``f_adh`` [µN]: tether stiffness and detachment force;
* ``k_wall``, ``k_rep`` [µN µm-1]: bead-particle and bead-bead soft repulsion;
  ``excluded`` [1]: beads repel when closer than ``excluded (r_i + r_j)``;
* ``meniscus``: (11,) ``[active, mid (3), axis (3), r1, r2, half_length, gamma]``;
* ``space``: (2,) ``[period, cylinders]``: ``period`` > 0 makes the z axis periodic with
  that length [µm] (minimum-image bond, tether and pair vectors, cell lists wrapped
  along z); ``cylinders`` = 1 makes the particles parallel cylinders along z (``centres``
  a point of each axis, ``pradius`` their radii; bead–particle distance to the axis
  line) and the meniscus translation-invariant along z (the exact 2D bridge: its
  cross-section's two circular arcs, ``rho`` the in-plane distance from the line of
  centres). ``[0, 0]``: spheres in open space.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..solvers._numba import JIT

__all__ = ["network_forces_kernel", "overdamped_kernel", "verlet_kernel", "PARALLEL_MIN_BEADS"]

#: networks with at least this many beads use all threads
PARALLEL_MIN_BEADS = 20_000

_OPTS = {**JIT, "fastmath": False}


@numba.njit(cache=True, fastmath=False, inline="always")
def _cell_of(v, lo, cell, dim):
    """Cell index of coordinate ``v``, clamped to the grid; non-finite coordinates (a
    network that blew up) go to cell 0, so the kernels never index out of bounds and the
    caller reports the blow-up."""
    x = (v - lo) / cell
    if not (x >= 0.0):           # negative or NaN
        return 0
    if x >= dim:                 # beyond the grid or +inf
        return dim - 1
    return int(x)


@numba.njit(cache=True, fastmath=False, inline="always")
def _image(d, period):
    """Minimum image of a coordinate difference along a periodic axis (``period`` <= 0: none).

    Differences within half a period are returned as they are (the common case: one
    predictable branch, no division); others are shifted by whole periods."""
    if period > 0 and not (-0.5 * period <= d <= 0.5 * period):
        return d - period * math.floor(d / period + 0.5)
    return d


@numba.njit(cache=True, fastmath=False, inline="always")
def _wrapped(v, period):
    """Coordinate wrapped into ``[0, period)`` (unchanged without a period)."""
    if period > 0 and math.isfinite(v):
        w = v - period * math.floor(v / period)
        return w if w < period else 0.0
    return v


@numba.njit(cache=True, fastmath=False)
def _cell_list(pos, cell, period):
    """Beads sorted by cell (counting sort, stable): (start, order, lower, dims, sizes).

    ``sizes``: the cell edge per axis [µm]; with a period the z cells tile ``[0, period)``
    (at least ``cell`` each) and z is wrapped into it.
    """
    n = pos.shape[0]
    lower = np.empty(3)
    upper = np.empty(3)
    for d in range(3):
        lower[d] = np.inf
        upper[d] = -np.inf
    for i in range(n):
        for d in range(3):
            if math.isfinite(pos[i, d]):
                lower[d] = min(lower[d], pos[i, d])
                upper[d] = max(upper[d], pos[i, d])
    for d in range(3):
        if lower[d] > upper[d]:          # no finite coordinate
            lower[d] = 0.0
            upper[d] = 0.0
    if period > 0:
        lower[2] = 0.0
        upper[2] = period
    dims = np.ones(3, np.int64)
    sizes = np.full(3, cell)
    if n > 0 and np.isfinite(cell):
        # at most ~64 cells per bead: widen the cells of a sparse cloud (the pair search
        # stays exact; a bridge's disc-shaped cloud leaves most cells of its box empty)
        volume = 1.0
        for d in range(3):
            volume *= (upper[d] - lower[d]) / cell + 1.0
        if volume > 64.0 * n + 27.0:
            cell *= (volume / (64.0 * n + 27.0)) ** (1.0 / 3.0)
        for d in range(3):
            dims[d] = max(1, int((upper[d] - lower[d]) / cell) + 1)
            sizes[d] = cell
        if period > 0:
            dims[2] = max(1, int(period / cell))
            sizes[2] = period / dims[2]
    ncell = dims[0] * dims[1] * dims[2]
    index = np.empty(n, np.int64)
    counts = np.zeros(ncell + 1, np.int64)
    for i in range(n):
        cx = _cell_of(pos[i, 0], lower[0], sizes[0], dims[0])
        cy = _cell_of(pos[i, 1], lower[1], sizes[1], dims[1])
        cz = _cell_of(_wrapped(pos[i, 2], period), lower[2], sizes[2], dims[2])
        c = (cz * dims[1] + cy) * dims[0] + cx
        index[i] = c
        counts[c + 1] += 1
    for c in range(ncell):
        counts[c + 1] += counts[c]
    fill = counts[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        order[fill[index[i]]] = i
        fill[index[i]] += 1
    return counts, order, lower, dims, sizes


@numba.njit(parallel=True, **_OPTS)
def _neighbour_list(pos, radius, excluded, skin, period):
    """Verlet list: for each bead the beads within ``excluded (r_i + r_max) + skin`` [µm]
    (cell list of that size; two passes, count then fill, both over beads in parallel;
    minimum images along a periodic z, whose period must exceed twice the reach).
    Returns ``(start, neighbours)``; empty lists when beads do not repel."""
    n = pos.shape[0]
    rmax = 0.0
    for i in range(n):
        rmax = max(rmax, radius[i])
    start = np.zeros(n + 1, np.int64)
    if not (excluded * rmax > 0) or n == 0:
        return start, np.zeros(0, np.int64)
    reach = 2.0 * excluded * rmax + skin
    cells, order, lower, dims, sizes = _cell_list(pos, reach, period)
    periodic = period > 0
    counts = np.zeros(n, np.int64)
    for sweep in range(2):
        if sweep == 1:
            for i in range(n):
                start[i + 1] = start[i] + counts[i]
            nbr = np.empty(start[n], np.int64)
        else:
            nbr = np.empty(0, np.int64)
        for i in numba.prange(n):
            cut = excluded * (radius[i] + rmax) + skin
            cut2 = cut * cut
            cx = _cell_of(pos[i, 0], lower[0], sizes[0], dims[0])
            cy = _cell_of(pos[i, 1], lower[1], sizes[1], dims[1])
            cz = _cell_of(_wrapped(pos[i, 2], period), lower[2], sizes[2], dims[2])
            k = start[i]
            c_count = 0
            if not periodic:
                z0 = max(cz - 1, 0)
                nz = min(cz + 2, dims[2]) - z0
            elif dims[2] >= 3:
                z0 = cz - 1
                nz = 3
            else:                       # one or two cells along the period: visit each once
                z0 = 0
                nz = dims[2]
            for tz in range(nz):
                kz = (z0 + tz) % dims[2]
                for ky in range(max(cy - 1, 0), min(cy + 2, dims[1])):
                    for kx in range(max(cx - 1, 0), min(cx + 2, dims[0])):
                        c = (kz * dims[1] + ky) * dims[0] + kx
                        for m in range(cells[c], cells[c + 1]):
                            j = order[m]
                            if j == i:
                                continue
                            dx = pos[j, 0] - pos[i, 0]
                            dy = pos[j, 1] - pos[i, 1]
                            dz = _image(pos[j, 2] - pos[i, 2], period)
                            if dx * dx + dy * dy + dz * dz <= cut2:
                                if sweep == 1:
                                    nbr[k] = j
                                    k += 1
                                else:
                                    c_count += 1
            if sweep == 0:
                counts[i] = c_count
    return start, nbr


@numba.njit(parallel=True, **_OPTS)
def _max_displacement(pos, ref):
    n = pos.shape[0]
    d2 = np.zeros(n)
    for i in numba.prange(n):
        dx = pos[i, 0] - ref[i, 0]
        dy = pos[i, 1] - ref[i, 1]
        dz = pos[i, 2] - ref[i, 2]
        d2[i] = dx * dx + dy * dy + dz * dz
    return math.sqrt(d2.max()) if n else 0.0


@numba.njit(parallel=True, **_OPTS)
def _bead_forces(pos, radius, force, external, bond_start, bond_index, bond_other, bond_rest, bond_k, bond_alive,
                 law, fene_max, break_strain, tether_start, tether_index, tether_particle, tether_anchor,
                 tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep, excluded, meniscus, space, nb_start,
                 nb_list):
    """Every force on bead ``i`` in one pass (``prange`` over beads, no write conflicts):
    its bonds (both ends evaluate a bond, with the same breaking decision) and tethers
    through per-bead adjacency lists, particles, capillary pull, neighbours (Verlet list)."""
    n = pos.shape[0]
    pairs = k_rep > 0
    active = meniscus[0] > 0
    period = space[0]
    cyl = space[1] > 0
    for i in numba.prange(n):
        fx = external[i, 0]
        fy = external[i, 1]
        fz = external[i, 2]
        ri = radius[i]
        for m in range(bond_start[i], bond_start[i + 1]):
            b = bond_index[m]
            if bond_alive[b] == 0:
                continue
            j = bond_other[m]
            dx = pos[j, 0] - pos[i, 0]
            dy = pos[j, 1] - pos[i, 1]
            dz = _image(pos[j, 2] - pos[i, 2], period)
            length = math.sqrt(dx * dx + dy * dy + dz * dz)
            rest = bond_rest[m]
            ext = length - rest
            if abs(ext) > break_strain * rest or (law == 1 and abs(ext) >= fene_max * rest):
                bond_alive[b] = 0          # both ends write the same value
                continue
            if law == 0:
                f = bond_k[m] * ext
            else:
                q = ext / (fene_max * rest)
                f = bond_k[m] * ext / (1.0 - q * q)
            if length > 0:
                f /= length
            fx += f * dx
            fy += f * dy
            fz += f * dz
        for m in range(tether_start[i], tether_start[i + 1]):
            tt = tether_index[m]
            if tether_alive[tt] == 0:
                continue
            p = tether_particle[tt]
            dx = centres[p, 0] + tether_anchor[tt, 0] - pos[i, 0]
            dy = centres[p, 1] + tether_anchor[tt, 1] - pos[i, 1]
            dz = _image(centres[p, 2] + tether_anchor[tt, 2] - pos[i, 2], period)
            if k_adh * math.sqrt(dx * dx + dy * dy + dz * dz) > f_adh:
                tether_alive[tt] = 0
                continue
            fx += k_adh * dx
            fy += k_adh * dy
            fz += k_adh * dz
        inside_particle = False
        for p in range(centres.shape[0]):
            dx = pos[i, 0] - centres[p, 0]
            dy = pos[i, 1] - centres[p, 1]
            dz = 0.0 if cyl else pos[i, 2] - centres[p, 2]     # cylinders: distance to the axis
            d = math.sqrt(dx * dx + dy * dy + dz * dz)
            if d < pradius[p]:
                inside_particle = True
            overlap = pradius[p] + ri - d
            if overlap > 0 and d > 0:
                f = k_wall * overlap / d
                fx += f * dx
                fy += f * dy
                fz += f * dz
        if active and not inside_particle:
            rx = pos[i, 0] - meniscus[1]
            ry = pos[i, 1] - meniscus[2]
            rz = 0.0 if cyl else pos[i, 2] - meniscus[3]       # cylinders: the cross-section
            x = rx * meniscus[4] + ry * meniscus[5] + rz * meniscus[6]
            if abs(x) <= meniscus[9]:
                qx = rx - x * meniscus[4]
                qy = ry - x * meniscus[5]
                qz = rz - x * meniscus[6]
                rho = math.sqrt(qx * qx + qy * qy + qz * qz)
                dr = rho - (meniscus[7] + meniscus[8])
                d = math.sqrt(x * x + dr * dr)
                s = meniscus[7] - d
                if abs(s) < ri and d > 0:
                    f = 2.0 * math.pi * meniscus[10] * ri * (1.0 - (s / ri) ** 2)
                    nx = x / d * meniscus[4]
                    ny = x / d * meniscus[5]
                    nz = x / d * meniscus[6]
                    if rho > 0:
                        nx += dr / d * qx / rho
                        ny += dr / d * qy / rho
                        nz += dr / d * qz / rho
                    fx += f * nx
                    fy += f * ny
                    fz += f * nz
        if pairs:
            for m in range(nb_start[i], nb_start[i + 1]):
                j = nb_list[m]
                dx = pos[j, 0] - pos[i, 0]
                dy = pos[j, 1] - pos[i, 1]
                dz = _image(pos[j, 2] - pos[i, 2], period)
                d = math.sqrt(dx * dx + dy * dy + dz * dz)
                overlap = excluded * (ri + radius[j]) - d
                if overlap > 0 and d > 0:
                    f = k_rep * overlap / d
                    fx -= f * dx
                    fy -= f * dy
                    fz -= f * dz
        force[i, 0] = fx
        force[i, 1] = fy
        force[i, 2] = fz


@numba.njit(**_OPTS)
def network_forces_kernel(pos, radius, force, external, bond_start, bond_index, bond_other, bond_rest, bond_k,
                          bond_alive, law, fene_max, break_strain, tether_start, tether_index, tether_particle,
                          tether_anchor, tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep, excluded,
                          meniscus, space):
    """Total force on every bead into ``force`` (bonds and tethers that break are marked)."""
    nb_start, nb_list = _neighbour_list(pos, radius, excluded, 0.0, space[0])
    _bead_forces(pos, radius, force, external, bond_start, bond_index, bond_other, bond_rest, bond_k, bond_alive,
                 law, fene_max, break_strain, tether_start, tether_index, tether_particle, tether_anchor,
                 tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep, excluded, meniscus, space, nb_start,
                 nb_list)


@numba.njit(**_OPTS)
def _listed_forces(pos, radius, force, external, bond_start, bond_index, bond_other, bond_rest, bond_k, bond_alive,
                   law, fene_max, break_strain, tether_start, tether_index, tether_particle, tether_anchor,
                   tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep, excluded, meniscus, space, lists, ref,
                   skin):
    """Forces with a Verlet list kept across calls: rebuilt (and ``ref`` reset) when a bead
    moved more than half the skin since the last build, so no pair within range is missed."""
    if lists[0].shape[0] != pos.shape[0] + 1 or _max_displacement(pos, ref) > 0.5 * skin:
        lists = _neighbour_list(pos, radius, excluded, skin, space[0])
        ref[:] = pos
    _bead_forces(pos, radius, force, external, bond_start, bond_index, bond_other, bond_rest, bond_k, bond_alive,
                 law, fene_max, break_strain, tether_start, tether_index, tether_particle, tether_anchor,
                 tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep, excluded, meniscus, space, lists[0],
                 lists[1])
    return lists


@numba.njit(**_OPTS)
def overdamped_kernel(steps, dt, pos, friction, radius, force, external, bond_start, bond_index, bond_other,
                      bond_rest, bond_k, bond_alive, law, fene_max, break_strain, tether_start, tether_index,
                      tether_particle, tether_anchor, tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep,
                      excluded, meniscus, space):
    """``steps`` overdamped (explicit Euler) steps ``x += dt F(x) / friction``."""
    skin = _skin(radius, excluded)
    lists = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    ref = pos.copy()
    for _ in range(steps):
        lists = _listed_forces(pos, radius, force, external, bond_start, bond_index, bond_other, bond_rest, bond_k,
                               bond_alive, law, fene_max, break_strain, tether_start, tether_index, tether_particle,
                               tether_anchor, tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep, excluded,
                               meniscus, space, lists, ref, skin)
        _move(pos, force, friction, dt)


@numba.njit(**_OPTS)
def _skin(radius, excluded):
    """Verlet-list skin [µm]: 30 % of the largest repulsion range."""
    rmax = 0.0
    for i in range(radius.shape[0]):
        rmax = max(rmax, radius[i])
    return 0.6 * excluded * rmax


@numba.njit(parallel=True, **_OPTS)
def _move(pos, force, friction, dt):
    for i in numba.prange(pos.shape[0]):
        g = dt / friction[i]
        pos[i, 0] += g * force[i, 0]
        pos[i, 1] += g * force[i, 1]
        pos[i, 2] += g * force[i, 2]


@numba.njit(**_OPTS)
def verlet_kernel(steps, dt, damping, pos, vel, mass, radius, force, external, bond_start, bond_index, bond_other,
                  bond_rest, bond_k, bond_alive, law, fene_max, break_strain, tether_start, tether_index,
                  tether_particle, tether_anchor, tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep,
                  excluded, meniscus, space):
    """``steps`` velocity-Verlet steps; ``force`` holds F(x) on entry and on exit.

    Viscous damping ``-friction v`` enters as the exact factor ``exp(-damping_i dt)``
    (``damping = friction / mass``) after each step (Strang-free splitting, first order
    in the damping; without damping the scheme is the symplectic, second-order Verlet).
    """
    n = pos.shape[0]
    skin = _skin(radius, excluded)
    lists = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    ref = pos.copy()
    for _ in range(steps):
        for i in range(n):
            h = 0.5 * dt / mass[i]
            for d in range(3):
                vel[i, d] += h * force[i, d]
                pos[i, d] += dt * vel[i, d]
        lists = _listed_forces(pos, radius, force, external, bond_start, bond_index, bond_other, bond_rest, bond_k,
                               bond_alive, law, fene_max, break_strain, tether_start, tether_index, tether_particle,
                               tether_anchor, tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep, excluded,
                               meniscus, space, lists, ref, skin)
        for i in range(n):
            h = 0.5 * dt / mass[i]
            e = math.exp(-damping[i] * dt)
            for d in range(3):
                vel[i, d] = (vel[i, d] + h * force[i, d]) * e

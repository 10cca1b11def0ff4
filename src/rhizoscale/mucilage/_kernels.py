"""Numba kernels of the bead-spring network: forces and fused integrator steps.

Each kernel computes what :func:`rhizoscale.mucilage.network.network_forces` (the
readable NumPy specification) computes, and is tested against it. One threaded build
(``prange`` over beads) runs on one thread for small networks.

Argument layout shared by the kernels (all float64 unless said):

* ``pos, vel, force``: (n, 3) bead positions [µm], velocities [µm s-1], forces [µN];
* ``radius``: (n,) bead radius [µm]; ``external``: (n, 3) applied force [µN];
* ``bond_i, bond_j`` (int64), ``bond_rest`` [µm], ``bond_k`` [µN µm-1], ``bond_alive`` (uint8);
* ``tether_bead, tether_particle`` (int64), ``tether_anchor``: (m, 3) anchor offsets from
  the particle centre [µm], ``tether_alive`` (uint8);
* ``centres`` (p, 3), ``pradius`` (p,) [µm];
* ``law``: 0 harmonic, 1 FENE on the extension; ``fene_max``: maximal extension / rest length;
  ``break_strain``: bonds break above this |extension| / rest length;
* ``k_adh`` [µN µm-1], ``f_adh`` [µN]: tether stiffness and detachment force;
* ``k_wall``, ``k_rep`` [µN µm-1]: bead-particle and bead-bead soft repulsion;
  ``excluded`` [1]: beads repel when closer than ``excluded (r_i + r_j)``;
* ``meniscus``: (11,) ``[active, mid (3), axis (3), r1, r2, half_length, gamma]``.
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


@numba.njit(cache=True, fastmath=False)
def _cell_list(pos, cell):
    """Beads sorted by cell (counting sort, stable): (start, order, lower, dims)."""
    n = pos.shape[0]
    lower = np.empty(3)
    upper = np.empty(3)
    for d in range(3):
        lower[d] = np.inf
        upper[d] = -np.inf
    for i in range(n):
        for d in range(3):
            lower[d] = min(lower[d], pos[i, d])
            upper[d] = max(upper[d], pos[i, d])
    dims = np.ones(3, np.int64)
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
    ncell = dims[0] * dims[1] * dims[2]
    index = np.empty(n, np.int64)
    counts = np.zeros(ncell + 1, np.int64)
    for i in range(n):
        cx = min(int((pos[i, 0] - lower[0]) / cell), dims[0] - 1)
        cy = min(int((pos[i, 1] - lower[1]) / cell), dims[1] - 1)
        cz = min(int((pos[i, 2] - lower[2]) / cell), dims[2] - 1)
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
    return counts, order, lower, dims, cell


@numba.njit(**_OPTS)
def _bond_and_tether_forces(pos, force, bond_i, bond_j, bond_rest, bond_k, bond_alive, law, fene_max,
                            break_strain, tether_bead, tether_particle, tether_anchor, tether_alive,
                            centres, k_adh, f_adh):
    for b in range(bond_i.shape[0]):
        if bond_alive[b] == 0:
            continue
        i = bond_i[b]
        j = bond_j[b]
        dx = pos[j, 0] - pos[i, 0]
        dy = pos[j, 1] - pos[i, 1]
        dz = pos[j, 2] - pos[i, 2]
        length = math.sqrt(dx * dx + dy * dy + dz * dz)
        rest = bond_rest[b]
        ext = length - rest
        if abs(ext) > break_strain * rest or (law == 1 and abs(ext) >= fene_max * rest):
            bond_alive[b] = 0
            continue
        if law == 0:
            f = bond_k[b] * ext
        else:
            q = ext / (fene_max * rest)
            f = bond_k[b] * ext / (1.0 - q * q)
        if length > 0:
            f /= length
        force[i, 0] += f * dx
        force[i, 1] += f * dy
        force[i, 2] += f * dz
        force[j, 0] -= f * dx
        force[j, 1] -= f * dy
        force[j, 2] -= f * dz
    for t in range(tether_bead.shape[0]):
        if tether_alive[t] == 0:
            continue
        i = tether_bead[t]
        p = tether_particle[t]
        dx = centres[p, 0] + tether_anchor[t, 0] - pos[i, 0]
        dy = centres[p, 1] + tether_anchor[t, 1] - pos[i, 1]
        dz = centres[p, 2] + tether_anchor[t, 2] - pos[i, 2]
        if k_adh * math.sqrt(dx * dx + dy * dy + dz * dz) > f_adh:
            tether_alive[t] = 0
            continue
        force[i, 0] += k_adh * dx
        force[i, 1] += k_adh * dy
        force[i, 2] += k_adh * dz


@numba.njit(parallel=True, **_OPTS)
def _bead_forces(pos, radius, force, external, centres, pradius, k_wall, k_rep, excluded, meniscus):
    n = pos.shape[0]
    rmax = 0.0
    for i in range(n):
        rmax = max(rmax, radius[i])
    pairs = excluded * rmax > 0 and k_rep > 0
    cell = 2.0 * excluded * rmax if pairs else np.inf
    start, order, lower, dims, cell = _cell_list(pos, cell)
    active = meniscus[0] > 0
    for i in numba.prange(n):
        fx = external[i, 0]
        fy = external[i, 1]
        fz = external[i, 2]
        ri = radius[i]
        inside_particle = False
        for p in range(centres.shape[0]):
            dx = pos[i, 0] - centres[p, 0]
            dy = pos[i, 1] - centres[p, 1]
            dz = pos[i, 2] - centres[p, 2]
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
            rz = pos[i, 2] - meniscus[3]
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
        if not pairs:
            force[i, 0] += fx
            force[i, 1] += fy
            force[i, 2] += fz
            continue
        cx = min(int((pos[i, 0] - lower[0]) / cell), dims[0] - 1)
        cy = min(int((pos[i, 1] - lower[1]) / cell), dims[1] - 1)
        cz = min(int((pos[i, 2] - lower[2]) / cell), dims[2] - 1)
        for kz in range(max(cz - 1, 0), min(cz + 2, dims[2])):
            for ky in range(max(cy - 1, 0), min(cy + 2, dims[1])):
                for kx in range(max(cx - 1, 0), min(cx + 2, dims[0])):
                    c = (kz * dims[1] + ky) * dims[0] + kx
                    for m in range(start[c], start[c + 1]):
                        j = order[m]
                        if j == i:
                            continue
                        dx = pos[j, 0] - pos[i, 0]
                        dy = pos[j, 1] - pos[i, 1]
                        dz = pos[j, 2] - pos[i, 2]
                        d = math.sqrt(dx * dx + dy * dy + dz * dz)
                        overlap = excluded * (ri + radius[j]) - d
                        if overlap > 0 and d > 0:
                            f = k_rep * overlap / d
                            fx -= f * dx
                            fy -= f * dy
                            fz -= f * dz
        force[i, 0] += fx
        force[i, 1] += fy
        force[i, 2] += fz


@numba.njit(**_OPTS)
def network_forces_kernel(pos, radius, force, external, bond_i, bond_j, bond_rest, bond_k, bond_alive, law,
                          fene_max, break_strain, tether_bead, tether_particle, tether_anchor, tether_alive,
                          centres, pradius, k_adh, f_adh, k_wall, k_rep, excluded, meniscus):
    """Total force on every bead into ``force`` (bonds and tethers that break are marked)."""
    force[:] = 0.0
    _bond_and_tether_forces(pos, force, bond_i, bond_j, bond_rest, bond_k, bond_alive, law, fene_max,
                            break_strain, tether_bead, tether_particle, tether_anchor, tether_alive,
                            centres, k_adh, f_adh)
    _bead_forces(pos, radius, force, external, centres, pradius, k_wall, k_rep, excluded, meniscus)


@numba.njit(**_OPTS)
def overdamped_kernel(steps, dt, pos, friction, radius, force, external, bond_i, bond_j, bond_rest, bond_k,
                      bond_alive, law, fene_max, break_strain, tether_bead, tether_particle, tether_anchor,
                      tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep, excluded, meniscus):
    """``steps`` overdamped (explicit Euler) steps ``x += dt F(x) / friction``."""
    for _ in range(steps):
        network_forces_kernel(pos, radius, force, external, bond_i, bond_j, bond_rest, bond_k, bond_alive,
                              law, fene_max, break_strain, tether_bead, tether_particle, tether_anchor,
                              tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep, excluded, meniscus)
        for i in range(pos.shape[0]):
            g = dt / friction[i]
            pos[i, 0] += g * force[i, 0]
            pos[i, 1] += g * force[i, 1]
            pos[i, 2] += g * force[i, 2]


@numba.njit(**_OPTS)
def verlet_kernel(steps, dt, damping, pos, vel, mass, radius, force, external, bond_i, bond_j, bond_rest,
                  bond_k, bond_alive, law, fene_max, break_strain, tether_bead, tether_particle, tether_anchor,
                  tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep, excluded, meniscus):
    """``steps`` velocity-Verlet steps; ``force`` holds F(x) on entry and on exit.

    Viscous damping ``-friction v`` enters as the exact factor ``exp(-damping_i dt)``
    (``damping = friction / mass``) after each step (Strang-free splitting, first order
    in the damping; without damping the scheme is the symplectic, second-order Verlet).
    """
    n = pos.shape[0]
    for _ in range(steps):
        for i in range(n):
            h = 0.5 * dt / mass[i]
            for d in range(3):
                vel[i, d] += h * force[i, d]
                pos[i, d] += dt * vel[i, d]
        network_forces_kernel(pos, radius, force, external, bond_i, bond_j, bond_rest, bond_k, bond_alive,
                              law, fene_max, break_strain, tether_bead, tether_particle, tether_anchor,
                              tether_alive, centres, pradius, k_adh, f_adh, k_wall, k_rep, excluded, meniscus)
        for i in range(n):
            h = 0.5 * dt / mass[i]
            e = math.exp(-damping[i] * dt)
            for d in range(3):
                vel[i, d] = (vel[i, d] + h * force[i, d]) * e

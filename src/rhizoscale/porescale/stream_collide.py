"""The two-phase (Shan–Chen) stream–collide step: a NumPy specification and a Numba kernel.

Storage ("only pore nodes stored"): the populations are a structure of arrays
``f[i, k]`` (``q`` rows, one column per *fluid* node ``k``; float32 by default). A
full-grid ``index`` array (int32, ``-1`` on solid nodes) maps a voxel ``(z, y, x)`` to its
column, and a full-grid ``psi`` array (float32) holds the pseudopotential — of the fluid
on fluid nodes, of the wall's virtual density on solid nodes (wetting, Benzi et al.
2006). Bytes per fluid node: ``2 q s + (4 + 4 + 1) / porosity`` with ``s`` the population
size and 1 byte of solid label per voxel (D3Q19, float32, porosity 0.5: 170 B).

The fast path (``_lattice_kernels.py``, written by :mod:`.kernel_codegen`) fuses steps 1–4
below in one sweep over planes; the generic kernels here run them as two passes.

One step, from the post-collision populations ``f*`` of the previous step:

1. *streaming by pull*, with halfway bounce-back on solids: ``f_i(x) = f*_i(x - e_i)``,
   or ``f*_opp(i)(x)`` when ``x - e_i`` is solid; the domain is periodic on every axis;
2. density pass: ``rho(x) = sum_i f_i(x)`` and ``psi(rho(x))`` on every fluid node;
3. force ``F(x) = -G psi(x) sum_i w_i psi(x + e_i) e_i`` (Shan & Chen 1993);
4. collision with the force, two relaxation rates (TRT, Ginzburg 2008; BGK when equal),
   ``f_i <- f_i - w+ (f_i^+ - feq_i^+) - w- (f_i^- - feq_i^-) + source``, one of three
   forcings:

   - ``"shift"``: the original velocity shift, ``feq(rho, j/rho + tau F/rho)``, no source
     (Shan & Chen 1993; BGK only, used for the published reference droplet);
   - ``"guo"``: ``feq(rho, u)`` with ``u = (j + F/2)/rho`` and the source
     ``(1 - w/2) w_i [(e_i - u)/c_s^2 + (e_i.u) e_i/c_s^4] . F`` split into its symmetric
     and antisymmetric parts (Guo, Zheng & Shi 2002);
   - ``"edm"``: exact difference, ``feq(rho, j/rho + F/rho) - feq(rho, j/rho)`` added
     after relaxing to ``feq(rho, j/rho)`` (Kupershtokh, Medvedev & Karpov 2009);
   - ``"li"``: Guo's source plus the isotropic second-moment term of Li, Luo & Li (2013),
     ``2 w+ sigma |F|^2/psi^2 w_i (|e_i|^2 - D c_s^2) / (2 c_s^4)`` (no mass, no
     momentum; second moment ``2 w+ sigma |F|^2/psi^2 I``). Relaxed with ``w+`` it adds
     ``2 sigma |F|^2/psi^2 I`` to the momentum flux whatever ``tau`` (Li et al.'s
     ``12 sigma |F|^2 / (psi^2 (tau_e - 1/2))`` in the energy moment of D2Q9 MRT, written
     for TRT on any lattice), which moves the flat-interface coexistence to
     ``epsilon = -8 G sigma`` in :func:`.equation_of_state.mechanical_coexistence`;
     ``sigma`` is chosen so that it meets the Maxwell construction
     (:func:`.equation_of_state.li_sigma`).

The physical velocity is ``u = (j + F/2) / rho`` for every forcing.

Sums over populations are accumulated in float64 whatever the storage type.

References
----------
Shan, X., & Chen, H. (1993). Phys. Rev. E, 47, 1815–1819.
Guo, Z., Zheng, C., & Shi, B. (2002). Discrete lattice effects on the forcing term in the
lattice Boltzmann method. Phys. Rev. E, 65, 046308.
Li, Q., Luo, K. H., & Li, X. J. (2013). Lattice Boltzmann modeling of multiphase flows at
large density ratio with an improved pseudopotential model. Phys. Rev. E, 87, 053301.
Kupershtokh, A. L., Medvedev, D. A., & Karpov, D. I. (2009). On equations of state in a
lattice Boltzmann method. Comput. Math. Appl., 58, 965–974.
Ginzburg, I. (2008). Two-relaxation-time lattice Boltzmann scheme. Commun. Comput. Phys.,
3, 427–478.
Benzi, R., Biferale, L., Sbragaglia, M., Succi, S., & Toschi, F. (2006). Mesoscopic
modeling of a two-phase flow in the presence of boundaries: the contact angle. Phys. Rev.
E, 74, 021509.
"""

from __future__ import annotations

import numba
import numpy as np

from ..solvers._numba import threaded_kernel
from .lattice import CS2, Lattice

__all__ = ["FORCINGS", "fluid_index", "pull_sources", "equilibrium", "psi_of_density",
           "step_reference", "moments_reference", "step_kernel", "density_kernel",
           "moments_kernel"]

#: forcing schemes and their kernel codes
FORCINGS = {"shift": 0, "guo": 1, "edm": 2, "li": 3}

#: compilation options of the lattice kernels: no fastmath, so that they equal their
#: NumPy specification (and each other's builds) to round-off, every run the same
EXACT = dict(fastmath=False, error_model="python")


def fluid_index(solid: np.ndarray) -> np.ndarray:
    """Column of every fluid voxel in the population arrays, ``-1`` on solid voxels.

    ``solid`` is a 3D boolean array ``(nz, ny, nx)`` (2D images are passed as
    ``(1, ny, nx)``); fluid nodes are numbered in C order.
    """
    index = np.full(solid.shape, -1, dtype=np.int32)
    index[~solid] = np.arange(int((~solid).sum()), dtype=np.int32)
    return index


# ------------------------------------------------------------------ NumPy specification
def pull_sources(index: np.ndarray, lat: Lattice) -> np.ndarray:
    """``src[i, k]``: the column ``f*_i`` is pulled from at node ``k`` (-1: bounce back)."""
    fluid = index >= 0
    src = np.empty((lat.q, int(fluid.sum())), dtype=np.int64)
    for i, e in enumerate(lat.velocities):            # x - e_i, periodic
        src[i] = np.roll(index, shift=tuple(e), axis=(0, 1, 2))[fluid]
    return src


def psi_of_density(rho, kind: int, params):
    """Pseudopotential of the kernel's EOS codes (0: Shan–Chen, 1: Carnahan–Starling)."""
    rho = np.asarray(rho, dtype=np.float64)
    if kind == 0:
        return params[0] * (1.0 - np.exp(-rho / params[0]))
    a, b, rt = params[0], params[1], params[2]
    eta = b * rho / 4.0
    p = rho * rt * (1 + eta + eta**2 - eta**3) / (1 - eta) ** 3 - a * rho**2
    return np.sqrt(np.maximum(2.0 * (p - CS2 * rho) / (-1.0 * CS2), 0.0))


def equilibrium(rho, u, lat: Lattice) -> np.ndarray:
    """Second-order equilibrium ``feq[i, k]`` for densities ``rho[k]`` and velocities
    ``u[k, 3]`` (array-axis order)."""
    e = lat.velocities.astype(np.float64)
    eu = u @ e.T                                      # (n, q)
    uu = np.einsum("ka,ka->k", u, u)[:, None]
    feq = lat.weights[None, :] * rho[:, None] * (1 + eu / CS2 + eu**2 / (2 * CS2**2)
                                                  - uu / (2 * CS2))
    return feq.T


def _pulled(f, src, lat):
    fp = np.empty(f.shape, dtype=np.float64)
    for i in range(lat.q):
        s = src[i]
        fp[i] = np.where(s >= 0, f[i, np.maximum(s, 0)], f[lat.opposite[i]])
    return fp


def _neighbour_sum(psi_grid, index, lat):
    """``sum_i w_i psi(x + e_i) e_i`` on every fluid node (so ``F = -G psi(x) times it``)."""
    fluid = index >= 0
    acc = np.zeros((int(fluid.sum()), 3))
    for i, e in enumerate(lat.velocities):            # psi(x + e_i)
        nb = np.roll(psi_grid, shift=tuple(-e), axis=(0, 1, 2))[fluid].astype(np.float64)
        acc += lat.weights[i] * nb[:, None] * e[None, :]
    return acc


def _force(psi_grid, index, lat, G):
    fluid = index >= 0
    return -G * psi_grid[fluid].astype(np.float64)[:, None] * _neighbour_sum(psi_grid, index, lat)


def moments_reference(f, index, psi_grid, lat: Lattice, G: float):
    """Density, physical velocity ``(j + F/2)/rho`` and force of the pulled populations.

    Returns ``rho[k]``, ``u[k, 3]``, ``F[k, 3]`` (array-axis order, lattice units); uses the
    ``psi_grid`` given (which must hold ``psi(rho)`` of these populations on fluid nodes).
    """
    fp = _pulled(f, pull_sources(index, lat), lat)
    rho = fp.sum(axis=0)
    j = fp.T @ lat.velocities.astype(np.float64)
    F = _force(psi_grid, index, lat, G)
    return rho, (j + 0.5 * F) / rho[:, None], F


def step_reference(f, index, psi_grid, lat: Lattice, G: float, kind: int, params,
                   omega_plus: float, omega_minus: float, forcing: int,
                   sigma: float = 0.0) -> np.ndarray:
    """One stream–collide step (the specification of :func:`step_kernel`).

    ``psi_grid`` is updated in place on fluid nodes (solid nodes keep the wall's value).
    ``sigma`` is Li et al.'s (2013) parameter of the ``"li"`` forcing (code 3).
    Returns the new post-collision populations (same dtype as ``f``).
    """
    fluid = index >= 0
    fp = _pulled(f, pull_sources(index, lat), lat)
    rho = fp.sum(axis=0)
    psi_grid[fluid] = psi_of_density(rho, kind, params)
    F = _force(psi_grid, index, lat, G)
    j = fp.T @ lat.velocities.astype(np.float64)
    e = lat.velocities.astype(np.float64)
    source = np.zeros_like(fp)
    if forcing == 0:
        u_eq = (j + F / omega_plus) / rho[:, None]
    elif forcing in (1, 3):
        u_eq = (j + 0.5 * F) / rho[:, None]
        eu = u_eq @ e.T
        eF = F @ e.T
        uF = np.einsum("ka,ka->k", u_eq, F)[:, None]
        s_plus = lat.weights[None, :] * (eu * eF / CS2**2 - uF / CS2)
        s_minus = lat.weights[None, :] * eF / CS2
        source = ((1 - omega_plus / 2) * s_plus + (1 - omega_minus / 2) * s_minus).T
        if forcing == 3:                  # |F|^2 / psi^2 = G^2 |sum_i w_i psi(x+e_i) e_i|^2
            acc = _neighbour_sum(psi_grid, index, lat)
            f2 = G * G * np.einsum("ka,ka->k", acc, acc)
            e2 = (e * e).sum(axis=1)
            shape = lat.weights * (e2 - lat.dim * CS2) / (2 * CS2**2)
            source = source + 2.0 * omega_plus * sigma * shape[:, None] * f2[None, :]
    else:
        u_eq = j / rho[:, None]
        source = equilibrium(rho, u_eq + F / rho[:, None], lat) - equilibrium(rho, u_eq, lat)
    feq = equilibrium(rho, u_eq, lat)
    neq = fp - feq
    opp = lat.opposite
    sym, anti = 0.5 * (neq + neq[opp]), 0.5 * (neq - neq[opp])
    out = fp - omega_plus * sym - omega_minus * anti + source
    return out.astype(f.dtype)


# ----------------------------------------------------------------------- Numba kernels
@numba.njit(cache=True, inline="always")
def _psi(rho, kind, params):
    if kind == 0:
        return params[0] * (1.0 - np.exp(-rho / params[0]))
    eta = params[1] * rho / 4.0
    d = 1.0 - eta
    p = (rho * params[2] * (1 + eta + eta * eta - eta * eta * eta) / (d * d * d)
         - params[0] * rho * rho)
    arg = 2.0 * (p - rho / 3.0) / (-1.0 / 3.0)
    return np.sqrt(arg) if arg > 0 else 0.0


@numba.njit(cache=True, inline="always")
def _wrap(a, n):
    if a < 0:
        return a + n
    if a >= n:
        return a - n
    return a


def _density_kernel_py(f, index, psi, e, opp, kind, params):
    """Pull the populations, sum the density, store ``psi(rho)`` on fluid nodes.

    Rows ``(z, y)`` are processed in parallel; within a row, each direction is gathered
    for the whole row (contiguous reads of ``index`` and of one population array).
    """
    nz, ny, nx = index.shape
    q = e.shape[0]
    for r in numba.prange(nz * ny):
        z = r // ny
        y = r - z * ny
        own = index[z, y]
        rho = np.zeros(nx)
        for i in range(q):
            src_row = index[_wrap(z - e[i, 0], nz), _wrap(y - e[i, 1], ny)]
            ex = e[i, 2]
            fi = f[i]
            fo = f[opp[i]]
            for x in range(nx):
                k = own[x]
                if k < 0:
                    continue
                ks = src_row[_wrap(x - ex, nx)]
                rho[x] += np.float64(fi[ks]) if ks >= 0 else np.float64(fo[k])
        for x in range(nx):
            if own[x] >= 0:
                psi[z, y, x] = _psi(rho[x], kind, params)


#: threads by lattice size (argument 1, the node grid): small lattices run serially
density_kernel = threaded_kernel(_density_kernel_py, size_arg=1, **EXACT)


def _collide_kernel_py(f, fnew, index, psi, e, w, opp, G, omega_plus, omega_minus, forcing,
                       sigma):
    """Pull, force from ``psi`` and collide every fluid node; write ``fnew``.

    Row-wise: every loop runs along ``x`` innermost (SIMD-friendly); directions are
    relaxed in pairs ``(i, opp(i))`` as TRT needs.
    """
    nz, ny, nx = index.shape
    q = e.shape[0]
    dim = 0
    for a in range(3):
        for i in range(q):
            if e[i, a] != 0:
                dim += 1
                break
    for r in numba.prange(nz * ny):
        z = r // ny
        y = r - z * ny
        own = index[z, y]
        buf = np.zeros((q, nx))
        rho = np.zeros(nx)
        jz = np.zeros(nx)
        jy = np.zeros(nx)
        jx = np.zeros(nx)
        az = np.zeros(nx)
        ay = np.zeros(nx)
        ax = np.zeros(nx)
        for i in range(q):
            ez, ey, ex = e[i, 0], e[i, 1], e[i, 2]
            fz, fy, fx = np.float64(ez), np.float64(ey), np.float64(ex)
            src_row = index[_wrap(z - ez, nz), _wrap(y - ey, ny)]
            psi_row = psi[_wrap(z + ez, nz), _wrap(y + ey, ny)]
            fi = f[i]
            fo = f[opp[i]]
            wi = w[i]
            for x in range(nx):
                k = own[x]
                if k < 0:
                    continue
                ks = src_row[_wrap(x - ex, nx)]
                v = np.float64(fi[ks]) if ks >= 0 else np.float64(fo[k])
                buf[i, x] = v
                rho[x] += v
                jz[x] += fz * v
                jy[x] += fy * v
                jx[x] += fx * v
                pn = wi * np.float64(psi_row[_wrap(x + ex, nx)])
                az[x] += pn * fz
                ay[x] += pn * fy
                ax[x] += pn * fx
        # forces, velocities of the equilibrium (uz..) and of the EDM shift (vz..)
        uz = np.zeros(nx)
        uy = np.zeros(nx)
        ux = np.zeros(nx)
        vz = np.zeros(nx)
        vy = np.zeros(nx)
        vx = np.zeros(nx)
        Fz = np.zeros(nx)
        Fy = np.zeros(nx)
        Fx = np.zeros(nx)
        li = np.zeros(nx)
        for x in range(nx):
            if own[x] < 0:
                rho[x] = 1.0
                continue
            if forcing == 3:                 # 2 w+ sigma |F|^2 / psi^2
                li[x] = 2.0 * omega_plus * sigma * G * G * (az[x] * az[x] + ay[x] * ay[x]
                                                            + ax[x] * ax[x])
            g = -G * np.float64(psi[z, y, x])
            Fz[x] = g * az[x]
            Fy[x] = g * ay[x]
            Fx[x] = g * ax[x]
            inv = 1.0 / rho[x]
            if forcing == 0:
                uz[x] = (jz[x] + Fz[x] / omega_plus) * inv
                uy[x] = (jy[x] + Fy[x] / omega_plus) * inv
                ux[x] = (jx[x] + Fx[x] / omega_plus) * inv
            elif forcing == 1 or forcing == 3:
                uz[x] = (jz[x] + 0.5 * Fz[x]) * inv
                uy[x] = (jy[x] + 0.5 * Fy[x]) * inv
                ux[x] = (jx[x] + 0.5 * Fx[x]) * inv
            else:
                uz[x] = jz[x] * inv
                uy[x] = jy[x] * inv
                ux[x] = jx[x] * inv
            vz[x] = uz[x] + Fz[x] * inv
            vy[x] = uy[x] + Fy[x] * inv
            vx[x] = ux[x] + Fx[x] * inv
        cp = 1.0 - 0.5 * omega_plus
        cm = 1.0 - 0.5 * omega_minus
        for i in range(q):
            o = opp[i]
            if o < i:
                continue
            fz, fy, fx = np.float64(e[i, 0]), np.float64(e[i, 1]), np.float64(e[i, 2])
            wi = w[i]
            shape = wi * (fz * fz + fy * fy + fx * fx - dim / 3.0) * 4.5
            fi_new = fnew[i]
            fo_new = fnew[o]
            for x in range(nx):
                k = own[x]
                if k < 0:
                    continue
                eu = fz * uz[x] + fy * uy[x] + fx * ux[x]
                uu = uz[x] * uz[x] + uy[x] * uy[x] + ux[x] * ux[x]
                base = wi * rho[x] * (1.0 + 4.5 * eu * eu - 1.5 * uu)
                odd = wi * rho[x] * 3.0 * eu
                feq_i = base + odd
                feq_o = base - odd
                if forcing == 1 or forcing == 3:
                    eF = fz * Fz[x] + fy * Fy[x] + fx * Fx[x]
                    uF = uz[x] * Fz[x] + uy[x] * Fy[x] + ux[x] * Fx[x]
                    s_even = wi * cp * (9.0 * eu * eF - 3.0 * uF)
                    s_odd = wi * cm * 3.0 * eF
                    if forcing == 3:
                        s_even += shape * li[x]
                elif forcing == 2:
                    ev = fz * vz[x] + fy * vy[x] + fx * vx[x]
                    vv = vz[x] * vz[x] + vy[x] * vy[x] + vx[x] * vx[x]
                    s_even = wi * rho[x] * (4.5 * ev * ev - 1.5 * vv) - (base - wi * rho[x])
                    s_odd = wi * rho[x] * 3.0 * ev - odd
                else:
                    s_even = 0.0
                    s_odd = 0.0
                ni = buf[i, x] - feq_i
                no = buf[o, x] - feq_o
                sym = 0.5 * (ni + no)
                anti = 0.5 * (ni - no)
                if o == i:
                    fi_new[k] = buf[i, x] - omega_plus * ni + s_even
                else:
                    fi_new[k] = buf[i, x] - omega_plus * sym - omega_minus * anti + s_even + s_odd
                    fo_new[k] = buf[o, x] - omega_plus * sym + omega_minus * anti + s_even - s_odd


collide_kernel = threaded_kernel(_collide_kernel_py, size_arg=2, **EXACT)


def step_kernel(f, fnew, index, psi, lat_arrays, G, kind, params, omega_plus, omega_minus,
                forcing, sigma=0.0):
    """One step by the Numba kernels (the fast path of :func:`step_reference`)."""
    e, w, opp = lat_arrays
    density_kernel(f, index, psi, e, opp, kind, params)
    collide_kernel(f, fnew, index, psi, e, w, opp, G, omega_plus, omega_minus, forcing, sigma)


def _moments_kernel_py(f, index, psi, e, w, opp, G, rho_out, u_out):
    """Density and physical velocity ``(j + F/2)/rho`` on every fluid node."""
    nz, ny, nx = index.shape
    q = e.shape[0]
    for z in numba.prange(nz):
        for y in range(ny):
            for x in range(nx):
                k = index[z, y, x]
                if k < 0:
                    continue
                rho = 0.0
                j0 = 0.0
                j1 = 0.0
                j2 = 0.0
                a0 = 0.0
                a1 = 0.0
                a2 = 0.0
                for i in range(q):
                    ks = index[_wrap(z - e[i, 0], nz), _wrap(y - e[i, 1], ny),
                               _wrap(x - e[i, 2], nx)]
                    v = np.float64(f[i, ks]) if ks >= 0 else np.float64(f[opp[i], k])
                    rho += v
                    j0 += e[i, 0] * v
                    j1 += e[i, 1] * v
                    j2 += e[i, 2] * v
                    pn = w[i] * np.float64(psi[_wrap(z + e[i, 0], nz), _wrap(y + e[i, 1], ny),
                                               _wrap(x + e[i, 2], nx)])
                    a0 += pn * e[i, 0]
                    a1 += pn * e[i, 1]
                    a2 += pn * e[i, 2]
                g = -G * np.float64(psi[z, y, x])
                rho_out[k] = rho
                u_out[k, 0] = (j0 + 0.5 * g * a0) / rho
                u_out[k, 1] = (j1 + 0.5 * g * a1) / rho
                u_out[k, 2] = (j2 + 0.5 * g * a2) / rho


moments_kernel = threaded_kernel(_moments_kernel_py, size_arg=1, **EXACT)

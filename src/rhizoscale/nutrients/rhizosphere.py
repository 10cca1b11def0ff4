"""Batched 1D radial rhizosphere models: one soil cylinder around each root segment.

Each root segment of radius ``r0`` is surrounded by a soil cylinder ``r0 <= r <= r1``
(``r1`` from the local root length density). In it phosphate (species 0) and citrate
(species 1) diffuse in the soil solution, sorb competitively (Langmuir) and citrate is
decomposed in solution::

    d T_i(c) / dt = (1/r) d/dr (r D_i dc_i/dr) - lambda_i theta c_i,
    T_i = theta c_i + rho s_i(c)

with, at the root surface ``r0``, the phosphate influx into the root
``Imax (c - cmin)/(Km + c - cmin)`` (zero below cmin) and the citrate efflux ``E``
(µmol cm-2 s-1), and at ``r1`` the concentration of the surrounding bulk soil (the 3D
soil averaged over the cylinder surface at distance ``r1``, see coupling.py),
``c_i(r1) = c_bulk,i``.

Discretisation
--------------
Finite volumes on ``N`` log-spaced cells (equal ``ln r`` width: fine near the root
where gradients are steep). Unknowns are the solution concentrations at the cell
centres ``sqrt(r_k r_k+1)`` plus one storage-free node on the root surface, where the
nonlinear uptake is evaluated. Fluxes between nodes use the exact cylindrical
conductance ``2 pi D / ln(r_b / r_a)`` (per cm of root), so steady profiles
``a + b ln r`` are reproduced exactly. Time stepping is implicit Euler, solved by
Newton's method with a 2x2-block tridiagonal (block Thomas) solve per segment: the
competitive isotherm couples the species in every cell. All segments advance in one
Numba kernel (a loop over segments compiled by Numba). A segment whose Newton iteration fails or
would give a negative concentration halves its own step (sub-steps) and the number of
such reductions is reported.

Units: µmol, cm, s, g.

References
----------
Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by a growing
and exuding root system. Vadose Zone Journal, 11(3).
Kirk, G. J. D. (1999). European Journal of Soil Science, 50, 369–378.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..errors import InputError, RhizoscaleError
from .sorption import invert_total_2, langmuir_jacobian_2, langmuir_total_2

__all__ = [
    "RhizosphereConstants",
    "RhizosphereModels",
    "michaelis_menten_uptake",
    "log_spaced_faces",
    "rhizosphere_peclet",
]

TWO_PI = 2.0 * np.pi


def michaelis_menten_uptake(c, imax, km, cmin):
    """Phosphate influx into the root ``Imax (c - cmin)/(Km + c - cmin)``, 0 below cmin.

    Parameters
    ----------
    c : float or array
        Concentration at the root surface [µmol cm-3].
    imax : float
        Maximal influx [µmol cm-2 s-1].
    km, cmin : float
        Michaelis constant and minimal concentration [µmol cm-3].

    Returns
    -------
    float or array
        Influx [µmol cm-2 s-1].

    References
    ----------
    Barber, S. A. (1995). Soil Nutrient Bioavailability (2nd ed.). Wiley.

    Examples
    --------
    Nothing below ``cmin``, half of ``imax`` at ``c = cmin + Km``, nearly ``imax`` far
    above:

    >>> michaelis_menten_uptake([0.0001, 0.006, 1.0], imax=3.26e-6, km=0.0058, cmin=0.0002)
    array([0.0000000e+00, 1.6300000e-06, 3.2411973e-06])
    """
    x = np.maximum(np.asarray(c, dtype=float) - cmin, 0.0)
    return imax * x / (km + x)


def log_spaced_faces(r0, r1, n):
    """Cell faces ``r0 = r_0 < ... < r_n = r1`` equally spaced in ``ln r`` (shape (M, n+1)).

    Parameters
    ----------
    r0, r1 : float or (M,) array
        Root radius and outer radius of each cylinder [cm].
    n : int
        Number of cells.

    Returns
    -------
    (M, n + 1) array
        Faces [cm].

    Examples
    --------
    >>> log_spaced_faces(0.01, 0.1, 4)
    array([[0.01      , 0.01778279, 0.03162278, 0.05623413, 0.1       ]])
    """
    r0 = np.atleast_1d(np.asarray(r0, dtype=float))
    r1 = np.atleast_1d(np.asarray(r1, dtype=float))
    s = np.linspace(0.0, 1.0, n + 1)
    return r0[:, None] * (r1 / r0)[:, None] ** s[None, :]


@dataclass(frozen=True)
class RhizosphereConstants:
    """Soil and solute constants shared by all segments (µmol, cm, s, g).

    ``diffusivity`` is the effective diffusion coefficient per unit gradient of the
    solution concentration, per unit bulk area (e.g. Millington–Quirk ``D_w theta^(10/3)
    / phi^2``) [cm2 s-1], one per species (phosphate, citrate).

    Parameters
    ----------
    theta : float
        Volumetric water content [cm3 cm-3].
    bulk_density : float
        [g cm-3].
    smax : (float, float)
        Langmuir capacities of phosphate and citrate [µmol g-1].
    affinity : (float, float)
        Langmuir affinities [cm3 µmol-1].
    diffusivity : (float, float)
        Effective diffusion coefficients [cm2 s-1].
    decay : (float, float)
        First-order decomposition rates in solution [s-1].
    imax : float
        Maximal phosphate influx [µmol cm-2 s-1].
    km, cmin : float
        Michaelis constant and minimal concentration [µmol cm-3].

    References
    ----------
    .. [1] Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by
       a growing and exuding root system. Vadose Zone Journal, 11(3).

    Examples
    --------
    >>> constants = RhizosphereConstants(
    ...     theta=0.3, bulk_density=1.3,               # [cm3 cm-3], [g cm-3]
    ...     smax=(5.0, 1.0), affinity=(20.0, 10.0),    # [umol g-1], [cm3 umol-1]
    ...     diffusivity=(1e-6, 1e-6), decay=(0.0, 1.64e-5),      # [cm2 s-1], [s-1]
    ...     imax=3.26e-6, km=0.0058, cmin=0.0002)      # [umol cm-2 s-1], [umol cm-3]
    >>> constants.as_array()[:4]                       # the kernels' packed form
    array([ 0.3,  1.3,  5. , 20. ])
    """

    theta: float
    bulk_density: float
    smax: tuple[float, float]
    affinity: tuple[float, float]
    diffusivity: tuple[float, float]
    decay: tuple[float, float]
    imax: float
    km: float
    cmin: float

    def as_array(self) -> np.ndarray:
        return np.array([self.theta, self.bulk_density, self.smax[0], self.affinity[0], self.smax[1],
                         self.affinity[1], self.diffusivity[0], self.diffusivity[1], self.decay[0],
                         self.decay[1], self.imax, self.km, self.cmin], dtype=np.float64)


# --------------------------------------------------------------------------- kernel
@numba.njit(cache=True, inline="always")
def _uptake(cs, imax, km, cmin):
    x = cs - cmin
    if x <= 0.0:
        return 0.0, 0.0
    return imax * x / (km + x), imax * km / ((km + x) * (km + x))


@numba.njit(cache=True)
def _implicit_step(c, cold, rf, r0, exud, cb0, cb1, dt, p, rad, area, g0, g1, res, jd, jl, ju, work):
    """One implicit Euler step of one segment; ``c`` (2, N+1) holds the guess and the result.

    Returns 0 on success, 1 if Newton failed or a concentration became negative.
    """
    theta, rho, sm0, k0, sm1, k1 = p[0], p[1], p[2], p[3], p[4], p[5]
    lam0, lam1, imax, km, cmin = p[8], p[9], p[10], p[11], p[12]
    nn = c.shape[1]  # nodes: 0 = root surface, 1..N cells
    ncell = nn - 1
    for it in range(60):
        # ---- residual and Jacobian blocks (jd: diagonal 2x2, jl/ju: coupling, diagonal in species)
        u, du = _uptake(c[0, 0], imax, km, cmin)
        res[0, 0] = g0[0] * (c[0, 0] - c[0, 1]) + TWO_PI * r0 * u
        res[1, 0] = g1[0] * (c[1, 0] - c[1, 1]) - TWO_PI * r0 * exud
        jd[0, 0, 0] = g0[0] + TWO_PI * r0 * du
        jd[0, 0, 1] = 0.0
        jd[0, 1, 0] = 0.0
        jd[0, 1, 1] = g1[0]
        ju[0, 0] = -g0[0]
        ju[0, 1] = -g1[0]
        for k in range(1, nn):
            a = area[k - 1]
            t0, t1 = langmuir_total_2(c[0, k], c[1, k], theta, rho, sm0, k0, sm1, k1)
            o0, o1 = langmuir_total_2(cold[0, k], cold[1, k], theta, rho, sm0, k0, sm1, k1)
            a00, a01, a10, a11 = langmuir_jacobian_2(c[0, k], c[1, k], theta, rho, sm0, k0, sm1, k1)
            gl0 = g0[k - 1]
            gl1 = g1[k - 1]
            gr0 = g0[k]
            gr1 = g1[k]
            if k < ncell:
                right0 = c[0, k + 1]
                right1 = c[1, k + 1]
            else:
                right0 = cb0
                right1 = cb1
            res[0, k] = (a * ((t0 - o0) / dt + lam0 * theta * c[0, k])
                         + gr0 * (c[0, k] - right0) - gl0 * (c[0, k - 1] - c[0, k]))
            res[1, k] = (a * ((t1 - o1) / dt + lam1 * theta * c[1, k])
                         + gr1 * (c[1, k] - right1) - gl1 * (c[1, k - 1] - c[1, k]))
            jd[k, 0, 0] = a * (a00 / dt + lam0 * theta) + gl0 + gr0
            jd[k, 0, 1] = a * a01 / dt
            jd[k, 1, 0] = a * a10 / dt
            jd[k, 1, 1] = a * (a11 / dt + lam1 * theta) + gl1 + gr1
            jl[k, 0] = -gl0
            jl[k, 1] = -gl1
            ju[k, 0] = -gr0 if k < ncell else 0.0
            ju[k, 1] = -gr1 if k < ncell else 0.0
        # ---- block Thomas: forward sweep (work holds the modified diagonal inverse times upper)
        # work[k, :, :] = inverse of modified diagonal block; res modified in place
        for k in range(nn):
            m00 = jd[k, 0, 0]
            m01 = jd[k, 0, 1]
            m10 = jd[k, 1, 0]
            m11 = jd[k, 1, 1]
            r_0 = res[0, k]
            r_1 = res[1, k]
            if k > 0:
                # M_k -= L_k * inv(M_{k-1}) * U_{k-1}; L, U diagonal
                l0 = jl[k, 0]
                l1 = jl[k, 1]
                u0 = ju[k - 1, 0]
                u1 = ju[k - 1, 1]
                m00 -= l0 * work[k - 1, 0, 0] * u0
                m01 -= l0 * work[k - 1, 0, 1] * u1
                m10 -= l1 * work[k - 1, 1, 0] * u0
                m11 -= l1 * work[k - 1, 1, 1] * u1
                r_0 -= l0 * (work[k - 1, 0, 0] * res[0, k - 1] + work[k - 1, 0, 1] * res[1, k - 1])
                r_1 -= l1 * (work[k - 1, 1, 0] * res[0, k - 1] + work[k - 1, 1, 1] * res[1, k - 1])
            det = m00 * m11 - m01 * m10
            work[k, 0, 0] = m11 / det
            work[k, 0, 1] = -m01 / det
            work[k, 1, 0] = -m10 / det
            work[k, 1, 1] = m00 / det
            res[0, k] = r_0
            res[1, k] = r_1
        # back substitution: delta_k = inv(M_k) (r_k - U_k delta_{k+1})
        maxd0 = 0.0
        maxd1 = 0.0
        maxc0 = 0.0
        maxc1 = 0.0
        d0n = 0.0
        d1n = 0.0
        for k in range(nn - 1, -1, -1):
            r_0 = res[0, k]
            r_1 = res[1, k]
            if k < nn - 1:
                r_0 -= ju[k, 0] * d0n
                r_1 -= ju[k, 1] * d1n
            d0 = work[k, 0, 0] * r_0 + work[k, 0, 1] * r_1
            d1 = work[k, 1, 0] * r_0 + work[k, 1, 1] * r_1
            # keep iterates non-negative (the isotherm is undefined below zero): a step
            # that would cross zero goes half-way to it instead
            n0 = c[0, k] - d0
            n1 = c[1, k] - d1
            if k == 0 and c[0, 0] > cmin and n0 < cmin:
                # the uptake law has a kink at cmin: a step across it could cycle, so
                # approach cmin geometrically (it converges below cmin if it must)
                n0 = cmin + 0.1 * (c[0, 0] - cmin)
            c[0, k] = n0 if n0 >= 0.0 else 0.5 * c[0, k]
            c[1, k] = n1 if n1 >= 0.0 else 0.5 * c[1, k]
            maxd0 = max(maxd0, abs(d0))
            maxd1 = max(maxd1, abs(d1))
            maxc0 = max(maxc0, abs(c[0, k]))
            maxc1 = max(maxc1, abs(c[1, k]))
            d0n = d0
            d1n = d1
        if not (maxd0 + maxd1 == maxd0 + maxd1) or maxd0 + maxd1 > 1e30:
            return 1
        if maxd0 <= 1e-14 * maxc0 and maxd1 <= 1e-14 * maxc1:
            break
    else:
        return 1
    for k in range(nn):
        if c[0, k] < 0.0 or c[1, k] < 0.0:
            if c[0, k] > -1e-20 and c[1, k] > -1e-20:
                continue
            return 1
    return 0


@numba.njit(cache=True)
def _advance_all(c, rf, exud, cbulk, dt, p, max_halvings, uptake, exuded, decayed, outflux, nsub):
    """Advance every segment over ``dt`` (per-segment sub-steps on failure).

    Accumulates per cm of root over the step: P uptake, citrate exudation, decay per
    species and the outward flux through r1 per species [µmol cm-1]. Returns the number
    of segments that still failed after ``max_halvings`` halvings.
    """
    m_seg = c.shape[0]
    nn = c.shape[2]
    ncell = nn - 1
    theta, d0, d1, lam0, lam1 = p[0], p[6], p[7], p[8], p[9]
    imax, km, cmin = p[10], p[11], p[12]
    failed = np.zeros(m_seg, dtype=np.int64)
    for m in range(m_seg):
        r0 = rf[m, 0]
        rad = np.empty(nn + 1)
        rad[0] = r0
        for k in range(ncell):
            rad[k + 1] = np.sqrt(rf[m, k] * rf[m, k + 1])
        rad[nn] = rf[m, ncell]
        area = np.empty(ncell)
        for k in range(ncell):
            area[k] = np.pi * (rf[m, k + 1] ** 2 - rf[m, k] ** 2)
        g0 = np.empty(nn)
        g1 = np.empty(nn)
        for k in range(nn):
            lg = np.log(rad[k + 1] / rad[k])
            g0[k] = TWO_PI * d0 / lg
            g1[k] = TWO_PI * d1 / lg
        res = np.empty((2, nn))
        jd = np.empty((nn, 2, 2))
        jl = np.empty((nn, 2))
        ju = np.empty((nn, 2))
        work = np.empty((nn, 2, 2))
        cold = c[m].copy()
        trial = np.empty((2, nn))
        done = 0.0
        sub = dt
        halvings = 0
        while done < dt * (1.0 - 1e-12):
            h = min(sub, dt - done)
            trial[:, :] = cold
            flag = _implicit_step(trial, cold, rf[m], r0, exud[m], cbulk[m, 0], cbulk[m, 1], h, p,
                                  rad, area, g0, g1, res, jd, jl, ju, work)
            if flag != 0:
                if halvings >= max_halvings:
                    failed[m] = 1
                    break
                sub = 0.5 * h
                halvings += 1
                nsub[m] += 1
                continue
            u, _ = _uptake(trial[0, 0], imax, km, cmin)
            uptake[m] += h * TWO_PI * r0 * u
            exuded[m] += h * TWO_PI * r0 * exud[m]
            dec0 = 0.0
            dec1 = 0.0
            for k in range(ncell):
                dec0 += area[k] * lam0 * theta * trial[0, k + 1]
                dec1 += area[k] * lam1 * theta * trial[1, k + 1]
            decayed[m, 0] += h * dec0
            decayed[m, 1] += h * dec1
            outflux[m, 0] += h * g0[nn - 1] * (trial[0, ncell] - cbulk[m, 0])
            outflux[m, 1] += h * g1[nn - 1] * (trial[1, ncell] - cbulk[m, 1])
            cold[:, :] = trial
            done += h
        c[m] = cold
    return failed.sum()


@numba.njit(cache=True)
def _mass_per_length(c, rf, p, out):
    theta, rho, sm0, k0, sm1, k1 = p[0], p[1], p[2], p[3], p[4], p[5]
    for m in range(c.shape[0]):
        s0 = 0.0
        s1 = 0.0
        for k in range(c.shape[2] - 1):
            a = np.pi * (rf[m, k + 1] ** 2 - rf[m, k] ** 2)
            t0, t1 = langmuir_total_2(c[m, 0, k + 1], c[m, 1, k + 1],
                                      theta, rho, sm0, k0, sm1, k1)
            s0 += a * t0
            s1 += a * t1
        out[m, 0] = s0
        out[m, 1] = s1


@numba.njit(cache=True)
def _match_totals(c, rf, p, target):
    """Scale each cylinder's totals per species so that their mean equals ``target`` (m, 2)."""
    theta, rho, sm0, k0, sm1, k1 = p[0], p[1], p[2], p[3], p[4], p[5]
    ncell = c.shape[2] - 1
    failed = 0
    for m in range(c.shape[0]):
        vol = np.pi * (rf[m, ncell] ** 2 - rf[m, 0] ** 2)
        s0 = 0.0
        s1 = 0.0
        for k in range(ncell):
            a = np.pi * (rf[m, k + 1] ** 2 - rf[m, k] ** 2)
            t0, t1 = langmuir_total_2(c[m, 0, k + 1], c[m, 1, k + 1], theta, rho, sm0, k0, sm1, k1)
            s0 += a * t0
            s1 += a * t1
        for k in range(ncell):
            t0, t1 = langmuir_total_2(c[m, 0, k + 1], c[m, 1, k + 1], theta, rho, sm0, k0, sm1, k1)
            # multiplicative scaling keeps totals non-negative and the profile's shape;
            # an empty profile becomes uniform
            t0 = t0 * (target[m, 0] * vol / s0) if s0 > 0 else target[m, 0]
            t1 = t1 * (target[m, 1] * vol / s1) if s1 > 0 else target[m, 1]
            c0, c1, ok = invert_total_2(t0, t1, theta, rho, sm0, k0, sm1, k1)
            if not ok:
                failed += 1
            c[m, 0, k + 1] = c0
            c[m, 1, k + 1] = c1
    return failed


@numba.njit(cache=True)
def _remap(c, rf_old, rf_new, cbulk):
    """Re-grid profiles onto new faces: linear in ln r between old nodes, bulk beyond r1."""
    nn = c.shape[2]
    ncell = nn - 1
    for m in range(c.shape[0]):
        xo = np.empty(nn + 1)
        yo = np.empty((2, nn + 1))
        xo[0] = np.log(rf_old[m, 0])
        for k in range(ncell):
            xo[k + 1] = 0.5 * (np.log(rf_old[m, k]) + np.log(rf_old[m, k + 1]))
        xo[nn] = np.log(rf_old[m, ncell])
        for s in range(2):
            for k in range(nn):
                yo[s, k] = c[m, s, k]
            yo[s, nn] = cbulk[m, s]
        for k in range(nn):
            if k == 0:
                x = np.log(rf_new[m, 0])
            else:
                x = 0.5 * (np.log(rf_new[m, k - 1]) + np.log(rf_new[m, k]))
            for s in range(2):
                if x >= xo[nn]:
                    c[m, s, k] = cbulk[m, s]
                elif x <= xo[0]:
                    c[m, s, k] = yo[s, 0]
                else:
                    j = np.searchsorted(xo, x) - 1
                    w = (x - xo[j]) / (xo[j + 1] - xo[j])
                    c[m, s, k] = (1 - w) * yo[s, j] + w * yo[s, j + 1]


# --------------------------------------------------------------------------- container
class RhizosphereModels:
    """State of many 1D rhizosphere models advanced together.

    Parameters
    ----------
    constants : RhizosphereConstants
    n_cells : int
        Radial cells per model.
    capacity : int
        Maximum number of segments (arrays are preallocated; segments are added in order).

    Attributes
    ----------
    c : (capacity, 2, n_cells + 1) array
        Solution concentrations [µmol cm-3]: node 0 on the root surface, then cell centres.
    faces : (capacity, n_cells + 1) array
        Cell faces [cm], ``faces[:, 0] = r0`` and ``faces[:, -1] = r1``.
    n : int
        Number of active models (the first ``n`` rows).

    References
    ----------
    .. [1] Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by
       a growing and exuding root system. Vadose Zone Journal, 11(3).

    Examples
    --------
    Two segments (radius 0.02 cm, soil cylinders of 0.2 and 0.4 cm) in a soil at 2 µM
    phosphate, the second exuding citrate; one hour later every µmol is accounted for:

    >>> constants = RhizosphereConstants(
    ...     theta=0.3, bulk_density=1.3,               # [cm3 cm-3], [g cm-3]
    ...     smax=(5.0, 1.0), affinity=(20.0, 10.0),    # [umol g-1], [cm3 umol-1]
    ...     diffusivity=(1e-6, 1e-6), decay=(0.0, 1.64e-5),      # [cm2 s-1], [s-1]
    ...     imax=3.26e-6, km=0.0058, cmin=0.0002)      # [umol cm-2 s-1], [umol cm-3]
    >>> import numpy as np
    >>> models = RhizosphereModels(constants, n_cells=8, capacity=4)
    >>> models.add([0.02, 0.02], [0.2, 0.4], [[0.002, 0.0], [0.002, 0.0]])
    >>> before = models.mass_per_length()             # [umol cm-1]
    >>> out = models.advance(3600.0, c_bulk=[[0.002, 0.0], [0.002, 0.0]], exudation=[0.0, 3e-6])
    >>> out["uptake"].round(7), out["exudation"].round(7)          # [umol cm-1]
    (array([0.0001114, 0.0001264]), array([0.       , 0.0013572]))
    >>> after = models.mass_per_length()
    >>> lost = before[:, 0] - after[:, 0]             # phosphate left the cylinders ...
    >>> bool(np.abs(lost - out["uptake"] - out["outflux"][:, 0]).max() < 1e-15)  # ... into the roots
    True
    >>> models.centres()[0, :3].round(5)              # surface node, first cell centres [cm]
    array([0.02  , 0.0231, 0.0308])
    """

    def __init__(self, constants: RhizosphereConstants, n_cells: int = 16, capacity: int = 1024):
        if n_cells < 2:
            raise InputError("a rhizosphere model needs at least 2 radial cells", field="n_radial_cells")
        self.constants = constants
        self.params = constants.as_array()
        self.n_cells = int(n_cells)
        self.c = np.zeros((capacity, 2, n_cells + 1))
        self.faces = np.ones((capacity, n_cells + 1))
        self.n = 0
        self.substeps = 0

    @property
    def capacity(self) -> int:
        return self.c.shape[0]

    def add(self, r0, r1, c_init) -> None:
        """Append models with root radius ``r0``, outer radius ``r1`` [cm] and uniform state.

        ``c_init`` (k, 2): solution concentrations [µmol cm-3] (a new segment starts from
        the state of the soil around it).
        """
        r0 = np.atleast_1d(np.asarray(r0, float))
        r1 = np.atleast_1d(np.asarray(r1, float))
        k = len(r0)
        if k == 0:
            return
        if np.any(~np.isfinite(r0)) or np.any(r0 <= 0) or np.any(~(r1 > r0)):
            raise InputError("rhizosphere models need 0 < r0 < r1", field="radius")
        if self.n + k > self.capacity:
            grow = max(self.n + k, 2 * self.capacity)
            c = np.zeros((grow, 2, self.n_cells + 1))
            f = np.ones((grow, self.n_cells + 1))
            c[:self.n] = self.c[:self.n]
            f[:self.n] = self.faces[:self.n]
            self.c, self.faces = c, f
        sl = slice(self.n, self.n + k)
        self.faces[sl] = log_spaced_faces(r0, r1, self.n_cells)
        self.c[sl] = np.asarray(c_init, float).reshape(k, 2, 1)
        self.n += k

    def set_outer_radius(self, r1, c_bulk) -> None:
        """Move the outer radius of the active models (profiles are re-gridded)."""
        r1 = np.asarray(r1, float)
        if r1.shape != (self.n,) or np.any(~(r1 > self.faces[:self.n, 0])):
            raise InputError("outer radius must exceed the root radius for every segment", field="r1")
        new = log_spaced_faces(self.faces[:self.n, 0], r1, self.n_cells)
        _remap(self.c[:self.n], self.faces[:self.n], new, np.ascontiguousarray(c_bulk, dtype=float))
        self.faces[:self.n] = new

    def advance(self, dt: float, c_bulk, exudation, max_halvings: int = 12) -> dict:
        """Advance all active models by ``dt`` [s].

        Parameters
        ----------
        dt : float
            Step [s].
        c_bulk : (n, 2) array
            Solution concentrations of the bulk soil at ``r1`` [µmol cm-3].
        exudation : (n,) array
            Citrate efflux at the root surface [µmol cm-2 s-1].

        Returns
        -------
        dict of per-segment arrays, per cm of root over the step [µmol cm-1]:
        ``uptake`` (P into the root), ``exudation`` (citrate), ``decay`` (n, 2),
        ``outflux`` (n, 2) through r1 (positive out of the cylinder); and ``failed``
        (number of segments that did not converge).
        """
        n = self.n
        out = {
            "uptake": np.zeros(n), "exudation": np.zeros(n),
            "decay": np.zeros((n, 2)), "outflux": np.zeros((n, 2)),
        }
        nsub = np.zeros(n, dtype=np.int64)
        if n == 0:
            out["failed"] = 0
            return out
        failed = _advance_all(self.c[:n], self.faces[:n], np.ascontiguousarray(exudation, dtype=float),
                              np.ascontiguousarray(c_bulk, dtype=float), float(dt), self.params,
                              int(max_halvings), out["uptake"], out["exudation"], out["decay"],
                              out["outflux"], nsub)
        self.substeps += int(nsub.sum())
        out["failed"] = int(failed)
        out["substeps"] = int(nsub.sum())
        return out

    def match_totals(self, target) -> None:
        """Rescale the profiles so that each cylinder's mean total equals ``target`` (n, 2)
        [µmol cm-3 bulk soil], species by species (multiplicative scaling of the totals)."""
        if self.n == 0:
            return
        target = np.ascontiguousarray(target, dtype=float)
        if target.shape != (self.n, 2) or np.any(target < 0) or not np.all(np.isfinite(target)):
            raise InputError("target totals must be finite, >= 0 and one pair per model", field="target")
        if _match_totals(self.c[:self.n], self.faces[:self.n], self.params, target):
            raise RhizoscaleError("isotherm inversion failed while matching rhizosphere totals")

    def mass_per_length(self) -> np.ndarray:
        """Total (solution + sorbed) amount in each cylinder per cm of root, (n, 2) [µmol cm-1]."""
        out = np.zeros((self.n, 2))
        if self.n:
            _mass_per_length(self.c[:self.n], self.faces[:self.n], self.params, out)
        return out

    def centres(self) -> np.ndarray:
        """Radial positions of the nodes (surface, then cell centres) [cm], (n, n_cells + 1)."""
        f = self.faces[:self.n]
        return np.concatenate([f[:, :1], np.sqrt(f[:, :-1] * f[:, 1:])], axis=1)


def rhizosphere_peclet(velocity, radius, diffusivity):
    """Rhizosphere Péclet number ``Pe = v r / D`` [-].

    Compares the advance of a root tip (speed ``v``) over one root radius ``r`` with
    diffusion (``D``) over the same distance; Pe < 1 means the exudate or depletion
    zone spreads ahead of the tip.

    Parameters
    ----------
    velocity : float
        Root elongation rate [cm s-1] (or any time unit consistent with ``diffusivity``).
    radius : float
        Root radius [cm].
    diffusivity : float
        Diffusion coefficient [cm2 s-1] (which one, in water or effective in soil,
        must be stated with the result).

    Returns
    -------
    float or array
        Pe [1].

    References
    ----------
    Schnepf, A., Leitner, D., & Klepsch, S. (2012). Vadose Zone Journal, 11(3).

    Examples
    --------
    A root growing 2 cm per day, radius 0.03 cm, citrate with ``D = 2.2e-7`` cm2 s-1 in
    soil:

    >>> round(float(rhizosphere_peclet(2.0 / 86400, 0.03, 2.2e-7)), 2)
    3.16
    """
    return np.asarray(velocity, float) * np.asarray(radius, float) / np.asarray(diffusivity, float)

"""Competitive Langmuir sorption of several solutes on the same sites.

``s_i = smax_i K_i c_i / (1 + sum_j K_j c_j)`` (µmol g-1), with ``c`` the concentrations in
the soil solution (µmol cm-3). The total amount per bulk volume is
``T_i = theta c_i + rho s_i(c)`` (µmol cm-3). Species are stacked along the first axis
of every array (case study 2: 0 = phosphate, 1 = citrate).

The NumPy functions are the readable specification; the Numba kernels
(:func:`langmuir_total_2`, :func:`langmuir_jacobian_2`, :func:`liquid_from_total_2`)
are used inside the rhizosphere and soil solvers and tested against them.

References
----------
Kirk, G. J. D. (1999). A model of phosphate solubilization by organic anion excretion
from plant roots. European Journal of Soil Science, 50, 369–378.
Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by a growing
and exuding root system. Vadose Zone Journal, 11(3).
"""

from __future__ import annotations

import numba
import numpy as np

from ..errors import InputError, RhizoscaleError

__all__ = [
    "competitive_langmuir",
    "competitive_langmuir_jacobian",
    "total_concentration",
    "liquid_concentration",
    "langmuir_total_2",
    "langmuir_jacobian_2",
    "liquid_from_total_2",
]


def _params(smax, affinity, n):
    smax = np.asarray(smax, dtype=float).reshape(n, *([1] * 0))
    affinity = np.asarray(affinity, dtype=float).reshape(n)
    if np.any(smax < 0) or np.any(affinity < 0) or not np.all(np.isfinite(smax)) \
            or not np.all(np.isfinite(affinity)):
        raise InputError("sorption capacities and affinities must be finite and >= 0",
                         field="smax/K")
    return smax, affinity


def competitive_langmuir(c, smax, affinity):
    """Sorbed amounts ``s_i = smax_i K_i c_i / (1 + sum_j K_j c_j)``.

    Parameters
    ----------
    c : (n_species, ...) array
        Concentrations in the soil solution [µmol cm-3], >= 0.
    smax : (n_species,) array
        Sorption capacities [µmol g-1].
    affinity : (n_species,) array
        Langmuir affinities K [cm3 µmol-1].

    Returns
    -------
    (n_species, ...) array
        Sorbed amounts [µmol g-1].

    References
    ----------
    Kirk (1999), Eur. J. Soil Sci. 50, 369–378.

    Examples
    --------
    Phosphate (row 0) and citrate (row 1) in two cells (columns); in the second cell
    there is no citrate, so phosphate has the sites to itself:

    >>> import numpy as np
    >>> c = np.array([[0.1, 0.5],
    ...               [0.2, 0.0]])                    # [umol cm-3]
    >>> competitive_langmuir(c, smax=[10.0, 5.0], affinity=[2.0, 1.0])     # [umol g-1]
    array([[1.42857143, 5.        ],
           [0.71428571, 0.        ]])
    """
    c = np.asarray(c, dtype=float)
    n = c.shape[0]
    smax, k = _params(smax, affinity, n)
    shape = (n,) + (1,) * (c.ndim - 1)
    kc = k.reshape(shape) * c
    return smax.reshape(shape) * kc / (1.0 + kc.sum(axis=0))


def competitive_langmuir_jacobian(c, smax, affinity):
    """Derivatives ``d s_i / d c_j`` [cm3 g-1], shape (n, n, ...).

    ``d s_i/d c_j = smax_i K_i (delta_ij (1 + S) - K_j c_i) / (1 + S)^2``, ``S = sum K c``.

    Parameters
    ----------
    c : (n_species, ...) array
        Concentrations in the soil solution [µmol cm-3].
    smax : (n_species,) array
        Sorption capacities [µmol g-1].
    affinity : (n_species,) array
        Langmuir affinities K [cm3 µmol-1].

    Returns
    -------
    (n_species, n_species, ...) array
        ``d s_i / d c_j`` [cm3 g-1].

    References
    ----------
    Kirk (1999), Eur. J. Soil Sci. 50, 369–378.

    Examples
    --------
    Competition makes the off-diagonal terms negative; a finite difference agrees:

    >>> import numpy as np
    >>> c, smax, K = np.array([0.1, 0.2]), [10.0, 5.0], [2.0, 1.0]
    >>> competitive_langmuir_jacobian(c, smax, K)
    array([[12.24489796, -1.02040816],
           [-1.02040816,  3.06122449]])
    >>> h = 1e-7
    >>> fd = (competitive_langmuir(c + [0.0, h], smax, K) - competitive_langmuir(c, smax, K)) / h
    >>> fd.round(6)                                  # column j = 1
    array([-1.020408,  3.061224])
    """
    c = np.asarray(c, dtype=float)
    n = c.shape[0]
    smax, k = _params(smax, affinity, n)
    shape = (n,) + (1,) * (c.ndim - 1)
    denom = 1.0 + (k.reshape(shape) * c).sum(axis=0)
    jac = np.empty((n, n) + c.shape[1:])
    for i in range(n):
        for j in range(n):
            jac[i, j] = smax[i] * k[i] * ((i == j) * denom - k[j] * c[i]) / denom**2
    return jac


def total_concentration(c, theta, bulk_density, smax, affinity):
    """Total amount per bulk volume ``T_i = theta c_i + rho s_i(c)`` [µmol cm-3].

    Parameters
    ----------
    c : (n_species, ...) array
        Concentrations in the soil solution [µmol cm-3].
    theta : float
        Volumetric water content [cm3 cm-3].
    bulk_density : float
        rho [g cm-3].
    smax, affinity : (n_species,) arrays
        Langmuir capacities [µmol g-1] and affinities [cm3 µmol-1].

    Returns
    -------
    (n_species, ...) array
        Totals [µmol cm-3 bulk soil].

    References
    ----------
    Kirk (1999), Eur. J. Soil Sci. 50, 369–378.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([[0.1, 0.5], [0.2, 0.0]])       # [umol cm-3]
    >>> total_concentration(c, 0.3, 1.2, [10.0, 5.0], [2.0, 1.0])
    array([[1.74428571, 6.15      ],
           [0.91714286, 0.        ]])
    """
    c = np.asarray(c, dtype=float)
    return theta * c + bulk_density * competitive_langmuir(c, smax, affinity)


def liquid_concentration(total, theta, bulk_density, smax, affinity, *, tol=1e-13, max_iter=100):
    """Solution concentrations ``c`` such that ``theta c + rho s(c) = total`` (Newton).

    Vectorised over cells. The map ``c -> T`` is monotone (its Jacobian is a P-matrix),
    and Newton steps are damped to keep ``c >= 0``, so the iteration converges from
    ``c = total / theta_eff`` for any non-negative totals.

    Parameters
    ----------
    total : (n_species, ...) array
        Totals [µmol cm-3 bulk soil], >= 0.
    theta : float
        Volumetric water content [-].
    bulk_density : float
        [g cm-3].
    smax, affinity : (n_species,) arrays
        Langmuir capacities [µmol g-1] and affinities [cm3 µmol-1].

    Returns
    -------
    (n_species, ...) array
        Concentrations in the soil solution [µmol cm-3].

    Raises
    ------
    InputError
        Negative or non-finite totals, capacities or affinities.

    References
    ----------
    Kirk (1999), Eur. J. Soil Sci. 50, 369–378.

    Examples
    --------
    The inverse of :func:`total_concentration`:

    >>> import numpy as np
    >>> c = np.array([[0.1, 0.5], [0.2, 0.0]])       # [umol cm-3]
    >>> total = total_concentration(c, 0.3, 1.2, [10.0, 5.0], [2.0, 1.0])
    >>> liquid_concentration(total, 0.3, 1.2, [10.0, 5.0], [2.0, 1.0])
    array([[0.1, 0.5],
           [0.2, 0. ]])
    """
    total = np.asarray(total, dtype=float)
    if np.any(total < 0) or not np.all(np.isfinite(total)):
        raise InputError("total concentrations must be finite and >= 0", field="total")
    n = total.shape[0]
    smax, k = _params(smax, affinity, n)
    flat = total.reshape(n, -1)
    # start from the linear (low-concentration) isotherm: c = T / (theta + rho smax K)
    c = flat / (theta + bulk_density * smax[:, None] * k[:, None])
    scale = np.maximum(flat, 1e-300)
    for _ in range(max_iter):
        res = total_concentration(c, theta, bulk_density, smax, k) - flat
        if np.all(np.abs(res) <= tol * scale):
            break
        jac = bulk_density * competitive_langmuir_jacobian(c, smax, k)
        for i in range(n):
            jac[i, i] += theta
        step = np.linalg.solve(np.moveaxis(jac, (0, 1), (-2, -1)), res.T[..., None])[..., 0].T
        new = c - step
        # damp steps that would make a concentration negative
        neg = new < 0
        if np.any(neg):
            new = np.where(neg, 0.5 * c, new)
        c = new
    else:
        raise RhizoscaleError("liquid_concentration: Newton did not converge")
    return c.reshape(total.shape)


# --------------------------------------------------------------------------- Numba kernels
@numba.njit(cache=True, inline="always")
def langmuir_total_2(c0, c1, theta, rho, smax0, k0, smax1, k1):
    """Totals (T0, T1) [µmol cm-3] of two competing species (scalar kernel)."""
    d = 1.0 + k0 * c0 + k1 * c1
    return theta * c0 + rho * smax0 * k0 * c0 / d, theta * c1 + rho * smax1 * k1 * c1 / d


@numba.njit(cache=True, inline="always")
def langmuir_jacobian_2(c0, c1, theta, rho, smax0, k0, smax1, k1):
    """``dT_i/dc_j`` (a00, a01, a10, a11) of two competing species (scalar kernel)."""
    d = 1.0 + k0 * c0 + k1 * c1
    d2 = d * d
    a00 = theta + rho * smax0 * k0 * (d - k0 * c0) / d2
    a01 = -rho * smax0 * k0 * k1 * c0 / d2
    a10 = -rho * smax1 * k1 * k0 * c1 / d2
    a11 = theta + rho * smax1 * k1 * (d - k1 * c1) / d2
    return a00, a01, a10, a11


@numba.njit(cache=True)
def invert_total_2(t0, t1, theta, rho, smax0, k0, smax1, k1):
    """Solution concentrations (c0, c1) of two competing species from their totals.

    Damped Newton from the linear-isotherm guess; returns ``(c0, c1, converged)``.
    """
    c0 = t0 / (theta + rho * smax0 * k0)
    c1 = t1 / (theta + rho * smax1 * k1)
    for _ in range(200):
        f0, f1 = langmuir_total_2(c0, c1, theta, rho, smax0, k0, smax1, k1)
        r0 = f0 - t0
        r1 = f1 - t1
        if abs(r0) <= 1e-14 * max(t0, 1e-300) and abs(r1) <= 1e-14 * max(t1, 1e-300):
            return c0, c1, True
        a00, a01, a10, a11 = langmuir_jacobian_2(c0, c1, theta, rho, smax0, k0, smax1, k1)
        det = a00 * a11 - a01 * a10
        d0 = (a11 * r0 - a01 * r1) / det
        d1 = (a00 * r1 - a10 * r0) / det
        n0 = c0 - d0
        n1 = c1 - d1
        c0 = n0 if n0 >= 0 else 0.5 * c0
        c1 = n1 if n1 >= 0 else 0.5 * c1
    return c0, c1, False


@numba.njit(cache=True)
def liquid_from_total_2(t0, t1, theta, rho, smax0, k0, smax1, k1, out):
    """Invert the isotherm for arrays of totals ``t0, t1`` (writes ``out[2, n]``).

    Returns the number of cells that did not converge (0 on success).
    """
    failed = 0
    for i in range(t0.shape[0]):
        c0, c1, ok = invert_total_2(t0[i], t1[i], theta, rho, smax0, k0, smax1, k1)
        out[0, i] = c0
        out[1, i] = c1
        if not ok:
            failed += 1
    return failed

"""Closed-form effective diffusivities and bounds: the oracles of the cell-problem solver.

All functions take phase diffusivities in any (common) units and return the same units.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["arithmetic_mean", "harmonic_mean", "geometric_mean", "wiener_bounds",
           "hashin_shtrikman_bounds", "maxwell_garnett", "perrins_square_array",
           "checkerboard_2d", "layered_tensor"]


def _fractions_and_values(fractions, values):
    f = np.asarray(fractions, dtype=float)
    d = np.asarray(values, dtype=float)
    if f.shape != d.shape or f.ndim != 1:
        raise InputError("fractions and diffusivities must be 1D arrays of equal length",
                         field="fractions")
    if np.any(f < 0) or not np.isclose(f.sum(), 1.0, atol=1e-9):
        raise InputError(f"volume fractions must be >= 0 and sum to 1 (sum {f.sum():g})",
                         field="fractions")
    if np.any(d < 0) or not np.all(np.isfinite(d)):
        raise InputError("diffusivities must be finite and >= 0", field="diffusivities")
    return f, d


def arithmetic_mean(fractions, values) -> float:
    """Volume-weighted arithmetic mean (parallel layers, diffusion along them).

    The exact effective diffusivity along the layers of a laminate and the upper Wiener
    bound for any microstructure.

    Parameters
    ----------
    fractions : sequence of float
        Volume fractions of the phases [-], non-negative, summing to 1.
    values : sequence of float
        Diffusivity of each phase (any common units; the result has the same).

    Returns
    -------
    float
        ``sum f_i D_i``.

    Raises
    ------
    InputError
        Fractions and values of different lengths, fractions not summing to 1, or
        negative/non-finite values.

    Examples
    --------
    >>> from rhizoscale.homogenization.effective_medium import arithmetic_mean
    >>> arithmetic_mean([0.5, 0.5], [1.0, 0.25])
    0.625
    """
    f, d = _fractions_and_values(fractions, values)
    return float(np.sum(f * d))


def harmonic_mean(fractions, values) -> float:
    """Volume-weighted harmonic mean (layers in series); 0 if a phase of positive fraction is 0.

    The exact effective diffusivity across the layers of a laminate and the lower Wiener
    bound for any microstructure.

    Parameters
    ----------
    fractions : sequence of float
        Volume fractions of the phases [-], non-negative, summing to 1.
    values : sequence of float
        Diffusivity of each phase (any common units; the result has the same).

    Returns
    -------
    float
        ``1 / sum(f_i / D_i)``.

    Raises
    ------
    InputError
        As :func:`arithmetic_mean`.

    Examples
    --------
    >>> from rhizoscale.homogenization.effective_medium import harmonic_mean
    >>> harmonic_mean([0.5, 0.5], [1.0, 0.25]), harmonic_mean([0.5, 0.5], [1.0, 0.0])
    (0.4, 0.0)
    """
    f, d = _fractions_and_values(fractions, values)
    if np.any((d == 0) & (f > 0)):
        return 0.0
    return float(1.0 / np.sum(f[f > 0] / d[f > 0]))


def geometric_mean(fractions, values) -> float:
    """Volume-weighted geometric mean ``exp(<ln D>)``.

    The exact effective conductivity of a 2D statistically isotropic medium whose log
    conductivity has a distribution symmetric about its mean (e.g. lognormal), in the
    limit of a domain much larger than the correlation length.

    Parameters
    ----------
    fractions : sequence of float
        Volume fractions of the phases [-], non-negative, summing to 1.
    values : sequence of float
        Diffusivity of each phase (any common units; the result has the same).

    Returns
    -------
    float
        ``exp(sum f_i ln D_i)`` (0 if a phase of positive fraction does not conduct).

    References
    ----------
    Matheron, G. (1967). Eléments pour une théorie des milieux poreux. Masson, Paris.

    Examples
    --------
    >>> from rhizoscale.homogenization.effective_medium import geometric_mean
    >>> geometric_mean([0.5, 0.5], [1.0, 0.25])
    0.5
    """
    f, d = _fractions_and_values(fractions, values)
    if np.any((d == 0) & (f > 0)):
        return 0.0
    return float(np.exp(np.sum(f[f > 0] * np.log(d[f > 0]))))


def wiener_bounds(fractions, values) -> tuple[float, float]:
    """Wiener bounds (harmonic, arithmetic mean) on every eigenvalue of the effective tensor.

    Parameters
    ----------
    fractions : sequence of float
        Volume fractions of the phases [-], non-negative, summing to 1.
    values : sequence of float
        Diffusivity of each phase (any common units; the result has the same).

    Returns
    -------
    (float, float)
        Lower and upper bound.

    References
    ----------
    Wiener, O. (1912). Die Theorie des Mischkörpers für das Feld der stationären Strömung.
    Abh. Math.-Phys. Kl. Königl. Sächs. Ges. Wiss., 32, 509–604.

    Examples
    --------
    >>> from rhizoscale.homogenization.effective_medium import wiener_bounds
    >>> wiener_bounds([0.5, 0.5], [1.0, 0.25])
    (0.4, 0.625)
    """
    return harmonic_mean(fractions, values), arithmetic_mean(fractions, values)


def hashin_shtrikman_bounds(fractions, values, ndim: int = 3) -> tuple[float, float]:
    """Hashin–Shtrikman bounds on the effective diffusivity of an isotropic multiphase medium.

    ``D_HS(s) = [ sum_i f_i / (D_i + (d-1) s) ]^-1 - (d-1) s`` with ``s = min D_i`` for
    the lower and ``s = max D_i`` for the upper bound (d = dimension).

    Parameters
    ----------
    fractions : sequence of float
        Volume fractions of the phases [-], non-negative, summing to 1.
    values : sequence of float
        Diffusivity of each phase (any common units; the result has the same).
    ndim : {2, 3}
        Dimension of the medium.

    Returns
    -------
    (float, float)
        Lower and upper bound (the tightest bounds given only the volume fractions of a
        statistically isotropic medium).

    Raises
    ------
    InputError
        Bad fractions or values, or ``ndim`` not 2 or 3.

    References
    ----------
    Hashin, Z., & Shtrikman, S. (1962). A variational approach to the theory of the
    effective magnetic permeability of multiphase materials. J. Appl. Phys., 33, 3125–3131.
    Torquato, S. (2002). Random Heterogeneous Materials, §21. Springer.

    Examples
    --------
    >>> from rhizoscale.homogenization.effective_medium import hashin_shtrikman_bounds
    >>> [round(b, 4) for b in hashin_shtrikman_bounds([0.5, 0.5], [1.0, 0.25], ndim=2)]
    [0.4643, 0.5385]
    """
    if ndim not in (2, 3):
        raise InputError("ndim must be 2 or 3", field="ndim")
    f, d = _fractions_and_values(fractions, values)
    keep = f > 0
    f, d = f[keep], d[keep]

    def bound(s):
        k = ndim - 1
        if s == 0:
            return 0.0 if np.any(d == 0) else float(1.0 / np.sum(f / d))
        return float(1.0 / np.sum(f / (d + k * s)) - k * s)

    return bound(d.min()), bound(d.max())


def maxwell_garnett(fraction, d_inclusion, d_matrix=1.0, ndim: int = 3) -> float:
    """Maxwell (Maxwell Garnett / Clausius–Mossotti) diffusivity of dilute spheres or discs.

    ``D = D_m (1 + (d-1) f b) / (1 - f b)``, ``b = (D_i - D_m)/(D_i + (d-1) D_m)``. Exact to
    first order in ``f`` and, for cubic/square arrays, up to ``O(f^(10/3))`` / ``O(f^4)``.

    Parameters
    ----------
    fraction : float
        Volume fraction of the inclusions [-].
    d_inclusion : float
        Diffusivity of the inclusions (0 for impermeable grains).
    d_matrix : float
        Diffusivity of the matrix (same units).
    ndim : {2, 3}
        Discs (2) or spheres (3).

    Returns
    -------
    float
        Effective diffusivity (units of ``d_matrix``).

    References
    ----------
    Maxwell, J. C. (1873). A Treatise on Electricity and Magnetism, vol. 1, §314.
    Rayleigh, Lord (1892). On the influence of obstacles arranged in rectangular order upon
    the properties of a medium. Phil. Mag., 34, 481–502.

    Examples
    --------
    10 % impermeable spheres in water:

    >>> from rhizoscale.homogenization.effective_medium import maxwell_garnett
    >>> round(maxwell_garnett(0.1, 0.0), 4)
    0.8571
    """
    k = ndim - 1
    b = (d_inclusion - d_matrix) / (d_inclusion + k * d_matrix)
    return float(d_matrix * (1 + k * fraction * b) / (1 - fraction * b))


def perrins_square_array(fraction, d_inclusion, d_matrix=1.0) -> float:
    """Effective diffusivity of a square array of discs (Rayleigh's method, Perrins et al.).

    ``D/D_m = 1 - 2 f / (T + f - 0.305827 f^4 T / (T^2 - 1.402958 f^8) - 0.013362 f^8)``
    with ``T = (1 + r)/(1 - r)``, ``r = D_i / D_m`` (``r != 1``); accurate to better than
    1e-3 up to near touching discs.

    Parameters
    ----------
    fraction : float
        Area fraction of the discs [-].
    d_inclusion : float
        Diffusivity of the discs.
    d_matrix : float
        Diffusivity of the matrix (same units).

    Returns
    -------
    float
        Effective diffusivity (isotropic by symmetry; units of ``d_matrix``).

    References
    ----------
    Perrins, W. T., McKenzie, D. R., & McPhedran, R. C. (1979). Transport properties of
    regular arrays of cylinders. Proc. R. Soc. Lond. A, 369, 207–225.

    Examples
    --------
    >>> from rhizoscale.homogenization.effective_medium import maxwell_garnett, perrins_square_array
    >>> round(perrins_square_array(0.1, 0.0), 5), round(maxwell_garnett(0.1, 0.0, ndim=2), 5)
    (0.81818, 0.81818)
    """
    r = d_inclusion / d_matrix
    if r == 1:
        return float(d_matrix)
    f = float(fraction)
    t = (1 + r) / (1 - r)
    denom = t + f - 0.305827 * f**4 * t / (t**2 - 1.402958 * f**8) - 0.013362 * f**8
    return float(d_matrix * (1 - 2 * f / denom))


def checkerboard_2d(d1, d2) -> float:
    """Effective diffusivity of a 2D checkerboard: ``sqrt(D1 D2)`` (Keller–Dykhne duality).

    Parameters
    ----------
    d1, d2 : float
        Diffusivities of the two phases.

    Returns
    -------
    float
        ``sqrt(d1 d2)``.

    References
    ----------
    Keller, J. B. (1964). A theorem on the conductivity of a composite medium.
    J. Math. Phys., 5, 548–549. Dykhne, A. M. (1971). Sov. Phys. JETP, 32, 63–65.

    Examples
    --------
    >>> from rhizoscale.homogenization.effective_medium import checkerboard_2d
    >>> checkerboard_2d(1.0, 0.25)
    0.5
    """
    return float(np.sqrt(d1 * d2))


def layered_tensor(fractions, values, angle: float) -> np.ndarray:
    """2D tensor of a laminate whose layers make ``angle`` (rad) with the first axis.

    ``R diag(arithmetic, harmonic) R^T``: arithmetic mean along the layers, harmonic across.

    Parameters
    ----------
    fractions : sequence of float
        Volume fractions of the phases [-], non-negative, summing to 1.
    values : sequence of float
        Diffusivity of each phase (any common units; the result has the same).
    angle : float
        Angle between the layers and the first axis [rad].

    Returns
    -------
    (2, 2) ndarray
        Effective diffusion tensor (units of ``values``).

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.homogenization.effective_medium import layered_tensor
    >>> layered_tensor([0.5, 0.5], [1.0, 0.25], np.pi / 4).round(4)
    array([[0.5125, 0.1125],
           [0.1125, 0.5125]])
    """
    a, h = arithmetic_mean(fractions, values), harmonic_mean(fractions, values)
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return rot @ np.diag([a, h]) @ rot.T

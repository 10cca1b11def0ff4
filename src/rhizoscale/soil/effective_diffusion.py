"""Empirical models of the effective diffusion coefficient of a solute in soil.

All functions here are shared by every case study that needs an effective
diffusivity from water content and porosity; homogenisation of pore-scale images
(case study 4) gives a computed alternative with the same role.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["millington_quirk", "millington_quirk_impedance", "millington_quirk_1960",
           "penman", "papendick_campbell", "moldrup_linear_impedance", "SOIL_DIFFUSION_MODELS"]


def _check(theta, porosity):
    theta = np.asarray(theta, dtype=float)
    porosity = np.asarray(porosity, dtype=float)
    if np.any(~np.isfinite(theta)) or np.any(theta < 0):
        raise InputError("water content must be finite and >= 0", field="theta")
    if np.any(~np.isfinite(porosity)) or np.any(porosity <= 0) or np.any(porosity > 1):
        raise InputError("porosity must be in (0, 1]", field="porosity")
    if np.any(theta > porosity + 1e-12):
        raise InputError("water content cannot exceed porosity", field="theta")
    return theta, porosity


def millington_quirk_impedance(theta, porosity):
    """Millington–Quirk impedance factor ``f = theta^(7/3) / phi^2`` [-].

    The effective diffusivity per unit *liquid* concentration gradient is
    ``D_w * theta * f``; per unit *bulk* volume of liquid it is ``D_w * f``.

    Parameters
    ----------
    theta : float or array
        Volumetric water content [cm^3 cm^-3].
    porosity : float or array
        Total porosity [cm^3 cm^-3].

    Returns
    -------
    ndarray
        Impedance factor [-] (a 0-d array for scalar input).

    Raises
    ------
    InputError
        Negative or non-finite water content, porosity outside (0, 1], or
        ``theta > porosity``.

    References
    ----------
    Millington, R. J., & Quirk, J. P. (1961). Permeability of porous solids.
    Transactions of the Faraday Society, 57, 1200–1207.

    Examples
    --------
    >>> from rhizoscale.soil import millington_quirk_impedance
    >>> round(float(millington_quirk_impedance(0.3, 0.5)), 3)
    0.241
    """
    theta, porosity = _check(theta, porosity)
    return _out(theta ** (7.0 / 3.0) / porosity**2)


def millington_quirk(theta, porosity, d_water=1.0):
    """Effective diffusion coefficient ``D_eff = D_w theta^(10/3) / phi^2``.

    Parameters
    ----------
    theta : float or array
        Volumetric water content [cm^3 cm^-3].
    porosity : float or array
        Total porosity [cm^3 cm^-3].
    d_water : float
        Diffusion coefficient in free water (any units; the result has the same).

    Returns
    -------
    float or array
        Effective diffusion coefficient in the units of ``d_water``; with
        ``d_water = 1`` the relative diffusivity (2.3457e-2 at theta = 0.19, phi = 0.41).

    Raises
    ------
    InputError
        Negative or non-finite water content, porosity outside (0, 1], or
        ``theta > porosity``.

    References
    ----------
    Millington, R. J., & Quirk, J. P. (1961). Permeability of porous solids.
    Transactions of the Faraday Society, 57, 1200–1207.

    Examples
    --------
    >>> from rhizoscale.soil import millington_quirk
    >>> round(millington_quirk(0.19, 0.41), 6)
    0.023457
    >>> millington_quirk(0.3, 0.5, d_water=8.46e-6)     # phosphate [cm^2 s^-1]
    6.11...e-07
    """
    theta, porosity = _check(theta, porosity)
    out = d_water * theta ** (10.0 / 3.0) / porosity**2
    return float(out) if np.ndim(out) == 0 else out


def _out(x):
    return float(x) if np.ndim(x) == 0 else x


def millington_quirk_1960(theta, porosity, d_water=1.0):
    """Millington–Quirk (1960) model ``D_eff = D_w theta^2 / phi^(2/3)``.

    The earlier of the two Millington–Quirk expressions (pore-interaction model with
    equal pore-size distributions); 6.54e-2 at theta = 0.19, phi = 0.41.

    Parameters
    ----------
    theta : float or array
        Volumetric water content [cm^3 cm^-3].
    porosity : float or array
        Total porosity [cm^3 cm^-3].
    d_water : float
        Diffusion coefficient in free water (any units; the result has the same).

    Returns
    -------
    float or array
        Effective diffusion coefficient in the units of ``d_water``.

    References
    ----------
    Millington, R. J., & Quirk, J. P. (1960). Transport in porous media. Transactions of
    the 7th International Congress of Soil Science, Madison, 1, 97–106. (unverified)

    Examples
    --------
    >>> from rhizoscale.soil import millington_quirk_1960
    >>> round(millington_quirk_1960(0.19, 0.41), 4)
    0.0654
    """
    theta, porosity = _check(theta, porosity)
    return _out(d_water * theta**2 / porosity ** (2.0 / 3.0))


def penman(theta, porosity=None, d_water=1.0):
    """Penman's linear model ``D_eff = 0.66 D_w theta`` (a tortuosity factor of 0.66).

    Derived for gas diffusion in the air-filled pores; applied to the liquid it is an
    upper estimate for wet soils.

    Parameters
    ----------
    theta : float or array
        Volumetric water content [cm^3 cm^-3].
    porosity : float or array, optional
        Total porosity [cm^3 cm^-3]; only checked (``theta <= porosity``), the model does
        not use it.
    d_water : float
        Diffusion coefficient in free water (any units; the result has the same).

    Returns
    -------
    float or array
        Effective diffusion coefficient in the units of ``d_water``.

    References
    ----------
    Penman, H. L. (1940). Gas and vapour movements in the soil: I. The diffusion of vapours
    through porous solids. Journal of Agricultural Science, 30, 437–462.

    Examples
    --------
    >>> from rhizoscale.soil import penman
    >>> round(penman(0.19), 4)
    0.1254
    """
    theta, _ = _check(theta, 1.0 if porosity is None else porosity)
    return _out(0.66 * d_water * theta)


def papendick_campbell(theta, porosity=None, d_water=1.0):
    """Papendick–Campbell model ``D_eff = 2.8 D_w theta^3`` (impedance ``2.8 theta^2``).

    Parameters
    ----------
    theta : float or array
        Volumetric water content [cm^3 cm^-3].
    porosity : float or array, optional
        Total porosity [cm^3 cm^-3]; only checked (``theta <= porosity``).
    d_water : float
        Diffusion coefficient in free water (any units; the result has the same).

    Returns
    -------
    float or array
        Effective diffusion coefficient in the units of ``d_water``.

    References
    ----------
    Papendick, R. I., & Campbell, G. S. (1981). Theory and measurement of water potential.
    In Water Potential Relations in Soil Microbiology, SSSA Special Publication 9, 1–22.
    (coefficient from secondary sources, unverified)

    Examples
    --------
    >>> from rhizoscale.soil import papendick_campbell
    >>> round(papendick_campbell(0.19), 4)
    0.0192
    """
    theta, _ = _check(theta, 1.0 if porosity is None else porosity)
    return _out(2.8 * d_water * theta**3)


def moldrup_linear_impedance(theta, porosity, theta_threshold=0.0, d_water=1.0):
    """Threshold (linear impedance) model ``D_eff = 1.1 D_w theta (theta - theta_th)/(phi - theta_th)``.

    Diffusion stops below a threshold water content ``theta_th`` at which the liquid phase
    loses continuity (higher in finer-textured soils); 0 below it.

    Parameters
    ----------
    theta : float or array
        Volumetric water content [cm^3 cm^-3].
    porosity : float or array
        Total porosity [cm^3 cm^-3].
    theta_threshold : float
        Water content below which the liquid phase does not conduct [cm^3 cm^-3], in
        ``[0, porosity)``.
    d_water : float
        Diffusion coefficient in free water (any units; the result has the same).

    Returns
    -------
    float or array
        Effective diffusion coefficient in the units of ``d_water``.

    Raises
    ------
    InputError
        Bad water content or porosity, or a threshold outside ``[0, porosity)``.

    References
    ----------
    Moldrup, P., Olesen, T., Komatsu, T., Schjønning, P., & Rolston, D. E. (2001).
    Tortuosity, diffusivity, and permeability in the soil liquid and gaseous phases.
    Soil Science Society of America Journal, 65, 613–623. (form recalled from secondary
    sources, unverified)

    Examples
    --------
    >>> from rhizoscale.soil import moldrup_linear_impedance
    >>> round(moldrup_linear_impedance(0.19, 0.41, theta_threshold=0.05), 4)
    0.0813
    >>> moldrup_linear_impedance(0.04, 0.41, theta_threshold=0.05)   # below the threshold
    0.0
    """
    theta, porosity = _check(theta, porosity)
    th = float(theta_threshold)
    if not 0 <= th < np.min(porosity):
        raise InputError("threshold water content must be in [0, porosity)", field="theta_threshold")
    out = 1.1 * d_water * theta * np.clip(theta - th, 0, None) / (porosity - th)
    return _out(out)


#: name -> function(theta, porosity, d_water=1) of every empirical model above
SOIL_DIFFUSION_MODELS = {
    "millington_quirk_1961": millington_quirk,
    "millington_quirk_1960": millington_quirk_1960,
    "penman_1940": penman,
    "papendick_campbell_1981": papendick_campbell,
    "moldrup_2001": moldrup_linear_impedance,
}

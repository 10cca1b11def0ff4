"""Empirical models of the effective diffusion coefficient of a solute in soil.

All functions here are shared by every case study that needs an effective
diffusivity from water content and porosity; homogenisation of pore-scale images
(case study 4) gives a computed alternative with the same role.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["millington_quirk", "millington_quirk_impedance"]


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

    References
    ----------
    Millington, R. J., & Quirk, J. P. (1961). Permeability of porous solids.
    Transactions of the Faraday Society, 57, 1200–1207.
    """
    theta, porosity = _check(theta, porosity)
    return theta ** (7.0 / 3.0) / porosity**2


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

    References
    ----------
    Millington, R. J., & Quirk, J. P. (1961). Permeability of porous solids.
    Transactions of the Faraday Society, 57, 1200–1207.
    """
    theta, porosity = _check(theta, porosity)
    out = d_water * theta ** (10.0 / 3.0) / porosity**2
    return float(out) if np.ndim(out) == 0 else out

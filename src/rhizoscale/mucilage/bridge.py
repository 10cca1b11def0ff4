"""Pendular liquid bridge between two equal spheres (the fast mode's liquid surface).

The bridge is described in the toroidal approximation (Fisher 1926; Lian et al. 1993):
the meridional profile is a circular arc of radius ``r1`` meeting each sphere at the
contact angle ``theta`` on a circle at the half filling angle ``beta``; ``r2`` is the neck
radius. For a given liquid volume ``V`` and separation ``S`` (surface to surface) the
filling angle solves ``V_toroidal(beta, S) = V`` (the volume is closed form, monotone in
``beta``). The capillary force is the gorge value ``pi gamma r2 (1 + r2 / r1)`` (surface
tension on the neck plus the Laplace suction on the neck area), attractive.

Rupture follows Lian et al. (1993): ``S_rup = (1 + theta / 2) V^(1/3)`` (lengths scaled
by the sphere radius, ``theta`` in rad); Willett et al. (2000) refined it to
``(1 + theta / 2) (V*^(1/3) + 0.1 V*^(2/3))``. Both are given; the drying model uses
Lian's (the criterion DEM codes use).

Lengths in µm, forces in µN, surface tension in N m-1 (= µN µm-1), volumes in µm3,
angles in rad.

References
----------
Lian, G., Thornton, C., Adams, M. J. (1993). A theoretical study of the liquid bridge
forces between two rigid spherical bodies. J. Colloid Interface Sci. 161, 138-147.
Willett, C. D., Adams, M. J., Johnson, S. A., Seville, J. P. K. (2000). Capillary bridges
between two spherical bodies. Langmuir 16, 9396-9405 (eq. 12: simple form; appendix:
the fit to Young-Laplace solutions, stated accurate to within a few per cent).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ..errors import InputError

__all__ = ["PendularBridge", "toroidal_volume", "toroidal_bridge", "willett_force",
           "lian_rupture_distance", "lian_rupture_volume", "willett_rupture_distance",
           "meniscus_distance", "largest_toroidal_volume"]


def _profile(beta, separation, radius, contact_angle):
    """Meridional radius r1, neck radius r2 and contact-line abscissa X (all µm)."""
    x = 0.5 * separation + radius * (1.0 - np.cos(beta))
    r1 = x / np.cos(beta + contact_angle)
    r2 = radius * np.sin(beta) - r1 * (1.0 - np.sin(beta + contact_angle))
    return r1, r2, x


def toroidal_volume(beta, separation, radius, contact_angle=0.0):
    """Liquid volume of a toroidal bridge with half filling angle ``beta`` [µm3].

    The solid of revolution under the arc ``y(x) = r1 + r2 - sqrt(r1^2 - x^2)`` between
    the contact lines ``|x| <= X``, minus the two spherical caps it contains.

    Parameters
    ----------
    beta : float or ndarray
        Half filling angle [rad], ``0 < beta < pi/2 - contact_angle``.
    separation, radius : float
        Surface-to-surface gap and sphere radius [µm].
    contact_angle : float
        [rad].

    Example
    -------
    >>> v = toroidal_volume(0.3, 0.0, 1.0)
    >>> round(float(v), 6)
    0.008335
    """
    r1, r2, x = _profile(beta, separation, radius, contact_angle)
    c = r1 + r2
    root = np.sqrt(np.maximum(r1 * r1 - x * x, 0.0))
    integral = 2 * x * (c * c + r1 * r1) - 2 * x ** 3 / 3 - 2 * c * (x * root + r1 * r1 * np.arcsin(np.clip(x / r1, -1, 1)))
    cap = radius * (1.0 - np.cos(beta))
    return np.pi * integral - 2 * np.pi * cap * cap * (3 * radius - cap) / 3


def _largest(separation, radius, contact_angle):
    """(beta, volume) of the largest concave bridge: the volume grows with beta until the
    arc turns flat (``beta + theta -> pi/2``), where round-off takes over; found on a grid."""
    beta = np.linspace(1e-4, np.pi / 2 - contact_angle - 1e-3, 4000)
    v = toroidal_volume(beta, separation, radius, contact_angle)
    k = int(np.argmax(np.where(np.isfinite(v), v, -np.inf)))
    return float(beta[k]), float(v[k])


def largest_toroidal_volume(separation, radius, contact_angle=0.0) -> float:
    """Largest volume [µm3] of a concave (pendular) toroidal bridge at ``separation``."""
    return _largest(separation, radius, contact_angle)[1]


@dataclass(frozen=True)
class PendularBridge:
    """A toroidal bridge between two equal spheres (lengths µm, force µN).

    ``half_length`` is the axial distance from the mid-plane to each contact line.
    """

    volume: float
    separation: float
    radius: float
    contact_angle: float
    surface_tension: float
    beta: float
    r1: float
    r2: float
    half_length: float

    @property
    def force(self) -> float:
        """Attractive capillary force (gorge method) [µN]."""
        return float(np.pi * self.surface_tension * self.r2 * (1.0 + self.r2 / self.r1))

    @property
    def laplace_suction(self) -> float:
        """Air minus liquid pressure at the neck, gamma (1/r1 - 1/r2) [µN µm-2 = 1e6 Pa]."""
        return float(self.surface_tension * (1.0 / self.r1 - 1.0 / self.r2))


def toroidal_bridge(volume: float, separation: float, radius: float, contact_angle: float = 0.0,
                    surface_tension: float = 0.072) -> PendularBridge:
    """The toroidal bridge holding ``volume`` between spheres ``separation`` apart.

    Parameters
    ----------
    volume : float
        Liquid volume [µm3], > 0 and below :func:`largest_toroidal_volume`.
    separation, radius : float
        Gap between the sphere surfaces and sphere radius [µm].
    contact_angle : float
        [rad], in [0, pi/2).
    surface_tension : float
        [N m-1 = µN µm-1].

    Returns
    -------
    PendularBridge

    Raises
    ------
    InputError
        Volume not positive or beyond the pendular (concave) range, or no bridge exists
        (the neck closes: the separation exceeds what the toroidal profile can span).

    Example
    -------
    >>> b = toroidal_bridge(1e-2, 0.05, 1.0, 0.0, 1.0)
    >>> round(b.force / (2 * np.pi), 3)     # F / (2 pi R gamma); Willett's fit: 0.47
    0.456
    """
    if not (np.isfinite(volume) and volume > 0):
        raise InputError(f"bridge volume must be positive, got {volume}", field="volume")
    if not (0 <= contact_angle < np.pi / 2):
        raise InputError(f"contact angle must be in [0, pi/2) rad, got {contact_angle}", field="contact_angle")
    if separation < 0:
        raise InputError(f"particles overlap (separation {separation} < 0)", field="separation")
    hi, vmax = _largest(separation, radius, contact_angle)
    if volume > vmax:
        raise InputError(f"volume {volume:.4g} um3 exceeds the pendular range ({vmax:.4g} um3 at "
                         f"this separation)", field="volume")
    beta = brentq(lambda b: float(toroidal_volume(b, separation, radius, contact_angle)) - volume,
                  1e-6, hi, xtol=1e-15, rtol=1e-14, maxiter=200)
    r1, r2, x = _profile(beta, separation, radius, contact_angle)
    if r2 <= 0:
        raise InputError(f"no pendular bridge of volume {volume:.4g} um3 spans a gap of {separation:.4g} um",
                         field="separation")
    return PendularBridge(float(volume), float(separation), float(radius), float(contact_angle),
                          float(surface_tension), float(beta), float(r1), float(r2), float(x))


def willett_force(volume, separation, radius, contact_angle=0.0, surface_tension=0.072, form="fit"):
    """Capillary force between equal spheres by Willett et al. (2000) [µN].

    ``form="simple"``: eq. 12, ``F = 2 pi R gamma cos(theta) / (1 + 2.1 s + 10 s^2)`` with
    ``s = (S/2) sqrt(R/V)``. ``form="fit"``: the appendix fit ``ln F* = f1 - f2 exp(f3 ln s +
    f4 ln^2 s)`` to Young-Laplace solutions, ``f_i`` cubic in ``ln V*`` and quadratic in
    ``theta`` (rad), for ``V* = V/R^3`` in about [1e-3, 0.1].

    Example
    -------
    >>> round(float(willett_force(1e-2, 0.0, 1.0, 0.0, 1.0, "simple") / (2 * np.pi)), 6)
    1.0
    """
    v = np.asarray(volume, float) / radius ** 3
    s = 0.5 * np.asarray(separation, float) / radius / np.sqrt(v)
    th, th2 = contact_angle, contact_angle ** 2
    scale = 2 * np.pi * radius * surface_tension
    if form == "simple":
        return scale * np.cos(th) / (1 + 2.1 * s + 10.0 * s * s)
    if form != "fit":
        raise ValueError(f"form must be 'simple' or 'fit', got {form!r}")
    L = np.log(v)
    f1 = ((-0.44507 + 0.050832 * th - 1.1466 * th2) + (-0.1119 - 0.000411 * th - 0.1490 * th2) * L
          + (-0.012101 - 0.0036456 * th - 0.01255 * th2) * L ** 2
          + (-0.0005 - 0.0003505 * th - 0.00029076 * th2) * L ** 3)
    f2 = ((1.9222 - 0.57473 * th - 1.2918 * th2) + (-0.0668 - 0.1201 * th - 0.22574 * th2) * L
          + (-0.0013375 - 0.0068988 * th - 0.01137 * th2) * L ** 2)
    f3 = ((1.268 - 0.01396 * th - 0.23566 * th2) + (0.198 + 0.092 * th - 0.06418 * th2) * L
          + (0.02232 + 0.02238 * th - 0.009853 * th2) * L ** 2
          + (0.0008585 + 0.001318 * th - 0.00053 * th2) * L ** 3)
    f4 = ((-0.010703 + 0.073776 * th - 0.34742 * th2) + (0.03345 + 0.04543 * th - 0.09056 * th2) * L
          + (0.0018574 + 0.004456 * th - 0.006257 * th2) * L ** 2)
    ls = np.log(np.where(s > 0, s, 1.0))
    term = np.where(s > 0, np.exp(f3 * ls + f4 * ls * ls), 0.0)   # s -> 0: F* -> exp(f1)
    return scale * np.exp(f1 - f2 * term)


def lian_rupture_distance(volume, radius, contact_angle=0.0):
    """Rupture separation of Lian et al. (1993): ``R (1 + theta/2) (V/R^3)^(1/3)`` [µm].

    Example
    -------
    >>> round(float(lian_rupture_distance(1e3, 10.0, 0.0)), 6)
    10.0
    """
    return radius * (1 + 0.5 * contact_angle) * np.cbrt(np.asarray(volume, float) / radius ** 3)


def lian_rupture_volume(separation, radius, contact_angle=0.0):
    """The volume below which a bridge at ``separation`` ruptures (Lian's criterion) [µm3]."""
    return radius ** 3 * (np.asarray(separation, float) / radius / (1 + 0.5 * contact_angle)) ** 3


def willett_rupture_distance(volume, radius, contact_angle=0.0):
    """Willett et al. (2000): ``R (1 + theta/2) (V*^(1/3) + 0.1 V*^(2/3))`` [µm]."""
    v = np.asarray(volume, float) / radius ** 3
    return radius * (1 + 0.5 * contact_angle) * (np.cbrt(v) + 0.1 * np.cbrt(v) ** 2)


def meniscus_distance(points, bridge: PendularBridge, centres):
    """Signed distance of points to the toroidal meniscus and the normal into the liquid.

    Parameters
    ----------
    points : ndarray (n, 3)
        Positions [µm], (x, y, z).
    bridge : PendularBridge
    centres : ndarray (2, 3)
        Sphere centres [µm].

    Returns
    -------
    distance : ndarray (n,)
        Positive in air, negative in the liquid [µm]; ``+inf`` outside the bridge's
        axial extent ``|x| > half_length``.
    normal : ndarray (n, 3)
        Unit vector pointing into the liquid (away from the torus' generating circle).
    """
    p = np.asarray(points, float)
    c = np.asarray(centres, float)
    mid = 0.5 * (c[0] + c[1])
    axis = (c[1] - c[0]) / np.linalg.norm(c[1] - c[0])
    rel = p - mid
    x = rel @ axis
    radial = rel - x[:, None] * axis
    rho = np.linalg.norm(radial, axis=1)
    dz = rho - (bridge.r1 + bridge.r2)
    d = np.sqrt(x * x + dz * dz)
    dist = np.where(np.abs(x) <= bridge.half_length, bridge.r1 - d, np.inf)
    safe_rho = np.where(rho > 0, rho, 1.0)
    unit_radial = np.where(rho[:, None] > 0, radial / safe_rho[:, None], 0.0)
    safe_d = np.where(d > 0, d, 1.0)
    normal = (x / safe_d)[:, None] * axis + (dz / safe_d)[:, None] * unit_radial
    return dist, normal

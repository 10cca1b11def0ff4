"""Pendular liquid bridge between two parallel cylinders: the meniscus of a 2D medium.

A 2D pore image is homogenised as a 2D cell problem, which is exact for the medium the
image extruded along the third axis: grains are **parallel cylinders**, not sections
through spheres. The bridge between two of them is then the same along the axis, and its
cross-section is bounded by two circular arcs — exactly, not as an approximation: in 2D
the Young–Laplace equation has one curvature, ``p = gamma / r1``, so a meniscus at
uniform pressure (no gravity) is an arc of radius ``r1`` (Princen 1970). Lengths per unit
length of cylinder: the liquid is an *area* ``A`` [µm²].

Geometry (cylinders of radius ``R``, surface gap ``S``, contact angle ``theta``, half
filling angle ``beta`` measured at each cylinder's centre from the line of centres): the
contact lines are at ``x = ±X`` with ``X = S/2 + R (1 - cos beta)``, the arcs have radius
``r1 = X / cos(beta + theta)`` and the neck half-width is
``r2 = R sin beta - r1 (1 - sin(beta + theta))`` — the meridional profile of the
toroidal bridge between spheres (:mod:`.bridge`), here the exact cross-section. The area
is closed form (:func:`cylinder_bridge_area`).

**Rupture.** At fixed ``S`` the area grows with ``beta`` from the pinched bridge
(``r2 = 0``: the two arcs touch on the line of centres) upwards, and the liquid pressure
rises with the area (the bridge is stable at fixed area). So at fixed area the widest
gap is the pinch: ``S_rup(A)`` is the gap at which the pinched bridge holds ``A``,
given in closed form along the pinch curve (:func:`cylinder_rupture_distance`). Between
flat plates (``R -> inf``, the small-area limit) this is ``S_rup = (A / (1 - pi/4))^(1/2)``
at ``theta = 0`` (two semicircular menisci of radius ``S/2`` that touch; tested). In 3D
the axisymmetric neck of a sphere–sphere bridge becomes unstable before it pinches, which
is what Lian et al.'s (1993) criterion fits; a translation-invariant 2D bridge has no
such instability (a break-up along the axis would make it 3D, outside the 2D medium).

**Which 2D bridge.** The chain's reference bridge is a 3D volume ``v R³``
(``bridge_span.volume_ratio``). The 2D bridge with the same *capillary state* is the one
at the same Laplace suction: :func:`equal_suction_area` takes the toroidal bridge of
``v R³`` at contact (``S = 0``), its suction ``gamma (1/r1 - 1/r2)``, and returns the
area of the 2D bridge at contact whose single curvature gives that suction (soil water
held at one matric potential, the same in both media).

Units: µm, µm² per unit length, rad.

References
----------
Princen, H. M. (1970). Capillary phenomena in assemblies of parallel cylinders: III.
Liquid columns between horizontal parallel cylinders. J. Colloid Interface Sci. 34,
171–184.
Lian, G., Thornton, C., Adams, M. J. (1993). A theoretical study of the liquid bridge
forces between two rigid spherical bodies. J. Colloid Interface Sci. 161, 138–147.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ..errors import InputError
from .bridge import _profile, toroidal_bridge

__all__ = ["cylinder_bridge_area", "cylinder_pinch", "cylinder_rupture_distance", "equal_suction_area",
           "CylinderBridge", "cylinder_bridge", "cylinder_rupture_area"]


def cylinder_bridge_area(beta, separation, radius, contact_angle=0.0):
    """Liquid area of the bridge between two parallel cylinders [µm² per unit length].

    Under each arc ``y = r1 + r2 - sqrt(r1² - x²)`` (``|x| <= X``), above and below the
    line of centres, minus the two cylinders' circular segments cut off by the chords at
    ``x = ±X`` (each ``R² (beta - sin beta cos beta)``).

    Parameters
    ----------
    beta : float or ndarray
        Half filling angle [rad], ``0 < beta < pi/2 - contact_angle``.
    separation, radius : float or ndarray
        Surface gap and cylinder radius [µm].
    contact_angle : float
        [rad].

    Returns
    -------
    float or ndarray
        Area [µm²]; meaningful where the neck is open (``r2 >= 0``).

    Examples
    --------
    Touching cylinders, ``beta -> 0``: no liquid.

    >>> round(float(cylinder_bridge_area(0.3, 0.0, 1.0)), 6)
    0.013117
    >>> float(cylinder_bridge_area(1e-9, 0.0, 1.0)) < 1e-20
    True
    """
    beta = np.asarray(beta, float)
    r1, r2, x = _profile(beta, np.asarray(separation, float), np.asarray(radius, float), contact_angle)
    phi = beta + contact_angle
    half = 2 * x * (r1 + r2) - x * r1 * np.sin(phi) - r1 * r1 * (0.5 * np.pi - phi)
    return 2 * half - 2 * np.asarray(radius, float) ** 2 * (beta - np.sin(beta) * np.cos(beta))


def cylinder_pinch(beta, radius, contact_angle=0.0):
    """The pinched bridge (``r2 = 0``) at half filling angle ``beta``: its gap and area.

    ``r1 = R sin beta / (1 - sin(beta + theta))``, ``X = r1 cos(beta + theta)``,
    ``S = 2 (X - R (1 - cos beta))``.

    Returns
    -------
    (separation [µm], area [µm²]) : floats or ndarrays

    Examples
    --------
    >>> s, a = cylinder_pinch(0.05, 1.0)
    >>> round(float(s), 5), round(float(a / s**2), 4)     # flat-plate limit: 1 - pi/4 = 0.2146
    (0.10259, 0.2087)
    """
    beta = np.asarray(beta, float)
    r1 = radius * np.sin(beta) / (1 - np.sin(beta + contact_angle))
    s = 2 * (r1 * np.cos(beta + contact_angle) - radius * (1 - np.cos(beta)))
    return s, cylinder_bridge_area(beta, s, radius, contact_angle)


def cylinder_rupture_distance(area: float, radius: float, contact_angle: float = 0.0) -> float:
    """Widest gap a 2D bridge of ``area`` spans between parallel cylinders [µm] (module docs).

    The gap of the pinched bridge (:func:`cylinder_pinch`) that holds ``area``; the pinch
    curve's area grows with ``beta`` (checked on the bracket), so one root.

    Parameters
    ----------
    area : float
        Liquid area per unit length [µm²], > 0.
    radius : float
        Cylinder radius [µm].
    contact_angle : float
        [rad], in ``[0, pi/2)``.

    Returns
    -------
    float

    Raises
    ------
    InputError
        Area not positive, or more liquid than a pendular (concave) bridge holds.

    Examples
    --------
    Small bridges see flat plates: ``S = (A / (1 - pi/4))^(1/2)`` at ``theta = 0``.

    >>> a = 1e-6
    >>> round(cylinder_rupture_distance(a, 1.0) / math.sqrt(a / (1 - math.pi / 4)), 3)
    1.0
    """
    if not (math.isfinite(area) and area > 0):
        raise InputError(f"bridge area must be positive, got {area}", field="area")
    if not 0 <= contact_angle < 0.5 * math.pi:
        raise InputError(f"contact angle must be in [0, pi/2) rad, got {contact_angle}", field="contact_angle")
    top = 0.5 * math.pi - contact_angle
    hi = top * (1 - 1e-6)
    beta = np.linspace(1e-8, hi, 2001)
    s, a = cylinder_pinch(beta, radius, contact_angle)
    ok = np.isfinite(a) & np.isfinite(s) & (s >= 0)
    grows = np.flatnonzero(ok[1:] & ok[:-1] & (np.diff(a) <= 0))
    last = int(grows[0]) if len(grows) else len(beta) - 1        # the pinch curve's area grows up to here
    if area > a[last]:
        raise InputError(f"bridge area {area:.4g} um2 is above the pendular range ({a[last]:.4g} um2 on "
                         f"cylinders of radius {radius:g} um)", field="area")
    k = int(np.searchsorted(a[:last + 1], area))
    lo_b, hi_b = beta[max(k - 1, 0)], beta[min(k, last)]
    if lo_b == hi_b:
        return float(s[k])
    b = brentq(lambda x: float(cylinder_pinch(x, radius, contact_angle)[1]) - area, lo_b, hi_b,
               xtol=1e-15, rtol=1e-14, maxiter=200)
    return float(cylinder_pinch(b, radius, contact_angle)[0])


def equal_suction_area(volume_ratio: float, contact_angle: float = 0.0) -> float:
    """Area over ``R²`` of the 2D bridge at contact at the suction of a 3D bridge of ``v R³``.

    The toroidal bridge of ``volume_ratio R³`` between touching spheres has the Laplace
    suction ``gamma (1/r1 - 1/r2)``; the 2D bridge between touching cylinders of the same
    radius with ``gamma / r1' `` equal to it has ``r1' = 1 / (1/r1 - 1/r2)`` and, at
    ``S = 0``, ``X = R (1 - cos beta) = r1' cos(beta + theta)`` (solved for ``beta``).

    Parameters
    ----------
    volume_ratio : float
        3D bridge volume over ``R³`` [1].
    contact_angle : float
        [rad].

    Returns
    -------
    float
        2D bridge area over ``R²`` [1].

    Examples
    --------
    >>> round(equal_suction_area(0.02), 5)
    0.0355
    """
    b3 = toroidal_bridge(volume_ratio, 0.0, 1.0, contact_angle, 1.0)
    curvature = 1.0 / b3.r1 - 1.0 / b3.r2
    if not curvature > 0:
        raise InputError(f"volume_ratio {volume_ratio:g}: the 3D bridge has no suction (convex neck)",
                         field="volume_ratio")
    r1 = 1.0 / curvature

    def mismatch(beta):
        return (1 - math.cos(beta)) - r1 * math.cos(beta + contact_angle)

    beta = brentq(mismatch, 1e-12, 0.5 * math.pi - contact_angle - 1e-12, xtol=1e-15, rtol=1e-14)
    return float(cylinder_bridge_area(beta, 0.0, 1.0, contact_angle))


def _pinch_beta(separation: float, radius: float, contact_angle: float) -> float:
    """Half filling angle of the pinched bridge (``r2 = 0``) at ``separation`` [rad]."""
    if separation <= 0:
        return 0.0
    top = 0.5 * math.pi - contact_angle - 1e-6
    if float(cylinder_pinch(top, radius, contact_angle)[0]) <= separation:
        raise InputError(f"gap {separation:g} um is beyond the widest pendular bridge between cylinders of "
                         f"radius {radius:g} um", field="separation")
    return float(brentq(lambda b: float(cylinder_pinch(b, radius, contact_angle)[0]) - separation, 1e-12, top,
                        xtol=1e-15, rtol=1e-14, maxiter=200))


def cylinder_rupture_area(separation: float, radius: float, contact_angle: float = 0.0) -> float:
    """Area [µm²] below which the 2D bridge at ``separation`` ruptures: the pinched bridge's.

    The inverse of :func:`cylinder_rupture_distance` at fixed gap.

    Examples
    --------
    >>> a = cylinder_rupture_area(0.2, 1.0)
    >>> round(cylinder_rupture_distance(a, 1.0), 12)
    0.2
    """
    beta = _pinch_beta(float(separation), float(radius), float(contact_angle))
    return float(cylinder_pinch(beta, radius, contact_angle)[1])


@dataclass(frozen=True)
class CylinderBridge:
    """The exact 2D bridge between two parallel cylinders (lengths µm, per unit length).

    ``area`` [µm²], ``beta`` half filling angle, ``r1`` arc radius, ``r2`` neck half-width,
    ``half_length`` = ``X`` the contact lines' distance from the mid-plane. The attribute
    names are :class:`~.bridge.PendularBridge`'s, so the same meniscus form serves both
    (here ``r2`` is a half-width, not a radius of revolution).
    """

    area: float
    separation: float
    radius: float
    contact_angle: float
    surface_tension: float
    beta: float
    r1: float
    r2: float
    half_length: float

    @property
    def volume(self) -> float:
        """The area per unit length [µm²] (the name the drying records use)."""
        return self.area

    @property
    def force(self) -> float:
        """Attractive capillary force per unit length [µN µm-1] (gorge): ``2 gamma (1 + r2/r1)``,
        surface tension on the two arcs at the neck plus the suction ``gamma / r1`` on the neck
        width ``2 r2``; equal to the contact-line value
        ``2 gamma (sin(beta + theta) + R sin(beta) / r1)`` (tested)."""
        return float(2.0 * self.surface_tension * (1.0 + self.r2 / self.r1))

    @property
    def laplace_suction(self) -> float:
        """Air minus liquid pressure ``gamma / r1`` [µN µm-2]."""
        return float(self.surface_tension / self.r1)


def cylinder_bridge(area: float, separation: float, radius: float, contact_angle: float = 0.0,
                    surface_tension: float = 0.072) -> CylinderBridge:
    """The 2D bridge holding ``area`` per unit length between cylinders ``separation`` apart.

    Solves :func:`cylinder_bridge_area` ``(beta) = area`` between the pinch (``r2 = 0``,
    :func:`cylinder_rupture_area`) and the flat-meniscus limit ``beta + theta = pi/2``; the
    area grows with ``beta`` there.

    Raises
    ------
    InputError
        ``area`` at or below the pinch (the bridge has ruptured) or above the pendular range.

    Examples
    --------
    >>> b = cylinder_bridge(0.02, 0.1, 1.0)
    >>> round(float(cylinder_bridge_area(b.beta, 0.1, 1.0)), 12), b.r2 > 0
    (0.02, True)
    """
    s, r, th = float(separation), float(radius), float(contact_angle)
    lo = _pinch_beta(s, r, th)
    hi = 0.5 * math.pi - th - 1e-6

    def f(b):
        return float(cylinder_bridge_area(b, s, r, th)) - area

    if not (f(lo) < 0 < f(hi)):
        raise InputError(f"bridge area {area:.4g} um2 outside the pendular range ({f(lo) + area:.4g}, "
                         f"{f(hi) + area:.4g}] um2 at a gap of {s:g} um", field="area")
    beta = brentq(f, lo, hi, xtol=1e-15, rtol=1e-14, maxiter=200)
    r1, r2, x = _profile(beta, s, r, th)
    return CylinderBridge(float(area), s, r, th, float(surface_tension), float(beta), float(r1), float(r2),
                          float(x))

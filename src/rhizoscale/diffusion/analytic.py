"""Exact solutions for diffusion from a surface held at a fixed concentration.

Used as oracles for the voxel solver: a plane (erfc solution) and a circular cylinder
in an infinite medium (Carslaw & Jaeger 1959, §13.5), the latter evaluated by numerical
inversion of its Laplace transform with the fixed Talbot contour.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfc, kve

__all__ = ["plane_concentration", "plane_uptake", "plane_one_percent_distance",
           "talbot_inversion", "cylinder_concentration", "cylinder_uptake"]


def plane_concentration(x, t, diffusivity, c_surface=1.0):
    """Concentration at distance ``x`` from a plane held at ``c_surface`` since t = 0.

    ``c = c_s erfc(x / (2 sqrt(D t)))`` [units of c_surface]; x [cm], t [s], D [cm^2 s^-1].

    Parameters
    ----------
    x : float or array_like
        Distance from the plane [cm], >= 0.
    t : float
        Time since the surface was set to ``c_surface`` [s], > 0.
    diffusivity : float
        D [cm^2 s^-1].
    c_surface : float
        Surface concentration (any units; the result has the same).

    Returns
    -------
    numpy.ndarray
        c(x, t), the shape of ``x``.

    References
    ----------
    Crank, J. (1975). The Mathematics of Diffusion, 2nd ed., eq. 2.45.

    Examples
    --------
    A solute with D = 2.88e-7 cm^2 s^-1, one hour after the surface was set to 1:

    >>> plane_concentration([0.0, 0.01, 0.05], 3600.0, 2.88e-7)
    array([1.        , 0.82618065, 0.27219878])
    """
    return c_surface * erfc(np.asarray(x, float) / (2 * np.sqrt(diffusivity * t)))


def plane_uptake(t, diffusivity, c_surface=1.0):
    """Mass that entered a half-space through unit area of the plane by time t.

    ``M/A = 2 c_s sqrt(D t / pi)`` [µg cm^-2 for c_s in µg cm^-3].

    Parameters
    ----------
    t : float or array_like
        Time [s].
    diffusivity : float
        D [cm^2 s^-1].
    c_surface : float
        Surface concentration [µg cm^-3].

    Returns
    -------
    numpy.ndarray or float
        Cumulative mass per area [µg cm^-2], the shape of ``t``.

    References
    ----------
    Crank, J. (1975). The Mathematics of Diffusion, 2nd ed., eq. 3.15.

    Examples
    --------
    Uptake grows as the square root of time:

    >>> plane_uptake([900.0, 3600.0], 2.88e-7)
    array([0.01816655, 0.03633311])
    """
    return 2 * c_surface * np.sqrt(diffusivity * np.asarray(t, float) / np.pi)


def plane_one_percent_distance(t, diffusivity):
    """Distance where the plane solution falls to 1 % of c_s: ``3.643 sqrt(D t)`` [cm].

    Parameters
    ----------
    t : float or array_like
        Time [s].
    diffusivity : float
        D [cm^2 s^-1].

    Returns
    -------
    numpy.ndarray or float
        Distance from the plane [cm].

    References
    ----------
    Crank, J. (1975). The Mathematics of Diffusion, 2nd ed., §2.3 (erfc solution).

    Examples
    --------
    >>> x = plane_one_percent_distance(3600.0, 2.88e-7)
    >>> round(float(x), 4), round(float(plane_concentration(x, 3600.0, 2.88e-7)), 6)
    (0.1173, 0.01)
    """
    # erfc(u) = 0.01 at u = 1.82139; x = 2 u sqrt(Dt)
    return 2 * 1.8213863677184496 * np.sqrt(diffusivity * np.asarray(t, float))


def talbot_inversion(transform, t: float, n_nodes: int = 32) -> float:
    """Inverse Laplace transform at time ``t`` by the fixed Talbot contour.

    Parameters
    ----------
    transform : callable
        ``F(s)`` for complex arrays ``s``; must be analytic left of the contour except on
        the negative real axis (true for the Bessel-function transforms used here).
    t : float
        Time (> 0).
    n_nodes : int
        Number of contour nodes; double precision gives about ``0.6 n_nodes``
        significant digits up to round-off (32 nodes: ~1e-10 for smooth transforms).

    References
    ----------
    Talbot, A. (1979). The accurate numerical inversion of Laplace transforms. IMA J.
    Appl. Math. 23, 97–120. Abate, J. & Valkó, P. P. (2004). Multi-precision Laplace
    transform inversion. Int. J. Numer. Meth. Eng. 60, 979–993 (fixed-Talbot parameters
    r = 2M / (5t)).

    Returns
    -------
    float
        f(t).

    Examples
    --------
    ``1 / (s + 1)`` is the transform of ``exp(-t)``; ``1 / s**2`` that of ``t``:

    >>> import numpy as np
    >>> bool(abs(talbot_inversion(lambda s: 1 / (s + 1), 1.0) - np.exp(-1.0)) < 1e-10)
    True
    >>> round(talbot_inversion(lambda s: 1 / s**2, 2.0), 10)
    2.0
    """
    M = int(n_nodes)
    r = 2.0 * M / (5.0 * t)
    k = np.arange(1, M)
    theta = k * np.pi / M
    cot = 1.0 / np.tan(theta)
    s = r * theta * (cot + 1j)
    sigma = theta + (theta * cot - 1.0) * cot
    total = 0.5 * np.exp(r * t) * np.real(transform(np.array([r + 0j]))[0])
    total += np.sum(np.real(np.exp(t * s) * transform(s) * (1 + 1j * sigma)))
    return float(r / M * total)


def cylinder_concentration(r, t, radius, diffusivity, c_surface=1.0, n_nodes=32):
    """Concentration around a cylinder held at ``c_surface`` in an infinite medium.

    Laplace transform: ``c̄(r, p) = c_s K0(q r) / (p K0(q a))``, ``q = sqrt(p / D)``,
    inverted numerically (:func:`talbot_inversion`). For a = 150 µm, D = 2.88e-7 cm^2 s^-1
    and t = 1 h: c/c_s = 0.8158, 0.4654, 0.1430 at 50, 200 and 500 µm from the surface.

    Parameters
    ----------
    r : float or array
        Radial distance from the cylinder axis [cm], >= radius.
    t : float
        Time [s].
    radius : float
        Cylinder radius a [cm].
    diffusivity : float
        D [cm^2 s^-1].
    c_surface : float
        Surface concentration (any units; the result has the same).
    n_nodes : int
        Talbot contour nodes (see :func:`talbot_inversion`).

    Returns
    -------
    numpy.ndarray
        c(r, t), 1-D, one value per ``r``.

    References
    ----------
    Carslaw, H. S. & Jaeger, J. C. (1959). Conduction of Heat in Solids, 2nd ed., §13.5.

    Examples
    --------
    The values quoted above (a = 150 µm, 1 h), at the surface and 50, 200, 500 µm from it:

    >>> cylinder_concentration([0.015, 0.02, 0.035, 0.065], 3600.0, 0.015, 2.88e-7)
    array([1.        , 0.81576472, 0.46543484, 0.14298262])
    """
    r = np.atleast_1d(np.asarray(r, float))
    out = np.empty_like(r)
    for i, ri in enumerate(r):
        def transform(p, ri=ri):
            q = np.sqrt(p / diffusivity)
            # scaled Bessel functions: K0(qr)/K0(qa) = kve(qr)/kve(qa) exp(-q (r - a))
            return kve(0, q * ri) / kve(0, q * radius) * np.exp(-q * (ri - radius)) / p
        out[i] = talbot_inversion(transform, t, n_nodes)
    return c_surface * out


def cylinder_uptake(t, radius, diffusivity, c_surface=1.0, n_nodes=32):
    """Mass that entered the medium per unit cylinder length by time t [µg cm^-1].

    Transform of the cumulative flux: ``2 pi a D c_s q K1(q a) / (p^2 K0(q a))``.

    Parameters
    ----------
    t : float
        Time [s], > 0.
    radius : float
        Cylinder radius a [cm].
    diffusivity : float
        D [cm^2 s^-1].
    c_surface : float
        Surface concentration [µg cm^-3].
    n_nodes : int
        Talbot contour nodes (see :func:`talbot_inversion`).

    Returns
    -------
    float
        Cumulative mass per unit length [µg cm^-1].

    References
    ----------
    Carslaw, H. S. & Jaeger, J. C. (1959). Conduction of Heat in Solids, 2nd ed., §13.5.

    Examples
    --------
    At early times (``sqrt(D t) << a``) the surface is nearly flat: the uptake tends to
    the plane's times the perimeter; after an hour curvature has nearly doubled it:

    >>> import numpy as np
    >>> a, D = 0.015, 2.88e-7
    >>> round(float(cylinder_uptake(1.0, a, D) / (2 * np.pi * a * plane_uptake(1.0, D))), 3)
    1.016
    >>> round(float(cylinder_uptake(3600.0, a, D) / (2 * np.pi * a * plane_uptake(3600.0, D))), 3)
    1.769
    """
    def transform(p):
        q = np.sqrt(p / diffusivity)
        return 2 * np.pi * radius * diffusivity * q * kve(1, q * radius) / kve(0, q * radius) / p**2
    return c_surface * talbot_inversion(transform, t, n_nodes)

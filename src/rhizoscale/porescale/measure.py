"""Measures of a two-phase state: droplet radius, Laplace pressure, contact angle, currents.

All in lattice units; positions are node centres (node ``i`` at coordinate ``i``), so a
halfway bounce-back wall behind the first fluid node ``h`` lies at ``h - 1/2``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

__all__ = ["liquid_volume", "equivalent_radius", "laplace_pressure", "interface_points",
           "fit_circle", "sessile_contact_angle", "sessile_cap_angle", "spurious_current",
           "flat_surface_tension"]


def liquid_volume(rho, rho_gas: float, rho_liquid: float) -> float:
    """Liquid volume ``sum (rho - rho_g) / (rho_l - rho_g)`` over fluid nodes [nodes].

    The mass-weighted volume: insensitive to where a diffuse interface is cut.
    """
    r = np.asarray(rho, dtype=float)
    r = r[np.isfinite(r)]
    return float(((r - rho_gas) / (rho_liquid - rho_gas)).sum())


def equivalent_radius(volume: float, ndim: int) -> float:
    """Radius of a disc (2D) or sphere (3D) of the given volume [lattice units]."""
    if ndim == 2:
        return math.sqrt(volume / math.pi)
    return (3.0 * volume / (4.0 * math.pi)) ** (1.0 / 3.0)


def laplace_pressure(rho, eos, core: int = 2) -> tuple[float, float, float]:
    """Pressure inside and outside a centred droplet and their difference.

    Inside: mean EOS pressure of the ``(2 core + 1)^d`` nodes at the centre; outside: mean
    over the nodes whose density is within 1 % of the lowest (the far gas).

    Returns
    -------
    (p_in, p_out, dp) : floats [lattice pressure]
    """
    r = np.asarray(rho, dtype=float)
    c = tuple(slice(n // 2 - core, n // 2 + core + 1) for n in r.shape)
    p_in = float(np.mean(eos.pressure(r[c])))
    gas = r <= r.min() * 1.01 + 1e-12
    p_out = float(np.mean(eos.pressure(r[gas])))
    return p_in, p_out, p_in - p_out


def flat_surface_tension(rho_line, eos, n_interfaces: int = 2) -> float:
    """Surface tension of flat interfaces from their density profile [lattice units].

    ``sigma = ∫ (p_N - p_T) dz = -(G c_s^4 / 2) ∫ (dpsi/dz)^2 dz``: the anisotropic part
    ``-(G c_s^4/2) grad(psi) grad(psi)`` of the continuum pseudopotential pressure tensor
    (Shan 2008; Li et al.'s term is isotropic and adds nothing). ``dpsi/dz`` by central
    differences on the periodic line ``rho_line``, which crosses ``n_interfaces``
    interfaces. On D2Q9 with Li et al.'s forcing (CS T/Tc = 0.8) it equals the 2D
    droplets' ``dp R`` at R = 10-15 to 0.5 %.

    Examples
    --------
    >>> from rhizoscale.porescale import CarnahanStarlingEOS
    >>> z = np.arange(64)
    >>> rho = 0.02 + 0.29 * 0.5 * (np.tanh((z - 16) / 2) - np.tanh((z - 48) / 2))
    >>> bool(flat_surface_tension(rho, CarnahanStarlingEOS(0.8)) > 0)
    True
    """
    psi = eos.psi(np.asarray(rho_line, dtype=float))
    d = 0.5 * (np.roll(psi, -1) - np.roll(psi, 1))
    return float(-0.5 * eos.coupling * (1.0 / 9.0) * (d**2).sum() / n_interfaces)


def interface_points(field2d, level: float) -> np.ndarray:
    """Points ``(y, x)`` where a 2D field crosses ``level``, by linear interpolation
    between neighbouring nodes along both axes (no wrap-around)."""
    f = np.asarray(field2d, dtype=float)
    pts = []
    for axis in (0, 1):
        a = np.moveaxis(f, axis, 0)
        lo, hi = a[:-1], a[1:]
        cross = np.isfinite(lo) & np.isfinite(hi) & ((lo - level) * (hi - level) < 0)
        i, j = np.nonzero(cross)
        t = (level - lo[i, j]) / (hi[i, j] - lo[i, j])
        p = np.stack([i + t, j.astype(float)], axis=1)
        pts.append(p if axis == 0 else p[:, ::-1])
    return np.concatenate(pts) if pts else np.empty((0, 2))


def fit_circle(points) -> tuple[float, float, float]:
    """Least-squares (algebraic, Kåsa 1976) circle through points ``(y, x)``.

    Returns ``(yc, xc, R)``.
    """
    p = np.asarray(points, dtype=float)
    A = np.column_stack([2 * p[:, 0], 2 * p[:, 1], np.ones(len(p))])
    b = (p**2).sum(axis=1)
    (yc, xc, c), *_ = np.linalg.lstsq(A, b, rcond=None)
    return float(yc), float(xc), float(math.sqrt(c + yc**2 + xc**2))


def _largest_drop(r, level: float, rho_gas: float, wall_rows: int) -> np.ndarray:
    """The density field of the largest liquid cluster above the wall (layers
    ``0 .. wall_rows - 1`` of the first axis), with its interface layer; gas elsewhere,
    NaN in the wall."""
    liquid = np.nan_to_num(r, nan=0.0) > level
    liquid[:wall_rows] = False
    lab, n = ndimage.label(liquid)
    if n == 0:
        raise ValueError("no liquid in the field")
    sizes = ndimage.sum(liquid, lab, index=np.arange(1, n + 1))
    keep = lab == (1 + int(np.argmax(sizes)))
    grown = ndimage.binary_dilation(keep, iterations=2)
    f = np.where(grown, np.nan_to_num(r, nan=rho_gas), rho_gas)
    f[:wall_rows] = np.nan
    return f


def sessile_contact_angle(rho, wall_rows: int, rho_gas: float, rho_liquid: float,
                          skip: int = 3) -> tuple[float, float]:
    """Contact angle of a 2D sessile drop on a flat wall below it.

    The wall occupies rows ``0 .. wall_rows - 1``; the wall plane is ``y_w = wall_rows - 1/2``.
    The interface ``rho = (rho_g + rho_l)/2`` of the largest liquid cluster, from ``skip``
    nodes above the wall up (off the adsorbed layer), is fitted by a circle of centre
    height ``y_c`` and radius ``R``: ``cos theta = (y_w - y_c) / R``, valid on both sides of 90°.

    Returns
    -------
    (theta, R) : contact angle [degrees] and drop radius [lattice units]
    """
    level = 0.5 * (rho_gas + rho_liquid)
    f = _largest_drop(np.asarray(rho, dtype=float), level, rho_gas, wall_rows)
    pts = interface_points(f, level)
    y_w = wall_rows - 0.5
    pts = pts[pts[:, 0] >= y_w + skip]
    yc, xc, R = fit_circle(pts)
    cos = np.clip((y_w - yc) / R, -1.0, 1.0)
    return float(np.degrees(np.arccos(cos))), R


def sessile_cap_angle(rho, wall_rows: int, rho_gas: float, rho_liquid: float,
                      skip: int = 3, axis: int = -2) -> tuple[float, float, float, float]:
    """Contact angle of a 3D sessile drop from its height and base radius (spherical cap).

    The wall fills layers ``0 .. wall_rows - 1`` along ``axis`` (the wall plane is
    ``y_w = wall_rows - 1/2``). The interface ``rho = (rho_g + rho_l)/2`` of the largest
    liquid cluster, from ``skip`` nodes above the wall up (off the adsorbed layer), is
    located by linear interpolation between neighbouring nodes along the three axes and
    fitted by a sphere (algebraic least squares, the 3D form of Kåsa 1976) of centre
    height ``y_c`` and radius ``R``. The cap it cuts from the wall plane has height
    ``h = y_c + R - y_w`` and base radius ``a = sqrt(R^2 - (y_w - y_c)^2)``, and

        tan(theta / 2) = h / a,     i.e.  cos theta = (y_w - y_c) / R,

    valid on both sides of 90 deg (above, the base is narrower than the sphere). The
    mid-density level sits at the sphere for a symmetric interface profile; a
    mass-weighted (layer area) radius would not: it is larger by ~(pi^2/6) w^2 / r for an
    interface of width ``w``, which flattens low caps.

    Returns
    -------
    (theta, h, a, R) : contact angle [deg], cap height, base radius and sphere radius
        [lattice units]; ``a`` is 0 when the fitted sphere does not reach the wall.

    Examples
    --------
    >>> z, y, x = np.indices((40, 30, 40)) + 0.0          # a cap of R = 12, theta 120 deg
    >>> yc = 1.5 + 12 * 0.5                               # wall plane 1.5, cos 120 = -1/2
    >>> d = np.sqrt((z - 20)**2 + (y - yc)**2 + (x - 20)**2)
    >>> rho = np.where(y < 2, 0.0, 0.05 + 0.25 * 0.5 * (1 - np.tanh((d - 12) / 1.5)))
    >>> round(sessile_cap_angle(rho, 2, 0.05, 0.30)[0])
    120
    """
    level = 0.5 * (rho_gas + rho_liquid)
    f = _largest_drop(np.moveaxis(np.asarray(rho, dtype=float), axis, 0), level, rho_gas, wall_rows)
    pts = []
    for ax in range(3):
        a = np.moveaxis(f, ax, 0)
        lo, hi = a[:-1], a[1:]
        cross = np.isfinite(lo) & np.isfinite(hi) & ((lo - level) * (hi - level) < 0)
        idx = np.nonzero(cross)
        t = (level - lo[idx]) / (hi[idx] - lo[idx])
        p = np.stack([c.astype(float) for c in idx], axis=1)
        p[:, 0] += t
        order = [ax] + [b for b in range(3) if b != ax]
        pts.append(p[:, np.argsort(order)])     # columns back to the array's axis order
    p = np.concatenate(pts)
    y_w = wall_rows - 0.5
    p = p[p[:, 0] >= y_w + skip]
    if len(p) < 10:
        raise ValueError("the drop is too small to fit a cap (fewer than 10 interface points)")
    A = np.column_stack([2 * p, np.ones(len(p))])
    sol, *_ = np.linalg.lstsq(A, (p**2).sum(axis=1), rcond=None)
    yc = float(sol[0])
    R = float(math.sqrt(sol[3] + (sol[:3] ** 2).sum()))
    h = yc + R - y_w
    a = math.sqrt(max(R**2 - (y_w - yc) ** 2, 0.0))
    theta = math.degrees(2.0 * math.atan2(h, a)) if a > 0 else (0.0 if h <= 0 else 180.0)
    return float(theta), float(h), float(a), R


def spurious_current(u) -> float:
    """Largest speed ``max |u|`` over the nodes [lattice units]."""
    u = np.asarray(u, dtype=float)
    s = np.sqrt((u**2).sum(axis=-1))
    return float(np.nanmax(s))

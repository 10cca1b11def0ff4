"""Geometries that confine a growing root system (pots, columns, rhizotrons).

Each geometry has an exact signed distance function (negative inside, positive outside,
cm) evaluated by a small Numba kernel that the growth model also calls while choosing
headings, so the geometry used to grow and the one used to check are the same code.

Coordinates: cm, z up, soil surface z = 0, roots grow to z < 0.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..errors import InputError

__all__ = ["Confinement", "Box", "Cylinder", "Rhizotron"]

KIND_NONE, KIND_BOX, KIND_CYLINDER, KIND_RHIZOTRON = 0, 1, 2, 3


@numba.njit(cache=True, inline="always")
def _box_sdf(px, py, pz, hx, hy, hz):
    """Exact signed distance to an axis-aligned box of half sizes h centred at 0."""
    qx, qy, qz = abs(px) - hx, abs(py) - hy, abs(pz) - hz
    ox, oy, oz = max(qx, 0.0), max(qy, 0.0), max(qz, 0.0)
    return math.sqrt(ox * ox + oy * oy + oz * oz) + min(max(qx, max(qy, qz)), 0.0)


@numba.njit(cache=True)
def signed_distance_kernel(kind, params, x, y, z):
    """Signed distance [cm] of point (x, y, z) to geometry ``kind`` with ``params``."""
    if kind == KIND_BOX:
        # params: centre (3), half sizes (3)
        return _box_sdf(x - params[0], y - params[1], z - params[2], params[3], params[4], params[5])
    if kind == KIND_CYLINDER:
        # params: axis x, axis y, z of the centre, radius, half height
        dr = math.sqrt((x - params[0]) ** 2 + (y - params[1]) ** 2) - params[3]
        dz = abs(z - params[2]) - params[4]
        a, b = max(dr, 0.0), max(dz, 0.0)
        return math.sqrt(a * a + b * b) + min(max(dr, dz), 0.0)
    if kind == KIND_RHIZOTRON:
        # params: origin (3), down-slope unit vector w (3), normal n (3), half width,
        # half depth, half thickness; the box centre is origin + w * half depth
        px, py, pz = x - params[0], y - params[1], z - params[2]
        lu = px
        lv = px * params[3] + py * params[4] + pz * params[5] - params[10]
        ln = px * params[6] + py * params[7] + pz * params[8]
        return _box_sdf(lu, lv, ln, params[9], params[10], params[11])
    return -np.inf


@numba.njit(cache=True)
def _signed_distance_many(kind, params, pts):
    out = np.empty(pts.shape[0])
    for i in range(pts.shape[0]):
        out[i] = signed_distance_kernel(kind, params, pts[i, 0], pts[i, 1], pts[i, 2])
    return out


class Confinement:
    """Base class: a convex region that roots must not leave.

    Subclasses (:class:`Box`, :class:`Cylinder`, :class:`Rhizotron`) give the signed
    distance kernel's kind and parameters; the growth kernels keep roots inside.

    Examples
    --------
    >>> pot = Cylinder(radius=5.0, depth=20.0)
    >>> isinstance(pot, Confinement)
    True
    >>> pot.signed_distance([[0, 0, -10], [6, 0, -10]])       # [cm], negative inside
    array([-5.,  1.])
    >>> bool(pot.contains([0, 0, 1]))                        # above the soil surface
    False
    """

    kind: int = KIND_NONE

    def _params(self) -> np.ndarray:  # pragma: no cover - overridden
        return np.zeros(1)

    @property
    def params(self) -> np.ndarray:
        """Parameters of the Numba signed distance kernel."""
        return self._params()

    def signed_distance(self, points) -> np.ndarray:
        """Signed distance [cm] of each point to the boundary (negative inside).

        Parameters
        ----------
        points : (N, 3) or (3,) array
            Points [cm].
        """
        pts = np.ascontiguousarray(np.atleast_2d(np.asarray(points, dtype=float)))
        if pts.shape[-1] != 3:
            raise InputError("points must have three coordinates (x, y, z)", source=type(self).__name__)
        d = _signed_distance_many(self.kind, self.params, pts)
        return d if np.ndim(points) > 1 else d[0]

    def contains(self, points, tolerance: float = 1e-9) -> np.ndarray:
        """True for points inside or on the boundary (within ``tolerance`` cm)."""
        return self.signed_distance(points) <= tolerance


def _finite(values, names, cls):
    for v, n in zip(values, names):
        if not np.all(np.isfinite(v)):
            raise InputError("must be finite", source=cls, field=n)


class Box(Confinement):
    """Axis-aligned box between corners ``lower`` and ``upper`` [cm] (e.g. a pot).

    Parameters
    ----------
    lower, upper : 3 floats
        Corners (x, y, z) [cm].

    Raises
    ------
    InputError
        Non-finite corners or ``upper <= lower`` in a coordinate.

    Examples
    --------
    >>> from rhizoscale.plant import Box
    >>> pot = Box((-5, -5, -20), (5, 5, 0))
    >>> pot.contains([[0, 0, -3], [0, 0, 1]]), float(pot.signed_distance([0, 0, -3]))
    (array([ True, False]), -3.0)
    """

    kind = KIND_BOX

    def __init__(self, lower, upper):
        lo, hi = np.asarray(lower, float).reshape(3), np.asarray(upper, float).reshape(3)
        _finite((lo, hi), ("lower", "upper"), "Box")
        if np.any(hi <= lo):
            raise InputError("upper must exceed lower in every coordinate", source="Box", field="upper")
        self.lower, self.upper = lo, hi

    def _params(self):
        return np.concatenate([(self.lower + self.upper) / 2, (self.upper - self.lower) / 2])

    def __repr__(self):
        return f"Box(lower={self.lower.tolist()}, upper={self.upper.tolist()})"


class Cylinder(Confinement):
    """Vertical cylinder of ``radius`` [cm] from z = ``top`` down to z = ``top - depth``.

    The axis passes through (``x``, ``y``), by default the origin.

    Parameters
    ----------
    radius, depth : float
        Radius and depth [cm], > 0.
    top : float
        z of the top face [cm].
    x, y : float
        Position of the axis [cm].

    Raises
    ------
    InputError
        Non-finite values, or a radius or depth not positive.

    Examples
    --------
    >>> from rhizoscale.plant import Cylinder
    >>> column = Cylinder(radius=3.0, depth=30.0)
    >>> bool(column.contains([2.0, 0.0, -10.0])), float(column.signed_distance([4.0, 0.0, -10.0]))
    (True, 1.0)
    """

    kind = KIND_CYLINDER

    def __init__(self, radius: float, depth: float, top: float = 0.0, x: float = 0.0, y: float = 0.0):
        _finite((radius, depth, top, x, y), ("radius", "depth", "top", "x", "y"), "Cylinder")
        if radius <= 0:
            raise InputError("must be > 0", source="Cylinder", field="radius")
        if depth <= 0:
            raise InputError("must be > 0", source="Cylinder", field="depth")
        self.radius, self.depth, self.top, self.x, self.y = map(float, (radius, depth, top, x, y))

    def _params(self):
        return np.array([self.x, self.y, self.top - self.depth / 2, self.radius, self.depth / 2])

    def __repr__(self):
        return f"Cylinder(radius={self.radius}, depth={self.depth}, top={self.top})"


class Rhizotron(Confinement):
    """A slab (flat rhizotron) inclined at ``angle_deg`` from the vertical.

    The slab is ``width`` [cm] wide along x, ``thickness`` [cm] thick and reaches ``depth``
    [cm] down its inclined face. Its top edge is centred on ``origin`` (default the
    origin); the mid-plane contains the x axis and the down-slope direction
    ``(0, sin a, -cos a)``, so ``angle_deg = 0`` is a vertical slab in the x-z plane.
    Schnepf et al. (2012) grew Brassica napus in rhizotrons inclined at 49 degrees.

    Parameters
    ----------
    width, thickness, depth : float
        Slab dimensions [cm], > 0.
    angle_deg : float
        Inclination from the vertical [degrees], in (-90, 90).
    origin : 3 floats
        Centre of the top edge [cm].

    Raises
    ------
    InputError
        Non-finite or non-positive sizes, or an angle outside (-90, 90).

    References
    ----------
    Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by a
    growing and exuding root system. Vadose Zone J., 11.

    Examples
    --------
    >>> from rhizoscale.plant import Rhizotron
    >>> rhizotron = Rhizotron(30, 2, 50, 49, origin=(0, 0, -3))
    >>> rhizotron.contains([[0, 0, -3], [0, 0, -20]]), rhizotron.downslope.round(3)
    (array([ True, False]), array([ 0.   ,  0.755, -0.656]))
    """

    kind = KIND_RHIZOTRON

    def __init__(self, width: float, thickness: float, depth: float, angle_deg: float,
                 origin=(0.0, 0.0, 0.0)):
        _finite((width, thickness, depth, angle_deg), ("width", "thickness", "depth", "angle_deg"),
                "Rhizotron")
        for name, v in (("width", width), ("thickness", thickness), ("depth", depth)):
            if v <= 0:
                raise InputError("must be > 0", source="Rhizotron", field=name)
        if not -90 < angle_deg < 90:
            raise InputError("must be between -90 and 90 degrees from the vertical",
                             source="Rhizotron", field="angle_deg")
        self.width, self.thickness, self.depth, self.angle_deg = map(float, (width, thickness, depth,
                                                                             angle_deg))
        self.origin = np.asarray(origin, float).reshape(3)
        _finite((self.origin,), ("origin",), "Rhizotron")

    @property
    def downslope(self) -> np.ndarray:
        a = math.radians(self.angle_deg)
        return np.array([0.0, math.sin(a), -math.cos(a)])

    @property
    def normal(self) -> np.ndarray:
        a = math.radians(self.angle_deg)
        return np.array([0.0, math.cos(a), math.sin(a)])

    def _params(self):
        return np.concatenate([self.origin, self.downslope, self.normal,
                               [self.width / 2, self.depth / 2, self.thickness / 2]])

    def __repr__(self):
        return (f"Rhizotron(width={self.width}, thickness={self.thickness}, depth={self.depth}, "
                f"angle_deg={self.angle_deg}, origin={self.origin.tolist()})")

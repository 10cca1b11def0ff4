"""A bead-spring polymer network between particles (discrete elements).

Mucilage is represented by beads (structure of arrays: positions, velocities, polymer
mass, water) joined by bonds, tethered to the particle (sphere) surfaces they adhere to,
kept out of the particles and out of each other by soft repulsion, damped by the
liquid's viscosity, and pulled by a liquid surface where they straddle it:

* bonds: harmonic ``F = k (L - L0)`` or FENE on the extension
  ``F = k (L - L0) / (1 - ((L - L0) / (q L0))^2)`` (Kremer & Grest 1990 use FENE on the
  length; on the extension it is harmonic for small strains and bounded by ``q``); a
  bond breaks above the strain ``|L - L0| / L0 > break_strain`` (and at ``q`` for FENE);
* adhesion: a tether (harmonic spring, stiffness ``k_adh``) from a bead to its anchor
  point on a particle surface; it detaches when its force exceeds ``f_adh``;
* excluded volume: ``F = k_wall (R + r_i - d)`` out of a particle,
  ``F = k_rep (s (r_i + r_j) - d)`` between beads (``s``: ``excluded``), cell lists;
* capillary pull: a bead whose centre lies within its radius ``r`` of the liquid
  surface feels ``2 pi gamma r (1 - (s/r)^2)`` towards the liquid (``s``: signed distance,
  positive in air); 2 pi gamma r is the largest capillary force on a sphere at an
  interface;
* viscous damping: friction ``6 pi eta r`` per bead.

Integrators: velocity Verlet (second order, symplectic without damping) and an
overdamped explicit scheme ``x += dt F / friction``. Forces are computed by the Numba
kernels in :mod:`._kernels`; :func:`network_forces` is their readable NumPy specification.
The liquid surface is passed as a :class:`Meniscus`; the fast mode builds it from a
toroidal pendular bridge (:mod:`.bridge`); a resolved liquid configuration (an image with
a water label, e.g. from a lattice-Boltzmann run) supplies the same interface through
:meth:`Meniscus.from_image` (the toroidal meridian fitted to the resolved bridge).

Units: µm, s, µN, pg (1 µm3 of water = 1 pg).

References
----------
Kremer, K., Grest, G. S. (1990). Dynamics of entangled linear polymer melts: a
molecular-dynamics simulation. J. Chem. Phys. 92, 5057-5086.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

__all__ = ["Meniscus", "voxel_bridge", "NetworkParameters", "BeadNetwork", "network_forces", "potential_energy",
           "bonds_within", "minimum_image", "HARMONIC", "FENE"]

HARMONIC, FENE = 0, 1


@dataclass(frozen=True)
class Meniscus:
    """An axisymmetric toroidal liquid surface (the interface the beads feel).

    ``mid``: centre of the bridge [µm]; ``axis``: unit vector along the particle line;
    ``r1``, ``r2``: meridional and neck radii [µm]; ``half_length``: axial half extent
    [µm]; ``surface_tension`` [N m-1 = µN µm-1].
    """

    mid: tuple
    axis: tuple
    r1: float
    r2: float
    half_length: float
    surface_tension: float

    @classmethod
    def none(cls) -> "Meniscus":
        """No liquid surface (dry, or the bridge has ruptured)."""
        return cls((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), 1.0, 1.0, -1.0, 0.0)

    @property
    def active(self) -> bool:
        return self.half_length >= 0 and self.surface_tension > 0

    def packed(self) -> np.ndarray:
        """The kernels' layout ``[active, mid, axis, r1, r2, half_length, gamma]``."""
        return np.array([1.0 if self.active else 0.0, *self.mid, *self.axis, self.r1, self.r2,
                         self.half_length, self.surface_tension], dtype=float)

    @classmethod
    def from_image(cls, image, water_label: str = "water", surface_tension: float = 0.072,
                   length_scale: float = 1e4) -> "Meniscus":
        """The toroidal liquid surface fitted to a resolved liquid bridge image (resolved mode).

        Reads a 3D liquid configuration (e.g. a lattice-Boltzmann bridge: an
        :class:`~rhizoscale.core.Image` with a solid phase and a water phase) between two
        particles and returns the :class:`Meniscus` the network kernels use:

        1. particles: the two largest connected solid clusters; centre = centroid, radius
           = the largest inscribed distance less half a voxel (robust to clipped spheres);
        2. bridge: the water cluster touching both particles (none: the bridge has
           ruptured and :meth:`none` is returned);
        3. profile: water voxel centres in axial/radial coordinates ``(x, rho)`` about the
           line of centres; per axial voxel slab the outermost ``rho`` plus half a voxel
           (the interface lies between the last water and the first air voxel), slabs
           whose outermost voxel touches a particle dropped (contact region);
        4. the circle ``rho = r1 + r2 - sqrt(r1^2 - x^2)`` (the toroidal meridian) fitted
           to the profile by least squares; ``half_length`` where it meets the sphere.

        The resolved surface thus enters the kernels through the same toroidal form as the
        fast mode; an LBM meniscus that is not toroidal is approximated by its best circle.

        Parameters
        ----------
        image : Image
            3D labels with a phase of role ``solid`` and a phase named ``water_label``.
        water_label : str
            Name of the water phase.
        surface_tension : float
            [N m-1 = µN µm-1].
        length_scale : float
            µm per image length unit (images are in cm: 1e4).

        Returns
        -------
        Meniscus
            Lengths in µm.

        Examples
        --------
        >>> import numpy as np
        >>> from rhizoscale.core.image import Image
        >>> from rhizoscale.image.generators.granular import granular_phases
        >>> from rhizoscale.mucilage.bridge import toroidal_bridge
        >>> from rhizoscale.mucilage.network import voxel_bridge
        >>> b = toroidal_bridge(0.1 * 30.0**3, 3.0, 30.0)             # µm; one voxel = 1 µm
        >>> labels = voxel_bridge(b, (48, 48, 133))
        >>> m = Meniscus.from_image(Image(labels, (1e-4,) * 3, granular_phases()))   # voxels 1e-4 cm
        >>> round(b.r1, 1), round(m.r1, 1), round(b.r2, 1), round(m.r2, 1)          # [µm]
        (6.3, 6.8, 11.7, 12.2)
        """
        from scipy import ndimage
        from scipy.optimize import brentq, least_squares
        from ..errors import InputError
        if image.ndim != 3:
            raise InputError("the resolved meniscus needs a 3D image", field="image")
        solid_labels = [p.label for p in image.phases if p.role == "solid"]
        water = [p.label for p in image.phases if p.name == water_label]
        if not solid_labels or not water:
            raise InputError(f"the image needs a solid phase and a phase named {water_label!r}", field="image")
        h = np.asarray(image.voxel_size, float) * length_scale
        solid = np.isin(image.labels, solid_labels)
        lab, n = ndimage.label(solid)
        if n < 2:
            raise InputError("fewer than two particles in the image", field="image")
        sizes = ndimage.sum_labels(np.ones_like(lab), lab, index=np.arange(1, n + 1))
        two = np.argsort(sizes, kind="stable")[::-1][:2] + 1
        centres = np.array(ndimage.center_of_mass(np.ones_like(lab), lab, index=two)) * h + 0.5 * h
        # radius: the largest inscribed distance (the image may clip the spheres), less half a
        # voxel (distances run between voxel centres)
        edt = ndimage.distance_transform_edt(solid, sampling=h)
        radii = np.asarray(ndimage.maximum(edt, lab, index=two)) - 0.5 * float(h.min())
        wlab, nw = ndimage.label(np.isin(image.labels, water))
        near = [ndimage.binary_dilation(lab == k) for k in two]
        both = set(np.unique(wlab[near[0]])) & set(np.unique(wlab[near[1]])) - {0}
        if not both:
            return cls.none()
        bridge = np.isin(wlab, sorted(both))
        axis = centres[1] - centres[0]
        dist = float(np.linalg.norm(axis))
        axis = axis / dist
        mid = 0.5 * (centres[0] + centres[1])
        pts = np.argwhere(bridge) * h + 0.5 * h - mid
        x = pts @ axis
        rho = np.linalg.norm(pts - np.outer(x, axis), axis=1)
        step = float(h.min())
        slab = np.round(x / step).astype(np.int64)
        order = np.lexsort((rho, slab))
        last = np.r_[np.flatnonzero(np.diff(slab[order])), len(order) - 1]
        xs, rs = x[order][last], rho[order][last]
        # drop slabs whose outermost water touches a particle (contact region, not free surface)
        surface_pts = np.outer(xs, axis) + mid
        free = np.ones(len(xs), bool)
        for c, r in zip(centres, radii):
            # the outermost water point of the slab, relative to the particle centre
            ax = (surface_pts - c) @ axis
            d = np.sqrt(ax**2 + rs**2)
            free &= d > r + step
        xs, rs = xs[free], rs[free] + 0.5 * step
        if len(xs) < 3:
            raise InputError("too few free-surface slabs to fit the meniscus (refine the image)", field="image")

        def residual(q):
            r1, r2 = q
            return r1 + r2 - np.sqrt(np.maximum(r1**2 - xs**2, 0.0)) - rs

        half_gap = 0.5 * (dist - radii.sum())
        r1_0 = max(float(np.abs(xs).max()) * 1.2, half_gap, step)
        fit = least_squares(residual, [r1_0, float(rs.min())],
                            bounds=([float(np.abs(xs).max()), 0.0], [np.inf, np.inf]))
        r1, r2 = (float(v) for v in fit.x)
        radius = float(radii.mean())

        def gap_to_sphere(t):          # torus profile minus sphere profile at axial distance t
            sphere = np.sqrt(max(radius**2 - (t - half_gap - radius) ** 2, 0.0))
            return r1 + r2 - np.sqrt(max(r1**2 - t**2, 0.0)) - sphere

        # contact line: where the meridian first reaches the sphere (touching it for a zero
        # contact angle, so the closest approach when a fitted circle does not cross it)
        t = np.linspace(half_gap, min(r1, half_gap + radius), 2001)
        f = np.array([gap_to_sphere(v) for v in t])
        cross = np.flatnonzero(f <= 0)
        if cross.size and cross[0] > 0:
            k = cross[0]
            half_length = float(brentq(gap_to_sphere, t[k - 1], t[k]))
        else:
            half_length = float(t[np.argmin(f)])
        return cls(tuple(mid), tuple(axis), r1, r2, float(half_length), float(surface_tension))


def voxel_bridge(bridge, shape) -> np.ndarray:
    """Voxel labels (air 0, solid 1, water 2; 1 µm voxels) of a toroidal bridge between two
    spheres along the last axis, centred in ``shape`` (z, y, x): the test image of
    :meth:`Meniscus.from_image`.

    >>> from rhizoscale.mucilage.bridge import toroidal_bridge
    >>> labels = voxel_bridge(toroidal_bridge(400.0, 4.0, 20.0), (40, 40, 100))
    >>> sorted(np.unique(labels).tolist())
    [0, 1, 2]
    """
    zz, yy, xx = (np.indices(shape) + 0.5).astype(float)
    cz, cy, cx = (np.asarray(shape) / 2.0)
    x = xx - cx
    rho = np.hypot(zz - cz, yy - cy)
    off = 0.5 * bridge.separation + bridge.radius
    solid = ((x - off) ** 2 + rho**2 < bridge.radius**2) | ((x + off) ** 2 + rho**2 < bridge.radius**2)
    r1, r2 = bridge.r1, bridge.r2
    inside = (np.abs(x) <= bridge.half_length) & (rho < r1 + r2 - np.sqrt(np.maximum(r1**2 - x**2, 0.0)))
    return np.where(solid, 1, np.where(inside, 2, 0)).astype(np.uint8)


@dataclass(frozen=True)
class NetworkParameters:
    """Force-law constants of a network (µN, µm).

    ``law``: 0 harmonic, 1 FENE on the extension; ``fene_max``: largest extension / rest
    length; ``break_strain``; ``k_adh``, ``f_adh``: tether stiffness [µN µm-1] and
    detachment force [µN]; ``k_wall``, ``k_rep``: repulsion stiffnesses [µN µm-1];
    ``excluded``: beads repel closer than ``excluded (r_i + r_j)``.
    """

    law: int = HARMONIC
    fene_max: float = 1.5
    break_strain: float = 1.0
    k_adh: float = 1.0
    f_adh: float = np.inf
    k_wall: float = 10.0
    k_rep: float = 10.0
    excluded: float = 0.5


def bonds_within(pos: np.ndarray, cutoff: float, period: float = 0.0) -> np.ndarray:
    """Pairs ``(i, j), i < j`` of beads closer than ``cutoff`` [µm], sorted (k-d tree).

    ``period`` > 0: z is periodic with that length [µm] (minimum image; ``cutoff`` must be
    below half the period, so a pair has at most one image in range).

    >>> pos = np.array([[0.0, 0, 0.5], [0.0, 0, 9.5], [0.0, 0, 5.0]])
    >>> bonds_within(pos, 1.5).tolist(), bonds_within(pos, 1.5, period=10.0).tolist()
    ([], [[0, 1]])
    """
    from scipy.spatial import cKDTree
    pos = np.array(pos, float).reshape(-1, 3)
    if len(pos) < 2:
        return np.zeros((0, 2), np.int64)
    if period > 0:
        pos[:, 2] -= period * np.floor(pos[:, 2] / period)     # into [0, period): one image each side
    tree = cKDTree(pos)
    pairs = tree.query_pairs(cutoff, output_type="ndarray").astype(np.int64).reshape(-1, 2)
    if period > 0:
        if not cutoff < 0.5 * period:
            raise ValueError(f"pair cutoff {cutoff:g} um must be below half the period {period:g} um")
        shift = np.array([0.0, 0.0, period])
        # images across the period: pairs (i, j + period) within the cutoff, either order
        image = tree.sparse_distance_matrix(cKDTree(pos + shift), cutoff, output_type="ndarray")
        ij = np.stack([image["i"], image["j"]], axis=1).astype(np.int64).reshape(-1, 2)
        ij = ij[ij[:, 0] != ij[:, 1]]
        pairs = np.unique(np.concatenate([pairs, np.sort(ij, axis=1)]), axis=0)
    if pairs.size == 0:
        return np.zeros((0, 2), np.int64)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def minimum_image(d: np.ndarray, period: float) -> np.ndarray:
    """Difference vectors (..., 3) with z taken to its nearest periodic image (``period`` <= 0:
    unchanged) [µm].

    >>> minimum_image(np.array([[0.0, 1.0, 9.0]]), 10.0).tolist()
    [[0.0, 1.0, -1.0]]
    """
    d = np.array(d, float)
    if period > 0:
        d[..., 2] -= period * np.floor(d[..., 2] / period + 0.5)
    return d


@dataclass
class BeadNetwork:
    """Beads, bonds and tethers as structures of arrays.

    Attributes
    ----------
    pos, vel : ndarray (n, 3)
        Positions [µm] and velocities [µm s-1].
    polymer : ndarray (n,)
        Polymer mass per bead [pg].
    water : ndarray (n,)
        Water held by each bead [µm3 = pg].
    radius : ndarray (n,)
        Bead radius [µm] (hydrated size).
    bond_i, bond_j : ndarray (b,) int64
    bond_rest, bond_k : ndarray (b,)
        Rest length [µm], stiffness [µN µm-1].
    bond_alive : ndarray (b,) uint8
    tether_bead, tether_particle : ndarray (m,) int64
    tether_anchor : ndarray (m, 3)
        Anchor offset from the particle centre [µm].
    tether_alive : ndarray (m,) uint8
    period : float
        Length of the periodic z axis [µm]; 0: open space.
    cylinders : bool
        Particles are parallel cylinders along z (centres a point of each axis); else spheres.
    """

    pos: np.ndarray
    polymer: np.ndarray
    water: np.ndarray
    radius: np.ndarray
    vel: np.ndarray = None
    bond_i: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bond_j: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bond_rest: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bond_k: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bond_alive: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    tether_bead: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    tether_particle: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    tether_anchor: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    tether_alive: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    period: float = 0.0
    cylinders: bool = False

    def __post_init__(self):
        self.pos = np.ascontiguousarray(self.pos, float).reshape(-1, 3)
        n = len(self.pos)
        self.vel = np.zeros((n, 3)) if self.vel is None else np.ascontiguousarray(self.vel, float)
        self.polymer = np.array(np.broadcast_to(self.polymer, (n,)), float)
        self.water = np.array(np.broadcast_to(self.water, (n,)), float)
        self.radius = np.array(np.broadcast_to(self.radius, (n,)), float)

    @property
    def n(self) -> int:
        return len(self.pos)

    def add_bonds(self, pairs: np.ndarray, stiffness: float, rest: np.ndarray | None = None) -> None:
        """Bond the given pairs; rest length: their current distance unless given [µm]."""
        pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
        if rest is None:
            rest = np.linalg.norm(minimum_image(self.pos[pairs[:, 1]] - self.pos[pairs[:, 0]], self.period), axis=1)
        self.bond_i = np.concatenate([self.bond_i, pairs[:, 0]])
        self.bond_j = np.concatenate([self.bond_j, pairs[:, 1]])
        self.bond_rest = np.concatenate([self.bond_rest, np.broadcast_to(rest, (len(pairs),))]).astype(float)
        self.bond_k = np.concatenate([self.bond_k, np.full(len(pairs), float(stiffness))])
        self.bond_alive = np.concatenate([self.bond_alive, np.ones(len(pairs), np.uint8)])

    def adhere(self, centres: np.ndarray, pradius: np.ndarray, reach: float) -> int:
        """Tether every untethered bead within ``reach`` [µm] of a particle surface to the
        nearest particle, anchored where the bead is now (no initial tether force; the
        anchor moves with the particle); returns the number of new tethers."""
        centres = np.asarray(centres, float)
        rel = self.pos[:, None, :] - centres[None, :, :]
        dist = np.linalg.norm(rel[..., :2] if self.cylinders else rel, axis=2)
        gap = dist - np.asarray(pradius)[None, :] - self.radius[:, None]
        nearest = np.argmin(gap, axis=1)
        idx = np.arange(self.n)
        near = gap[idx, nearest] <= reach
        tethered = np.zeros(self.n, bool)
        tethered[self.tether_bead[self.tether_alive.astype(bool)]] = True
        new = np.flatnonzero(near & ~tethered)
        p = nearest[new]
        anchor = rel[new, p]
        self.tether_bead = np.concatenate([self.tether_bead, new.astype(np.int64)])
        self.tether_particle = np.concatenate([self.tether_particle, p.astype(np.int64)])
        self.tether_anchor = np.concatenate([self.tether_anchor, anchor]).reshape(-1, 3)
        self.tether_alive = np.concatenate([self.tether_alive, np.ones(len(new), np.uint8)])
        return int(len(new))

    # ------------------------------------------------------------------ state
    ARRAYS = ("pos", "vel", "polymer", "water", "radius", "bond_i", "bond_j", "bond_rest", "bond_k",
              "bond_alive", "tether_bead", "tether_particle", "tether_anchor", "tether_alive")

    def state(self) -> dict:
        """Plain arrays (copies) for checkpoints (``space``: ``[period, cylinders]``)."""
        return {**{k: getattr(self, k).copy() for k in self.ARRAYS}, "space": self.space()}

    def space(self) -> np.ndarray:
        """The kernels' ``[period, cylinders]``."""
        return np.array([float(self.period), 1.0 if self.cylinders else 0.0])

    @classmethod
    def from_state(cls, d: dict) -> "BeadNetwork":
        net = cls(np.asarray(d["pos"]), np.asarray(d["polymer"]), np.asarray(d["water"]), np.asarray(d["radius"]))
        for k in cls.ARRAYS:
            setattr(net, k, np.ascontiguousarray(d[k]).copy())
        net.tether_anchor = net.tether_anchor.reshape(-1, 3)
        space = np.asarray(d.get("space", [0.0, 0.0]), float)
        net.period, net.cylinders = float(space[0]), bool(space[1] > 0)
        return net

    def copy(self) -> "BeadNetwork":
        return BeadNetwork.from_state(self.state())

    # ------------------------------------------------------------------ forces and steps
    def adjacency(self):
        """Per-bead lists of bonds and tethers (CSR: start offsets, indices, other bond ends),
        built once per bond/tether set and reused while only their flags change."""
        key = (id(self.bond_i), id(self.bond_j), len(self.bond_i), id(self.tether_bead), len(self.tether_bead), self.n)
        if getattr(self, "_adjacency_key", None) != key:
            ends = np.concatenate([self.bond_i, self.bond_j])
            order = np.argsort(ends, kind="stable")
            nb = len(self.bond_i)
            bond_index = (order % max(nb, 1)).astype(np.int64)
            other = np.concatenate([self.bond_j, self.bond_i])[order].astype(np.int64)
            bond_start = np.zeros(self.n + 1, np.int64)
            np.cumsum(np.bincount(ends, minlength=self.n), out=bond_start[1:])
            torder = np.argsort(self.tether_bead, kind="stable").astype(np.int64)
            tether_start = np.zeros(self.n + 1, np.int64)
            np.cumsum(np.bincount(self.tether_bead, minlength=self.n), out=tether_start[1:])
            self._adjacency = (bond_start, bond_index, other, tether_start, torder)
            self._adjacency_key = key
        return self._adjacency

    def _args(self, params: NetworkParameters, centres, pradius, meniscus: Meniscus | None, external):
        ext = np.zeros((self.n, 3)) if external is None else np.ascontiguousarray(
            np.broadcast_to(external, (self.n, 3)), float)
        men = (meniscus or Meniscus.none()).packed()
        bond_start, bond_index, other, tether_start, tether_index = self.adjacency()
        return (ext, bond_start, bond_index, other, self.bond_rest[bond_index], self.bond_k[bond_index],
                self.bond_alive, int(params.law),
                float(params.fene_max), float(params.break_strain), tether_start, tether_index,
                self.tether_particle, self.tether_anchor, self.tether_alive,
                np.ascontiguousarray(centres, float).reshape(-1, 3),
                np.ascontiguousarray(pradius, float).reshape(-1), float(params.k_adh), float(params.f_adh),
                float(params.k_wall), float(params.k_rep), float(params.excluded), men, self.space())

    def forces(self, params: NetworkParameters, centres, pradius, meniscus: Meniscus | None = None,
               external=None) -> np.ndarray:
        """Force on every bead [µN] (Numba kernel); bonds/tethers past their limits break."""
        from ._kernels import network_forces_kernel
        force = np.zeros((self.n, 3))
        with _threads(self.n):
            network_forces_kernel(self.pos, self.radius, force, *self._args(params, centres, pradius,
                                                                              meniscus, external))
        return force

    def overdamped(self, steps: int, dt: float, friction, params: NetworkParameters, centres, pradius,
                   meniscus: Meniscus | None = None, external=None) -> None:
        """``steps`` overdamped steps ``x += dt F / friction`` (friction [µN s µm-1] per bead)."""
        from ._kernels import overdamped_kernel
        force = np.zeros((self.n, 3))
        fr = np.ascontiguousarray(np.broadcast_to(friction, (self.n,)), float)
        with _threads(self.n):
            overdamped_kernel(int(steps), float(dt), self.pos, fr, self.radius, force,
                              *self._args(params, centres, pradius, meniscus, external))

    def verlet(self, steps: int, dt: float, mass, params: NetworkParameters, centres, pradius,
               meniscus: Meniscus | None = None, external=None, friction=0.0) -> None:
        """``steps`` velocity-Verlet steps (mass [µN s2 µm-1] per bead; optional damping)."""
        from ._kernels import verlet_kernel
        m = np.ascontiguousarray(np.broadcast_to(mass, (self.n,)), float)
        damping = np.ascontiguousarray(np.broadcast_to(friction, (self.n,)), float) / m
        force = self.forces(params, centres, pradius, meniscus, external)
        with _threads(self.n):
            verlet_kernel(int(steps), float(dt), damping, self.pos, self.vel, m, self.radius, force,
                          *self._args(params, centres, pradius, meniscus, external))


class _threads:
    """All threads for large networks, one for small ones (thread start-up costs more)."""

    def __init__(self, n: int):
        from ._kernels import PARALLEL_MIN_BEADS
        self.serial = n < PARALLEL_MIN_BEADS

    def __enter__(self):
        self.old = numba.get_num_threads()
        if self.serial:
            numba.set_num_threads(1)

    def __exit__(self, *exc):
        numba.set_num_threads(self.old)


# ---------------------------------------------------------------------------- specification
def network_forces(net: BeadNetwork, params: NetworkParameters, centres, pradius,
                   meniscus: Meniscus | None = None, external=None):
    """Readable NumPy specification of the network forces (what the kernel computes).

    Returns ``(force, bond_alive, tether_alive)``: forces [µN] and the alive flags after
    this evaluation's breaking (the network itself is not changed).

    Example
    -------
    >>> net = BeadNetwork(np.array([[0.0, 0, 0], [1.5, 0, 0]]), 1.0, 0.0, 0.1)
    >>> net.add_bonds([[0, 1]], stiffness=2.0, rest=[1.0])
    >>> f, _, _ = network_forces(net, NetworkParameters(), np.zeros((0, 3)), np.zeros(0))
    >>> f[:, 0].tolist()                    # harmonic: 2 * (1.5 - 1) pulls them together
    [1.0, -1.0]
    """
    p = params
    pos, r = net.pos, net.radius
    n = net.n
    centres = np.asarray(centres, float).reshape(-1, 3)
    pradius = np.asarray(pradius, float).reshape(-1)
    force = np.zeros((n, 3)) if external is None else np.array(np.broadcast_to(external, (n, 3)), float)
    period = net.period
    # bonds
    alive = net.bond_alive.astype(bool).copy()
    d = minimum_image(pos[net.bond_j] - pos[net.bond_i], period)
    length = np.linalg.norm(d, axis=1)
    ext = length - net.bond_rest
    broken = np.abs(ext) > p.break_strain * net.bond_rest
    if p.law == FENE:
        broken |= np.abs(ext) >= p.fene_max * net.bond_rest
    alive &= ~broken
    if p.law == HARMONIC:
        f = net.bond_k * ext
    else:
        q = ext / (p.fene_max * net.bond_rest)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = net.bond_k * ext / (1 - q * q)
    fvec = np.where(alive[:, None], (f / np.where(length > 0, length, 1.0))[:, None] * d, 0.0)
    np.add.at(force, net.bond_i, fvec)
    np.add.at(force, net.bond_j, -fvec)
    # tethers
    t_alive = net.tether_alive.astype(bool).copy()
    dt_ = minimum_image(centres[net.tether_particle] + net.tether_anchor - pos[net.tether_bead], period)
    t_alive &= p.k_adh * np.linalg.norm(dt_, axis=1) <= p.f_adh
    np.add.at(force, net.tether_bead, np.where(t_alive[:, None], p.k_adh * dt_, 0.0))
    # bead-particle repulsion (cylinders: from the axis line, in the cross-section)
    rel = pos[:, None, :] - centres[None, :, :]
    if net.cylinders:
        rel[..., 2] = 0.0
    dist = np.linalg.norm(rel, axis=2)
    overlap = pradius[None, :] + r[:, None] - dist
    coef = np.where((overlap > 0) & (dist > 0), p.k_wall * overlap / np.where(dist > 0, dist, 1.0), 0.0)
    force += np.einsum("np,npk->nk", coef, rel)
    inside = np.any(dist < pradius[None, :], axis=1)
    # capillary pull towards the liquid
    men = meniscus or Meniscus.none()
    if men.active and n:
        mid, axis = np.asarray(men.mid, float), np.asarray(men.axis, float)
        relm = pos - mid
        if net.cylinders:               # the 2D bridge: the same cross-section at every z
            relm[:, 2] = 0.0
        x = relm @ axis
        radial = relm - x[:, None] * axis
        rho = np.linalg.norm(radial, axis=1)
        dr = rho - (men.r1 + men.r2)
        dd = np.sqrt(x * x + dr * dr)
        s = men.r1 - dd
        on = (np.abs(x) <= men.half_length) & (np.abs(s) < r) & (dd > 0) & ~inside
        mag = np.where(on, 2 * np.pi * men.surface_tension * r * (1 - (s / r) ** 2), 0.0)
        safe = np.where(dd > 0, dd, 1.0)
        unit_r = np.where(rho[:, None] > 0, radial / np.where(rho > 0, rho, 1.0)[:, None], 0.0)
        normal = (x / safe)[:, None] * axis + (dr / safe)[:, None] * unit_r
        force += mag[:, None] * normal
    # bead-bead soft repulsion
    if n > 1 and r.max() > 0:
        pairs = bonds_within(pos, 2 * p.excluded * r.max(), period)
        if pairs.size:
            i, j = pairs[:, 0], pairs[:, 1]
            dij = minimum_image(pos[j] - pos[i], period)
            lij = np.linalg.norm(dij, axis=1)
            ov = p.excluded * (r[i] + r[j]) - lij
            c = np.where((ov > 0) & (lij > 0), p.k_rep * ov / np.where(lij > 0, lij, 1.0), 0.0)
            np.add.at(force, i, -c[:, None] * dij)
            np.add.at(force, j, c[:, None] * dij)
    return force, alive.astype(np.uint8), t_alive.astype(np.uint8)


def potential_energy(net: BeadNetwork, params: NetworkParameters, centres, pradius) -> float:
    """Elastic energy of bonds, tethers and repulsions [µN µm = pJ] (alive bonds/tethers).

    The capillary pull and external forces are not included (energy tests run without).
    """
    p = params
    pos, r = net.pos, net.radius
    alive = net.bond_alive.astype(bool)
    period = net.period
    ext = np.linalg.norm(minimum_image(pos[net.bond_j] - pos[net.bond_i], period), axis=1) - net.bond_rest
    if p.law == HARMONIC:
        e_b = 0.5 * net.bond_k * ext ** 2
    else:
        qmax = p.fene_max * net.bond_rest
        e_b = -0.5 * net.bond_k * qmax ** 2 * np.log(1 - (ext / qmax) ** 2)
    energy = float(np.sum(e_b[alive]))
    centres = np.asarray(centres, float).reshape(-1, 3)
    ta = net.tether_alive.astype(bool)
    dt_ = minimum_image(centres[net.tether_particle] + net.tether_anchor - pos[net.tether_bead], period)
    energy += float(np.sum(0.5 * p.k_adh * np.sum(dt_ ** 2, axis=1)[ta]))
    rel = pos[:, None, :] - centres[None, :, :]
    if net.cylinders:
        rel[..., 2] = 0.0
    dist = np.linalg.norm(rel, axis=2)
    ov = np.maximum(np.asarray(pradius)[None, :] + r[:, None] - dist, 0.0)
    energy += float(np.sum(0.5 * p.k_wall * ov ** 2))
    if net.n > 1:
        pairs = bonds_within(pos, 2 * p.excluded * r.max(), period)
        if pairs.size:
            i, j = pairs[:, 0], pairs[:, 1]
            ov = np.maximum(p.excluded * (r[i] + r[j]) - np.linalg.norm(minimum_image(pos[j] - pos[i], period),
                                                                        axis=1), 0.0)
            energy += float(np.sum(0.5 * p.k_rep * ov ** 2))
    return energy

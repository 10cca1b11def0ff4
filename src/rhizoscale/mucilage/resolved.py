"""Resolved mode: the mucilage network dried through a sequence of resolved liquid images.

The fast mode's liquid surface is a closed-form toroidal bridge. In resolved mode the
liquid surface of every drying stage is a voxel image (air, solid, water), e.g. the
stages of a lattice-Boltzmann drying bridge (case study 4's ``cs4-liquid-bridge``, its
product ``bridge_stage_images.nc``); the network follows the stages one by one.

**Voxel-interface force law.** For a stage image with voxels of edge ``h`` the signed
distance ``s`` to the water-air interface (positive in air) is, at voxel centres,

* within about 2.8 voxels of the interface: ``s = -sqrt(2) sigma h erfinv(chi_s)``, with
  ``chi_s`` the phase indicator (water +1, air -1, a solid voxel taking its nearest fluid
  voxel's value) smoothed by a Gaussian of ``sigma`` = 1 voxel: exact for a plane at any
  orientation (a sub-voxel interface, half-way between water and air voxels);
* farther: ``D_w - h/2`` in air (``D_w``: Euclidean distance to the nearest water voxel
  centre), ``-(D_a - h/2)`` in water (``D_a``: to the nearest air voxel centre),
  ``(D_w - D_a) / 2`` in solid;

and between voxel centres it is trilinear. A bead of radius ``r`` whose centre lies
within ``r`` of the interface (``|s| < r``) and outside the particles feels the same pull
as in the fast mode, ``F = 2 pi gamma r (1 - (s/r)^2) n`` with ``n = -grad s / |grad s|``
(central differences, trilinear) pointing into the liquid. Only water-air interfaces
pull: a bead in water against a wetted grain feels nothing. On a voxelised toroidal
bridge (1 µm beads) the total axial pull on one half is within 25 % of the closed form's
at 1 µm voxels and within 5 % at 0.5 µm (tested; the force error per bead is bounded by
``4 pi gamma |ds| + 2 pi gamma r |dn|``).

**Stages.** Stage ``k`` holds the liquid volume ``V_k`` (strictly decreasing). The water
in the pore at stage ``k`` is ``W_0 V_k / V_0`` (``W_0`` the initial water, so at zero
mucilage exactly ``V_k``); what is removed evaporates as in the fast mode (free water
first, then the particle films, then the beads' water). The bridge is intact while a water
cluster of the stage image touches both particles; when it no longer does, its free
water returns to the particle films (half to each). The network relaxes in the stage's
interface pull (overdamped, the force re-evaluated every ``interface_every`` steps), and
the pore stays connected while the bridge is intact or hydrated beads bonded from one
particle to the other span it (as in the fast mode). At zero mucilage the resolved
model therefore disconnects at the stage where the images do.

Units: µm, s, µN, pg; image lengths in cm (``length_scale`` 1e4 µm per cm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, RhizoscaleError
from .drying import PA, MucilageBridgeModel, mucilage_properties
from .network import Meniscus

__all__ = ["LiquidStages", "interface_field", "interface_forces", "image_particles", "ResolvedBridgeModel",
           "AIR", "SOLID", "WATER"]

AIR, SOLID, WATER = 0, 1, 2


@dataclass(frozen=True)
class LiquidStages:
    """Drying stages as labelled voxel images (air 0, solid 1, water 2).

    ``labels``: (stage, z, y, x); ``voxel_size`` [µm]; ``origin`` [µm], (x, y, z) of the
    first voxel's corner; ``liquid_volume`` [µm3] per stage, strictly decreasing, the
    volume of the stage's water voxels (to a voxel or 1 %).
    Construct with :meth:`from_arrays` or :meth:`from_dataset` (both check the input).

    Example
    -------
    >>> import numpy as np
    >>> lab = np.zeros((1, 4, 4, 12), np.uint8); lab[0, :, :, :3] = lab[0, :, :, -3:] = SOLID
    >>> lab[0, 1:3, 1:3, 3:9] = WATER
    >>> LiquidStages.from_arrays(lab, 1.0, [24.0]).n
    1
    """

    labels: np.ndarray
    voxel_size: float
    origin: tuple
    liquid_volume: np.ndarray
    field: str = "liquid_stages"

    @property
    def n(self) -> int:
        return int(self.labels.shape[0])

    @classmethod
    def from_arrays(cls, labels, voxel_size: float, liquid_volume, origin=(0.0, 0.0, 0.0),
                    field: str = "liquid_stages") -> "LiquidStages":
        """Check and wrap stage images: 3D, two particles, water in the first stage, the
        liquid volume strictly decreasing; InputError naming ``field`` otherwise."""
        lab = np.asarray(labels)
        if lab.ndim != 4:
            raise InputError(f"stage images must be 3D (stage, z, y, x), got {lab.ndim - 1}D images", field=field)
        if lab.shape[0] < 1:
            raise InputError("no drying stage in the stage images", field=field)
        vol = np.asarray(liquid_volume, float).reshape(-1)
        if len(vol) != lab.shape[0]:
            raise InputError(f"{len(vol)} liquid volumes for {lab.shape[0]} stage images", field=field)
        if not (np.all(np.isfinite(vol)) and np.all(vol >= 0)):
            raise InputError("liquid volumes must be finite and >= 0", field=field)
        if np.any(np.diff(vol) >= 0):
            k = int(np.flatnonzero(np.diff(vol) >= 0)[0])
            raise InputError(f"stages not ordered by liquid volume: stage {k + 1} holds {vol[k + 1]:g} um3, "
                             f"not less than stage {k}'s {vol[k]:g} um3 (stages from 0)", field=field)
        if not (voxel_size > 0):
            raise InputError(f"voxel size must be > 0, got {voxel_size}", field=field)
        if not np.any(lab[0] == WATER):
            raise InputError("the first stage image has no water", field=field)
        _, n = _solid_clusters(lab[0] == SOLID)
        if n < 2:
            raise InputError(f"the first stage image holds {n} particle(s), not two", field=field)
        # the liquid volume is that of the water voxels (what the water schedule and the bead
        # count use): a volume that disagrees with its image beyond a voxel and 1 % is refused
        counted = (lab == WATER).reshape(lab.shape[0], -1).sum(axis=1) * float(voxel_size) ** 3
        off = np.abs(vol - counted) > np.maximum(float(voxel_size) ** 3, 0.01 * counted)
        if np.any(off):
            k = int(np.flatnonzero(off)[0])
            raise InputError(f"stage {k} (from 0): liquid volume {vol[k]:g} um3, but its image holds "
                             f"{counted[k]:g} um3 of water voxels", field=field)
        return cls(lab.astype(np.uint8), float(voxel_size), tuple(float(o) for o in origin), vol, field)

    @classmethod
    def from_dataset(cls, ds, field: str = "liquid_stages", length_scale: float = 1e4) -> "LiquidStages":
        """From a ``bridge_stage_images.nc`` Dataset (``labels(stage, z, y, x)`` with
        ``flag_meanings`` naming air, solid and water, ``liquid_volume`` [cm3] per stage,
        ``voxel_size_cm``); other label values are mapped by name."""
        if "labels" not in ds or "liquid_volume" not in ds:
            raise InputError("not stage images: needs the variables labels and liquid_volume", field=field)
        lab = ds["labels"]
        try:
            values = np.atleast_1d(lab.attrs["flag_values"])
            names = str(lab.attrs["flag_meanings"]).split()
        except KeyError as err:
            raise InputError(f"stage labels need the attribute {err.args[0]!r}", field=field) from None
        need = {"air": AIR, "solid": SOLID, "water": WATER}
        missing = sorted(set(need) - set(names))
        if missing:
            raise InputError(f"stage labels have no phase {missing[0]!r} (flag_meanings {' '.join(names)})",
                             field=field)
        raw = np.asarray(lab.values)
        out = np.full(raw.shape, AIR, np.uint8)
        for v, name in zip(values, names):
            if name in need:
                out[raw == v] = need[name]
        if raw.ndim != 4:                    # 2D stages (a 2D LBM bridge: liquid_volume in cm2)
            raise InputError(f"stage images must be 3D (stage, z, y, x), got {raw.ndim - 1}D images (a 2D "
                             "bridge? run the lattice-Boltzmann bridge with ndim: 3)", field=field)
        units = str(ds["liquid_volume"].attrs.get("units", "cm3"))
        if units != "cm3":
            raise InputError(f"liquid_volume in {units}, expected cm3 (3D stages)", field=field)
        h = float(np.asarray(ds.attrs.get("voxel_size_cm", np.nan)).reshape(-1)[0])
        origin = np.asarray(ds.attrs.get("origin_cm", np.zeros(3)), float).reshape(-1)
        if len(origin) != 3:
            origin = np.zeros(3)
        return cls.from_arrays(out, h * length_scale, np.asarray(ds["liquid_volume"].values, float)
                               * length_scale**3, tuple(origin * length_scale), field)

    def connected(self, k: int) -> bool:
        """Whether a water cluster of stage ``k`` touches both particles."""
        return _bridge_cluster(self.labels[k]) is not None


def _solid_clusters(solid):
    from scipy import ndimage
    return ndimage.label(solid)


def _two_particles(solid):
    """Label array and the labels of the two largest solid clusters (ordered by label)."""
    from scipy import ndimage
    lab, n = _solid_clusters(solid)
    sizes = ndimage.sum_labels(np.ones_like(lab), lab, index=np.arange(1, n + 1))
    two = np.sort(np.argsort(sizes, kind="stable")[::-1][:2] + 1)
    return lab, two


def _bridge_cluster(labels):
    """Mask of the water cluster(s) touching both particles, or None."""
    from scipy import ndimage
    lab, two = _two_particles(labels == SOLID)
    wlab, _ = ndimage.label(labels == WATER)
    near = [ndimage.binary_dilation(lab == k) for k in two]
    both = set(np.unique(wlab[near[0]])) & set(np.unique(wlab[near[1]])) - {0}
    return np.isin(wlab, sorted(both)) if both else None


def image_particles(labels, voxel_size: float, origin=(0.0, 0.0, 0.0)):
    """Centres (2, 3) [µm, (x, y, z)] and radii (2,) [µm] of the two particles of an image.

    Centre: centroid of the two largest solid clusters (in label order); radius: the
    volume-equivalent radius, or for a sphere clipped by the image border the largest
    inscribed distance less half a voxel (as in :meth:`Meniscus.from_image`).
    """
    from scipy import ndimage
    solid = np.asarray(labels) == SOLID
    lab, two = _two_particles(solid)
    zyx = np.array(ndimage.center_of_mass(np.ones_like(lab), lab, index=two), float)
    centres = (zyx[:, ::-1] + 0.5) * voxel_size + np.asarray(origin, float)
    # a whole sphere: the volume-equivalent radius; one clipped by the image border: the
    # largest inscribed distance less half a voxel
    count = np.asarray(ndimage.sum_labels(np.ones_like(lab), lab, index=two), float)
    radii = np.cbrt(3 * count / (4 * np.pi)) * voxel_size
    border = np.zeros(lab.shape, bool)
    for a in range(lab.ndim):
        border[(slice(None),) * a + (0,)] = border[(slice(None),) * a + (-1,)] = True
    clipped = np.isin(two, np.unique(lab[border]))
    if clipped.any():
        edt = ndimage.distance_transform_edt(solid, sampling=voxel_size)
        inscribed = np.asarray(ndimage.maximum(edt, lab, index=two), float) - 0.5 * voxel_size
        radii = np.where(clipped, inscribed, radii)
    return centres, radii


def interface_field(labels, voxel_size: float, sigma: float = 1.0, band: float = 0.995):
    """Signed distance to the water-air interface at voxel centres [µm] (positive in air)
    and its gradient (three arrays, d/dx, d/dy, d/dz) -- the force law in the module docs.

    Near the interface (sub-voxel): the phase indicator ``chi`` (water +1, air -1; a solid
    voxel takes the value of the nearest fluid voxel, so the interface continues into the
    grains) smoothed by a Gaussian of ``sigma`` voxels, inverted through the profile of a
    smoothed plane, ``s = -sqrt(2) sigma h erfinv(chi_s)`` (exact for a plane at any
    orientation), where ``|chi_s| < band`` (``|s|`` below about 2.8 voxels). Farther:
    ``D_w - h/2`` in air, ``-(D_a - h/2)`` in water, ``(D_w - D_a)/2`` in solid (Euclidean
    distances to the nearest water / air voxel centre). Returns ``(s, grad)``; without air
    or without water there is no interface and ``s`` is ``+inf`` (no pull anywhere).

    Example
    -------
    >>> lab = np.zeros((2, 2, 6), np.uint8); lab[..., :3] = WATER
    >>> s, _ = interface_field(lab, 2.0)
    >>> np.round(s[0, 0], 1).tolist()   # interface between voxels 2 and 3 (exact: -5 -3 -1 1 3 5)
    [-5.2, -3.1, -1.0, 1.0, 3.1, 5.2]
    """
    from scipy import ndimage
    from scipy.special import erfinv
    lab = np.asarray(labels)
    h = float(voxel_size)
    air, water = lab == AIR, lab == WATER
    if not air.any() or not water.any():
        s = np.full(lab.shape, np.inf)
        return s, tuple(np.zeros(lab.shape) for _ in range(3))
    d_air = ndimage.distance_transform_edt(~air, sampling=h)
    d_water = ndimage.distance_transform_edt(~water, sampling=h)
    s = np.where(air, d_water - 0.5 * h, np.where(water, 0.5 * h - d_air, 0.5 * (d_water - d_air)))
    fluid = air | water
    chi = np.where(water, 1.0, -1.0)
    if not fluid.all():
        nearest = ndimage.distance_transform_edt(~fluid, return_distances=False, return_indices=True)
        chi = chi[tuple(nearest)]
    smooth = ndimage.gaussian_filter(chi, sigma, mode="nearest")
    near = np.abs(smooth) < band
    s[near] = -np.sqrt(2.0) * sigma * h * erfinv(smooth[near])
    gz, gy, gx = np.gradient(s, h)
    return s, (gx, gy, gz)


def interface_forces(pos, radius, s, grad, voxel_size: float, origin, surface_tension: float,
                     centres, pradius) -> np.ndarray:
    """Capillary pull of a voxel interface on beads [µN] (the force law in the module docs).

    Parameters
    ----------
    pos : ndarray (n, 3)
        Bead centres [µm], (x, y, z).
    radius : ndarray (n,)
        Bead radii [µm].
    s, grad
        From :func:`interface_field` of the stage image.
    voxel_size : float
        [µm].
    origin : (x, y, z)
        Corner of the image [µm].
    surface_tension : float
        [N m-1 = µN µm-1].
    centres, pradius
        Particles [µm]: beads inside a particle feel no pull (as in the fast mode kernel).

    Returns
    -------
    ndarray (n, 3)

    Example
    -------
    >>> lab = np.zeros((4, 4, 8), np.uint8); lab[..., :4] = WATER      # interface at x = 4
    >>> s, g = interface_field(lab, 1.0)
    >>> f = interface_forces(np.array([[4.0, 2.0, 2.0]]), np.array([1.0]), s, g, 1.0, (0, 0, 0),
    ...                      0.072, np.zeros((0, 3)), np.zeros(0))
    >>> (np.round(f / (2 * np.pi * 0.072), 6) + 0.0).tolist()          # full pull, into the water
    [[-1.0, 0.0, 0.0]]
    """
    from scipy.ndimage import map_coordinates
    p = np.asarray(pos, float).reshape(-1, 3)
    out = np.zeros_like(p)
    if len(p) == 0 or not np.isfinite(s).any():
        return out
    idx = ((p - np.asarray(origin, float)) / voxel_size - 0.5)[:, ::-1].T       # (z, y, x) indices
    sv = map_coordinates(s, idx, order=1, mode="nearest")
    g = np.stack([map_coordinates(c, idx, order=1, mode="nearest") for c in grad], axis=1)
    r = np.asarray(radius, float)
    c = np.asarray(centres, float).reshape(-1, 3)
    inside = (np.linalg.norm(p[:, None] - c[None], axis=2) < np.asarray(pradius, float)[None]).any(axis=1) \
        if len(c) else np.zeros(len(p), bool)
    norm = np.linalg.norm(g, axis=1)
    hit = (np.abs(sv) < r) & ~inside & (norm > 0)
    mag = 2 * np.pi * surface_tension * r[hit] * (1.0 - (sv[hit] / r[hit]) ** 2)
    out[hit] = -(mag / norm[hit])[:, None] * g[hit]
    return out


class _StageSurface:
    """What the recorder and the structure image read of a bridge (no toroidal radii in
    resolved mode: nan)."""

    r1 = r2 = half_length = beta = float("nan")
    force = float("nan")
    volume = float("nan")


class ResolvedBridgeModel(MucilageBridgeModel):
    """The mucilage network dried through resolved liquid stages (see the module docs).

    Model time counts stages: time ``k`` is stage ``k`` (0 the first). Stepped by
    :class:`~rhizoscale.simulation.Simulation` with ``dt = 1`` up to ``stages.n - 1``.

    Parameters
    ----------
    concentration : float
        Mucilage concentration [mg g-1], >= 0.
    stages : LiquidStages
        The stage images (particles and liquid from the images; the parameter set's
        ``particle_radius`` is not used).
    params : MucilageNetworkParameters
    relax_steps : int
        Overdamped steps per stage.
    seed : int
        Seed of the bead placement (uniform in the first stage's bridge water).
    interface_every : int
        Overdamped steps between evaluations of the voxel-interface pull.
    after_rupture_steps : int
        Drying steps after the last image when its bridge has ruptured (no liquid surface
        is left, so no image is needed): each removes ``1 / after_rupture_steps`` of the
        water left at the last image, to dryness. With a bridge still intact at the last
        image the drying ends there.

    Example
    -------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    >>> from rhizoscale.mucilage.bridge import toroidal_bridge
    >>> from rhizoscale.mucilage.network import voxel_bridge
    >>> p = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    >>> imgs = [voxel_bridge(toroidal_bridge(v, 4.0, 20.0), (30, 30, 90)) for v in (900.0, 500.0)]
    >>> dry = np.where(imgs[1] == WATER, AIR, imgs[1]).astype(np.uint8)          # ruptured: no water left
    >>> vols = [float((im == WATER).sum()) for im in imgs] + [0.0]
    >>> st = LiquidStages.from_arrays(np.stack(imgs + [dry]), 1.0, vols)
    >>> m = ResolvedBridgeModel(0.0, st, p)
    >>> m.advance_to(1); m.connected
    True
    >>> m.advance_to(2); m.connected, float(m.connection_lost[0])
    (False, 2.0)
    """

    def __init__(self, concentration: float, stages: LiquidStages, params, *, relax_steps: int = 100,
                 seed: int = 1, interface_every: int = 5, after_rupture_steps: int = 0):
        p = params
        if not (math.isfinite(concentration) and concentration >= 0):
            raise InputError(f"mucilage concentration must be >= 0 mg/g, got {concentration}", field="concentration")
        if not stages.connected(0):
            raise InputError("the first stage image has no water joining the two particles", field=stages.field)
        self.stages = stages
        self.params = p
        self.concentration = float(concentration)
        self.contact_angle = float(p.contact_angle)
        self.relax_steps = int(relax_steps)
        self.interface_every = max(1, int(interface_every))
        if int(after_rupture_steps) != after_rupture_steps or after_rupture_steps < 0:
            raise InputError(f"after_rupture_steps must be a whole number >= 0, got {after_rupture_steps}",
                             field="after_rupture_steps")
        self.after_rupture_steps = int(after_rupture_steps) if not stages.connected(stages.n - 1) else 0
        centres, radii = image_particles(stages.labels[0], stages.voxel_size, stages.origin)
        self.centres = centres
        self.pradius = radii
        self.radius = float(radii.mean())
        self.separation = float(np.linalg.norm(centres[1] - centres[0]) - radii.sum())
        if not self.separation > 0:
            raise InputError(f"the particles of the stage images touch or overlap (gap {self.separation:.3g} um)",
                             field=stages.field)
        self.evaporation_rate = float("nan")
        props = mucilage_properties(self.concentration, p)
        self.surface_tension = props["surface_tension"]
        self.viscosity = props["viscosity"]
        liquid_volume = float(stages.liquid_volume[0])
        c = self.concentration * 1e-3
        water0 = liquid_volume / (1.0 + c / p.polymer_density)
        polymer = c * water0
        n = int(round(polymer / p.polymer_per_bead))
        rng = np.random.default_rng(seed)
        pos = self._sample_water(n, rng)
        self._start_network(pos, water0, polymer, props, liquid_volume)
        self.stage = 0
        self.rupture_volume_lian = float("nan")
        self._bridge = _StageSurface()
        self._field = None

    # ------------------------------------------------------------------ geometry
    def _sample_water(self, n, rng):
        """``n`` points uniform in the first stage's bridge water (outside the particles)."""
        if n == 0:
            return np.zeros((0, 3))
        st = self.stages
        mask = _bridge_cluster(st.labels[0])
        vox = np.argwhere(mask)[:, ::-1].astype(float)               # (x, y, z) voxel indices
        out, count = [], 0
        while count < n:
            pick = vox[rng.integers(0, len(vox), max(2 * n, 256))]
            pts = (pick + rng.random(pick.shape)) * st.voxel_size + np.asarray(st.origin)
            keep = pts[np.all(np.linalg.norm(pts[:, None] - self.centres[None], axis=2) > self.pradius[None], axis=1)]
            out.append(keep)
            count += len(keep)
        return np.concatenate(out)[:n]

    def _stage_field(self):
        if self.stage >= self.stages.n:
            return np.full(1, np.inf), None
        if self._field is None or self._field[0] != self.stage:
            s, g = interface_field(self.stages.labels[self.stage], self.stages.voxel_size)
            self._field = (self.stage, s, g)
        return self._field[1], self._field[2]

    def stage_forces(self) -> np.ndarray:
        """The current stage's interface pull on every bead [µN] (zero once ruptured)."""
        net = self.network
        if not self.bridge_intact or net.n == 0 or self.stage >= self.stages.n:
            return np.zeros((net.n, 3))
        s, g = self._stage_field()
        return interface_forces(net.pos, net.radius, s, g, self.stages.voxel_size, self.stages.origin,
                                self.surface_tension, self.centres, self.pradius)

    def meniscus(self) -> Meniscus:
        return Meniscus.none()        # the surface is the voxel interface (stage_forces)

    # ------------------------------------------------------------------ stepping
    @property
    def last_stage(self) -> int:
        """The last stage the model dries to (images, then the steps after rupture)."""
        return self.stages.n - 1 + self.after_rupture_steps

    def stage_water(self, k: int) -> float:
        """Water in the pore at stage ``k`` [µm3]: ``W_0 V_k / V_0``; after the last image
        ``k = n - 1 + j`` it falls linearly to zero in ``after_rupture_steps`` steps."""
        v = self.stages.liquid_volume
        n = self.stages.n
        last = self.initial_water * float(v[min(k, n - 1)]) / float(v[0])
        if k < n:
            return last
        return last * max(0.0, 1.0 - (k - n + 1) / self.after_rupture_steps)

    def _relax(self) -> None:
        net = self.network
        if net.n == 0 or self.relax_steps == 0:
            return
        friction = 6 * np.pi * self.viscosity * PA * net.radius
        stiff = max(self.mech.k_wall, self.mech.k_rep, self.mech.k_adh, 4 * np.pi * self.surface_tension)
        dt = 0.1 * friction.min() / stiff
        before = net.pos.copy()
        done = 0
        while done < self.relax_steps:
            k = min(self.interface_every, self.relax_steps - done)
            net.overdamped(k, dt, friction, self.mech, self.centres, self.pradius, Meniscus.none(),
                           external=self.stage_forces())
            done += k
        jump = np.max(np.linalg.norm(net.pos - before, axis=1), initial=0.0) if np.all(np.isfinite(net.pos)) else np.inf
        if not jump <= self.radius:
            raise RhizoscaleError(f"the mucilage network exploded at stage {self.stage}: a bead moved {jump:.3g} um, "
                                  "more than the particle radius; lower the repulsion or adhesion stiffness")
        if self.bridge_intact:
            s, _ = self._stage_field()
            from scipy.ndimage import map_coordinates
            idx = ((net.pos - np.asarray(self.stages.origin)) / self.stages.voxel_size - 0.5)[:, ::-1].T
            self.wet = (map_coordinates(s, idx, order=1, mode="nearest") < 0).astype(np.uint8)

    def _stage_step(self) -> None:
        k = self.stage + 1
        self._evaporate(max(0.0, self.total_water() - self.stage_water(k)))
        self.stage = k
        self.time = float(k)
        self._shrink()
        if self.bridge_intact and (k >= self.stages.n or not self.stages.connected(k)):
            self.bridge_intact = False
            self.bridge_rupture[:] = (self.time, float(self.stages.liquid_volume[k - 1]))
            half = 0.5 * self.free_water
            self.films += np.array([half, self.free_water - half])
            self.free_water = 0.0
            self.wet[:] = 0
        self._relax()
        if self.connected:
            self.connected = self.bridge_intact or self.network_spans()
            if not self.connected:
                self.connection_lost[:] = (self.time, self.total_water())

    def advance_to(self, t: float) -> None:
        """Dry to stage ``round(t)`` (at most the last stage), one stage at a time."""
        target = min(int(round(t)), self.last_stage)
        if target < self.stage:
            raise ValueError(f"cannot step back from stage {self.stage} to {target}")
        while self.stage < target:
            self._stage_step()
        self.time = float(t)

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_state(self) -> dict:
        d = super().checkpoint_state()
        d.pop("bridge")
        d["stage"] = self.stage
        return d

    def restore_state(self, s: dict) -> None:
        self.stage = int(s["stage"])
        super().restore_state(s)

    def _restore_bridge(self, s: dict) -> None:
        self._field = None          # the surface is the stage image's, recomputed when needed

    def liquid_volume(self) -> float:
        """Liquid of the bridge [µm3]: the current stage image's (0 once ruptured)."""
        return float(self.stages.liquid_volume[min(self.stage, self.stages.n - 1)]) if self.bridge_intact else 0.0


class StagedFastModel:
    """The fast mode (toroidal bridge, :class:`MucilageBridgeModel`) dried on a resolved
    model's water schedule: model time counts the same stages, and at stage ``k`` the fast
    model has evaporated ``W_0 - W_k`` (evaporation rate 1 µm3 per model second), so both
    modes see the same water at every stage (the comparison of the resolved and the fast
    liquid surface at one geometry).

    ``fast`` is built by the caller (same concentration, seed, particle radius, gap and
    first liquid volume as the resolved model); ``waters`` are the resolved model's
    ``stage_water(k)`` for every stage.
    """

    def __init__(self, fast: MucilageBridgeModel, waters):
        self.fast = fast
        w = np.asarray(waters, float)
        self.times = self.fast.initial_water - w * self.fast.initial_water / w[0]
        self.time = 0.0
        self.stage = 0
        self.connection_lost = np.array([np.nan, np.nan])     # stage, water in the pore [µm3]
        self.bridge_rupture = np.array([np.nan, np.nan])      # stage, bridge liquid [µm3]

    @property
    def last_stage(self) -> int:
        return len(self.times) - 1

    def advance_to(self, t: float) -> None:
        target = min(int(round(t)), self.last_stage)
        f = self.fast
        while self.stage < target:
            self.stage += 1
            f.advance_to(max(f.time, float(self.times[self.stage])))
            if np.isnan(self.bridge_rupture[0]) and not f.bridge_intact:
                self.bridge_rupture[:] = (self.stage, f.bridge_rupture[1])
            if np.isnan(self.connection_lost[0]) and not f.connected:
                self.connection_lost[:] = (self.stage, f.connection_lost[1])
        self.time = float(t)

    def water_balance_error(self) -> float:
        return self.fast.water_balance_error()

    def checkpoint_state(self) -> dict:
        return {"fast": self.fast.checkpoint_state(), "time": self.time, "stage": self.stage,
                "connection_lost": self.connection_lost.copy(), "bridge_rupture": self.bridge_rupture.copy()}

    def restore_state(self, s: dict) -> None:
        self.fast.restore_state(s["fast"])
        self.time = float(s["time"])
        self.stage = int(s["stage"])
        self.connection_lost = np.array(s["connection_lost"], float)
        self.bridge_rupture = np.array(s["bridge_rupture"], float)

    def observables(self) -> dict:
        return {**self.fast.observables(), "time": self.time}

    def state(self):
        return self.fast.state()

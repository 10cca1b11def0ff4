"""Synthetic granular soils: sand packings, liquid configurations and mucilage bridges.

Three seeded steps, each documented by its rule:

1. :func:`sand_packing` — polydisperse discs (2D) or spheres (3D) placed by random
   sequential addition in a periodic box, largest first, each allowed to overlap its
   neighbours by a fraction ``overlap`` of the sum of radii (so that grains touch and form
   contacts and necks). All grains are then grown or shrunk by one common distance so that
   the voxel porosity equals the target exactly: the solid is ``{s(x) < t}`` where ``s`` is
   the signed distance to the nearest grain surface and ``t`` is the quantile of ``s`` at
   the solid fraction.
2. :func:`liquid_configuration` — the liquid at a target volumetric water content by one
   of two rules that rank the pore voxels and fill the lowest-ranked ones:

   ``"film"`` (default): water wets the grains as films of uniform thickness, i.e. it
   takes the pore voxels nearest to a grain surface; films of neighbouring grains merge
   across gaps narrower than twice their thickness. This mimics the wetting layers and
   pendular water of a strongly hydrophilic sand seen in a 2D section.

   ``"drainage"``: morphological (capillary-equilibrium) drainage. Every pore voxel gets
   its local pore size ``R(x)``, the radius of the largest disc/sphere inscribed in the
   pore space that covers it (the local thickness). Drainage at capillary pressure
   ``p_c = 2 gamma/r`` (3D) or ``gamma/r`` (2D) empties every voxel with ``R >= r``; the
   water is the pore voxels with the smallest ``R``. The sample is periodic and air
   reaches every pore (no trapping, no inlet face); zero contact angle. In 2D sections
   this leaves water in disconnected throats up to theta ~ 0.25 at porosity 0.41 (the
   grains are islands in 2D), so the film rule is the default for 2D sections.

   Ties are broken by the distance to the nearest grain (nearer keeps water).
3. Mucilage bridges (``mucilage_fraction`` of the liquid): the water, ``(1 - f) theta``,
   is placed first by the liquid rule; mucilage then occupies the pore voxels left with
   the smallest *neck gap* ``w = s1 + s2``, the sum of the distances to the surfaces of
   the nearest and the second-nearest grain. ``w`` is 0 at a grain contact and small in
   the narrow gaps between neighbouring grains, so the mucilage forms bridges across the
   narrowest necks the water does not fill, connecting water clusters. This mimics
   mucilage that stays in contacts and necks as the soil dries (Carminati et al. 2017;
   Benard et al. 2019), without its polymer mechanics (that is the bead-spring model of
   DESIGN §5).

References
----------
Hilpert, M., & Miller, C. T. (2001). Pore-morphology-based simulation of drainage in
totally wetting porous media. Advances in Water Resources, 24, 243–255.
Carminati, A., Benard, P., Ahmed, M. A., & Zarebanadkouki, M. (2017). Liquid bridges at
the root-soil interface. Plant and Soil, 417, 1–15.
Benard, P., Zarebanadkouki, M., Brax, M., Kaltenbach, R., Jerjen, I., Marone, F., Couradeau,
E., Felde, V. J. M. N. L., Kaestner, A., & Carminati, A. (2019). Microhydrological niches
in soils: how mucilage and EPS alter the biophysical properties of the rhizosphere and
other biological hotspots. Vadose Zone Journal, 18, 180211.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from ...errors import InputError
from ...core.image import Image, Phase

__all__ = ["AIR", "SOLID", "WATER", "MUCILAGE", "granular_phases", "GranularPacking",
           "sand_packing", "local_pore_size", "neck_gap", "liquid_configuration"]

#: labels of the phases of granular images (see :func:`granular_phases`)
AIR, SOLID, WATER, MUCILAGE = 0, 1, 2, 3


def granular_phases(d_water: float = 1.0, d_mucilage: float = 0.5) -> tuple[Phase, ...]:
    """Phase table of a granular image: air and solid (D = 0), water, mucilage.

    Parameters
    ----------
    d_water, d_mucilage : float
        Diffusivities of water and mucilage (relative to free water by default: 1 and 0.5).

    Returns
    -------
    tuple of Phase
        Labels ``AIR`` = 0, ``SOLID`` = 1, ``WATER`` = 2, ``MUCILAGE`` = 3.

    Examples
    --------
    >>> from rhizoscale.image.generators.granular import granular_phases
    >>> [(p.name, p.label, p.diffusivity) for p in granular_phases()]
    [('air', 0, 0.0), ('solid', 1, 0.0), ('water', 2, 1.0), ('mucilage', 3, 0.5)]
    """
    return (Phase("air", AIR, 0.0, "air"), Phase("solid", SOLID, 0.0, "solid"),
            Phase("water", WATER, float(d_water), "water"),
            Phase("mucilage", MUCILAGE, float(d_mucilage), "mucilage"))


@dataclass(frozen=True, eq=False)
class GranularPacking:
    """A periodic packing of discs/spheres and its voxel image.

    Made by :func:`sand_packing`; :func:`liquid_configuration` fills its pores.

    Attributes
    ----------
    image : Image
        Labels ``SOLID`` and ``WATER`` (saturated pore space) with :func:`granular_phases`.
    centers : (n, ndim) array
        Grain centres [cm], array-axis order, in the periodic box ``[0, L)``.
    radii : (n,) array
        Grain radii after the porosity adjustment [cm].
    box : (ndim,) array
        Box edge lengths [cm].
    info : dict
        Generator details (seed, target and achieved porosity, radius adjustment).

    Examples
    --------
    >>> from rhizoscale.image.generators import sand_packing
    >>> packing = sand_packing((60, 60), 1e-3, porosity=0.41, mean_radius=0.01, seed=0)
    >>> packing.porosity, packing.box, packing.centers.shape    # [1], [cm], 4 grains in 2D
    (0.41, array([0.06, 0.06]), (4, 2))
    """

    image: Image
    centers: np.ndarray
    radii: np.ndarray
    box: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def porosity(self) -> float:
        return float(np.mean(self.image.labels != SOLID))


def _voxel_centres(shape, voxel_size):
    grids = np.meshgrid(*[(np.arange(n) + 0.5) * h for n, h in zip(shape, voxel_size)],
                        indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def _surface_distances(points, centers, radii, box, k):
    """Distances to the surfaces of the k nearest grains (sorted), periodic box."""
    tree = cKDTree(centers, boxsize=box)
    k = min(k, len(centers))
    dist, idx = tree.query(points, k=k)
    dist = dist.reshape(len(points), k)
    idx = idx.reshape(len(points), k)
    s = dist - radii[idx]
    s.sort(axis=1)
    return s


def sand_packing(shape, voxel_size, porosity: float = 0.41, mean_radius: float = 0.025,
                 radius_cv: float = 0.3, overlap: float = 0.05, seed: int = 0,
                 max_failures: int = 2000) -> GranularPacking:
    """A periodic sand packing (discs in 2D, spheres in 3D) at an exact voxel porosity.

    Grains are placed by random sequential addition (largest first, overlap at most
    ``overlap`` times the sum of the radii), then all grown or shrunk by one distance
    so that the voxel porosity matches ``porosity``.

    Parameters
    ----------
    shape : tuple of int
        Image shape (2 or 3 axes).
    voxel_size : float or sequence
        Voxel edge length per axis [cm].
    porosity : float
        Target porosity [-] (met to one voxel).
    mean_radius : float
        Mean grain radius [cm] (lognormal radii).
    radius_cv : float
        Coefficient of variation of the radii [-].
    overlap : float
        Largest allowed overlap of two grains as a fraction of the sum of their radii [-].
    seed : int
        Random seed.
    max_failures : int
        Consecutive rejected positions after which the addition stops.

    Returns
    -------
    GranularPacking
        The grains and their image (solid and water-filled pores).

    Raises
    ------
    InputError
        Bad shape, porosity outside (0, 1), or bad radius parameters.

    Examples
    --------
    >>> from rhizoscale.image.generators import sand_packing
    >>> packing = sand_packing((100, 100), 1e-3, porosity=0.41, mean_radius=0.01, seed=0)   # 1 x 1 mm
    >>> packing.porosity, len(packing.radii) > 10
    (0.41, True)
    """
    shape = tuple(int(n) for n in shape)
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise InputError(f"shape must have 2 or 3 positive axes, got {shape}", field="shape")
    if not 0 < porosity < 1:
        raise InputError(f"porosity must be in (0, 1), got {porosity}", field="porosity")
    if mean_radius <= 0 or radius_cv < 0 or not 0 <= overlap < 1:
        raise InputError("mean_radius must be > 0, radius_cv >= 0, overlap in [0, 1)",
                         field="mean_radius")
    ndim = len(shape)
    h = np.broadcast_to(np.asarray(voxel_size, dtype=float), (ndim,)).copy()
    box = np.asarray(shape) * h
    if mean_radius < 2 * h.max():
        raise InputError(f"grains of radius {mean_radius} cm are under 2 voxels across",
                         field="mean_radius")
    rng = np.random.default_rng(seed)
    sigma = np.sqrt(np.log(1 + radius_cv**2))
    unit = np.pi if ndim == 2 else 4 * np.pi / 3
    n_target = int(np.ceil(2 * (1 - porosity) * np.prod(box) / (unit * mean_radius**ndim))) + 8
    radii = np.sort(mean_radius * np.exp(sigma * rng.standard_normal(n_target)
                                         - sigma**2 / 2))[::-1]
    radii = np.minimum(radii, 0.45 * box.min())
    centers = np.empty((0, ndim))
    placed = []
    solid_volume = 0.0
    failures = 0
    for r in radii:
        if solid_volume >= (1 - porosity) * np.prod(box) * 1.15 or failures > max_failures:
            break
        while failures <= max_failures:
            c = rng.random(ndim) * box
            if len(placed):
                delta = np.abs(centers - c)
                delta = np.minimum(delta, box - delta)
                dist = np.sqrt(np.sum(delta**2, axis=1))
                if np.any(dist < (1 - overlap) * (np.asarray(placed) + r)):
                    failures += 1
                    continue
            centers = np.vstack([centers, c])
            placed.append(r)
            solid_volume += unit * r**ndim
            failures = 0
            break
    radii = np.asarray(placed)
    points = _voxel_centres(shape, h)
    s = _surface_distances(points, centers, radii, box, k=1)[:, 0]
    t = float(np.quantile(s, 1 - porosity))
    solid = (s < t).reshape(shape)
    labels = np.where(solid, SOLID, WATER).astype(np.uint8)
    image = Image(labels, tuple(h), granular_phases(), {
        "source": "sand_packing", "generator": "rhizoscale.image.generators.granular.sand_packing",
        "seed": seed, "porosity_target": porosity, "mean_radius_cm": mean_radius})
    return GranularPacking(image=image, centers=centers, radii=radii + t, box=box,
                           info={"n_grains": len(radii), "growth_cm": t})


def local_pore_size(pore: np.ndarray, voxel_size=1.0, periodic: bool = True,
                    levels: int = 64) -> np.ndarray:
    """Local thickness: radius of the largest inscribed disc/sphere covering each pore voxel.

    The basis of the ``"drainage"`` liquid rule (Hilpert & Miller 2001): at a capillary
    pressure, water fills the pores whose local thickness is below the matching radius.

    Parameters
    ----------
    pore : bool array
        Pore voxels.
    voxel_size : float or sequence
        Voxel size per axis [cm].
    periodic : bool
        Treat the image as periodic (padded by wrapping before the distance transforms).
    levels : int
        Number of radii tested (quantiles of the distance map); ``R`` is exact on them.

    Returns
    -------
    float array
        ``R(x)`` [cm] in pore voxels, 0 elsewhere.

    References
    ----------
    Hilpert, M., & Miller, C. T. (2001). Pore-morphology-based simulation of drainage in
    totally wetting porous media. Adv. Water Resour., 24, 243–255.

    Examples
    --------
    A slit 5 voxels wide. Radii are distances between voxel centres (the distance transform),
    so the largest is 3 voxels, half a voxel more than the slit's geometric half-width:

    >>> import numpy as np
    >>> from rhizoscale.image.generators import local_pore_size
    >>> pore = np.zeros((20, 20), bool)
    >>> pore[5:10, :] = True
    >>> float(local_pore_size(pore, voxel_size=1.0).max())
    3.0
    """
    pore = np.asarray(pore, dtype=bool)
    h = np.broadcast_to(np.asarray(voxel_size, dtype=float), (pore.ndim,))
    dist0 = ndimage.distance_transform_edt(pore, sampling=h)
    pad = [(0, 0)] * pore.ndim
    if periodic:
        rmax = float(dist0.max())
        pad = [(min(n, int(np.ceil(2 * rmax / hh)) + 1),) * 2 for n, hh in zip(pore.shape, h)]
        pore_p = np.pad(pore, pad, mode="wrap")
        dist = ndimage.distance_transform_edt(pore_p, sampling=h)
    else:
        pore_p, dist = pore, dist0
    inner = tuple(slice(a, a + n) for (a, _), n in zip(pad, pore.shape))
    values = dist[pore_p]
    if values.size == 0:
        return np.zeros(pore.shape)
    radii = np.unique(np.quantile(values, np.linspace(0, 1, levels + 1)[1:]))[::-1]
    size = np.zeros(pore_p.shape)
    for r in radii:
        centres = dist >= r
        if not centres.any():
            continue
        covered = ndimage.distance_transform_edt(~centres, sampling=h) < r
        size[covered & (size == 0) & pore_p] = r
    return size[inner]


def neck_gap(packing: GranularPacking) -> np.ndarray:
    """Neck gap ``w = s1 + s2`` [cm] of every voxel: distances to the two nearest grain surfaces.

    Mucilage bridges are placed where this gap is smallest (the narrowest necks between
    grains); see :func:`liquid_configuration`.

    Parameters
    ----------
    packing : GranularPacking
        The grains.

    Returns
    -------
    float array
        Gap [cm] per voxel, the image's shape.

    Examples
    --------
    >>> from rhizoscale.image.generators import neck_gap, sand_packing
    >>> packing = sand_packing((60, 60), 1e-3, mean_radius=0.01, seed=0)
    >>> neck_gap(packing).shape
    (60, 60)
    """
    img = packing.image
    points = _voxel_centres(img.shape, img.voxel_size)
    s = _surface_distances(points, packing.centers, packing.radii, packing.box, k=12)
    return (np.maximum(s[:, 0], 0) + np.maximum(s[:, 1], 0)).reshape(img.shape)


def _lowest(score: np.ndarray, tiebreak: np.ndarray, candidates: np.ndarray, count: int):
    """Mask of the ``count`` candidate voxels with the smallest (score, tiebreak)."""
    flat = np.flatnonzero(candidates)
    order = np.lexsort((tiebreak.ravel()[flat], score.ravel()[flat]))
    out = np.zeros(candidates.size, dtype=bool)
    out[flat[order[:count]]] = True
    return out.reshape(candidates.shape)


def liquid_configuration(packing: GranularPacking, water_content: float,
                         mucilage_fraction: float = 0.0, *, rule: str = "film",
                         d_water: float = 1.0, d_mucilage: float = 0.5,
                         pore_size: np.ndarray | None = None) -> Image:
    """Air, water and mucilage in the pores of a packing at a target water content.

    Parameters
    ----------
    packing : GranularPacking
        Grains and their image.
    water_content : float
        Volumetric liquid content theta [cm^3 cm^-3] (water + mucilage, per bulk volume).
    mucilage_fraction : float
        Share of the liquid that is mucilage, placed as bridges at the necks [-].
    rule : {"film", "drainage"}
        How the water is placed (module docstring): ``"film"`` — the pore voxels nearest
        to a grain (wetting films); ``"drainage"`` — the voxels of smallest local pore
        size (capillary equilibrium).
    d_water, d_mucilage : float
        Phase diffusivities written into the phase table.
    pore_size : array, optional
        Precomputed :func:`local_pore_size` of the packing for ``rule="drainage"``
        (reused across water contents).

    Returns
    -------
    Image
        Labels ``AIR``, ``SOLID``, ``WATER``, ``MUCILAGE``; metadata record the rule and the
        achieved contents (exact to one voxel).

    Raises
    ------
    InputError
        Water content above the porosity or negative, mucilage share outside [0, 1], or an
        unknown rule.

    Examples
    --------
    >>> from rhizoscale.image.generators import liquid_configuration, sand_packing
    >>> packing = sand_packing((100, 100), 1e-3, porosity=0.41, mean_radius=0.01, seed=0)
    >>> image = liquid_configuration(packing, 0.2, mucilage_fraction=0.1)
    >>> {name: round(f, 3) for name, f in image.volume_fractions().items()}
    {'air': 0.21, 'solid': 0.59, 'water': 0.18, 'mucilage': 0.02}
    """
    img = packing.image
    pore = img.labels != SOLID
    phi = float(pore.mean())
    if rule not in ("film", "drainage"):
        raise InputError(f"unknown liquid rule {rule!r}; use 'film' or 'drainage'", field="rule")
    if not 0 <= water_content <= phi + 1e-12:
        raise InputError(f"water content {water_content} must be in [0, porosity = {phi:.4f}]",
                         field="water_content")
    if not 0 <= mucilage_fraction <= 1:
        raise InputError(f"mucilage fraction must be in [0, 1], got {mucilage_fraction}",
                         field="mucilage_fraction")
    n_liquid = min(int(round(water_content * img.labels.size)), int(pore.sum()))
    n_muc = int(round(mucilage_fraction * n_liquid))
    wall_distance = ndimage.distance_transform_edt(pore, sampling=img.voxel_size)
    if rule == "drainage":
        score = local_pore_size(pore, img.voxel_size) if pore_size is None else pore_size
    else:
        score = wall_distance
    labels = np.where(pore, AIR, SOLID).astype(np.uint8)
    water = _lowest(score, wall_distance, pore, n_liquid - n_muc)
    labels[water] = WATER
    if n_muc:
        muc = _lowest(neck_gap(packing), wall_distance, labels == AIR, n_muc)
        labels[muc] = MUCILAGE
    return Image(labels, img.voxel_size, granular_phases(d_water, d_mucilage), {
        **img.metadata, "source": "liquid_configuration", "liquid_rule": rule,
        "mucilage_rule": "bridges at the smallest neck gap among the voxels left by water",
        "water_content": float(np.mean(labels == WATER) + np.mean(labels == MUCILAGE)),
        "mucilage_content": float(np.mean(labels == MUCILAGE)), "porosity": phi})

"""Mucilage structures placed into a liquid configuration image: bridges across open necks.

The rule (what :func:`place_mucilage_bridges` does, stated once):

1. *Volume.* The mucilage occupies ``round(mucilage_content * N)`` voxels of an image of
   ``N`` voxels (``mucilage_content`` is the mucilage volume per bulk volume,
   cm³ cm⁻³). In the diffusivity chain the liquid content is ``theta = water +
   mucilage``, the water being placed first at ``(1 - f) theta`` by a liquid rule and
   the mucilage then at ``f theta``.
2. *Where.* Mucilage goes only into voxels that hold no water and no solid. Every such
   voxel gets its two nearest grains ``i, j`` and its *neck gap* ``w = s_i + s_j`` (the
   distances to their surfaces). Voxels whose two nearest grains touch or overlap
   (pair gap ``g_ij <= 0``: a contact, whose wedge holds pendular water) or are further
   apart than ``max_gap`` are not bridge sites. Bridge sites are filled in increasing
   ``w`` (ties: nearer to a grain first): each open neck gets a bridge spanning it along
   the line of the centres first, narrow necks before wide ones, and a bridge fattens
   until its ``w`` reaches the next neck's gap (one common level, as a capillary
   pressure would set).
3. *Left over.* If the bridge sites cannot hold the volume, the rest fills the remaining
   air voxels in increasing ``w`` (the contact wedges), so the volume is always exact.

Why necks that do not touch: the polymer network grips both particle surfaces and,
as the soil dries, keeps spanning the gap as filaments and hollow cylinders after the
water bridge there has ruptured (Benard et al. 2018; Carminati et al. 2017); the bead–
spring model of this package (:mod:`.bridge`, :mod:`.drying`) shows such bridges staying
connected below Lian's rupture volume at 3 mg/g and above. Contacts hold water as
pendular rings at every water content, so mucilage there adds no connection. How wide a
neck a bridge spans comes from the network model: ``max_gap_ratio`` is the network's
spanning gap over the grain radius at the mucilage concentration
(:func:`rhizoscale.mucilage.span.network_span`, one drying search per concentration, cached), applied to
each neck's pair radius ``2 r_i r_j / (r_i + r_j)`` (vectorised over the voxels);
``max_gap`` is an absolute cap a user may set instead.

Grains come from a generated packing (centres and radii) or from a segmented image by
:func:`grains_from_image` (inscribed spheres at the maxima of the solid's distance map).

References
----------
Benard, P., Kroener, E., Vontobel, P., Kaestner, A., & Carminati, A. (2016). Water
percolation through the root-soil interface. Advances in Water Resources, 95, 190–198.
Benard, P., Zarebanadkouki, M., Hedwig, C., Holz, M., Ahmed, M. A., & Carminati, A.
(2018). Pore-scale distribution of mucilage affecting water repellency in the
rhizosphere. Vadose Zone Journal, 17, 170013.
Carminati, A., Benard, P., Ahmed, M. A., & Zarebanadkouki, M. (2017). Liquid bridges at
the root-soil interface. Plant and Soil, 417, 1–15.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from ..core.image import Image
from ..errors import InputError
from ..image.generators.granular import AIR, MUCILAGE, SOLID, WATER, granular_phases

__all__ = ["Grains", "grains_from_image", "neck_geometry", "place_mucilage_bridges"]


@dataclass(frozen=True)
class Grains:
    """Spherical (3D) or disc (2D) grains in a periodic box, array-axis order.

    Attributes
    ----------
    centers : (n, ndim) array
        Centres [cm] in ``[0, box)``.
    radii : (n,) array
        Radii [cm].
    box : (ndim,) array
        Box edge lengths [cm].

    Examples
    --------
    >>> from rhizoscale.image.generators import sand_packing
    >>> p = sand_packing((60, 60), 1e-3, mean_radius=0.01, seed=0)
    >>> Grains(p.centers, p.radii, p.box).centers.shape
    (4, 2)
    """

    centers: np.ndarray
    radii: np.ndarray
    box: np.ndarray


def grains_from_image(solid: np.ndarray, voxel_size, min_radius: float | None = None) -> Grains:
    """Approximate grains of a segmented image: inscribed spheres at maxima of the distance map.

    The local maxima of the solid's Euclidean distance map (3-voxel neighbourhood,
    periodic) are candidate centres, radius = the distance there; candidates are taken
    largest first and dropped when their centre lies inside an accepted grain. Touching
    grains therefore stay separate grains (their contact is a neck of gap <= 0).

    Parameters
    ----------
    solid : bool array
        Solid voxels (2D or 3D).
    voxel_size : float or sequence
        Voxel edge per axis [cm].
    min_radius : float, optional
        Smallest grain radius kept [cm] (default: 1.5 voxels).

    Returns
    -------
    Grains

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[:40, :40]
    >>> solid = ((yy - 20) ** 2 + (xx - 12) ** 2 < 64) | ((yy - 20) ** 2 + (xx - 28) ** 2 < 36)
    >>> g = grains_from_image(solid, 1.0)
    >>> g.centers.tolist(), g.radii.round(1).tolist()
    ([[20.5, 12.5], [20.5, 28.5]], [8.0, 6.0])
    """
    solid = np.asarray(solid, bool)
    h = np.broadcast_to(np.asarray(voxel_size, float), (solid.ndim,))
    pad = [(4, 4)] * solid.ndim
    edt = ndimage.distance_transform_edt(np.pad(solid, pad, mode="wrap"), sampling=h)
    edt = edt[tuple(slice(4, -4) for _ in range(solid.ndim))]
    r_min = 1.5 * h.max() if min_radius is None else float(min_radius)
    peak = (edt == ndimage.maximum_filter(edt, size=3, mode="wrap")) & (edt >= r_min)
    idx = np.argwhere(peak)
    rad = edt[peak]
    order = np.lexsort(tuple(idx.T[::-1]) + (-rad,))     # largest first, then by position
    idx, rad = idx[order], rad[order]
    centers = (idx + 0.5) * h
    box = np.asarray(solid.shape) * h
    keep = np.ones(len(rad), bool)
    if len(rad):
        tree = cKDTree(centers, boxsize=box)
        for k in range(len(rad)):       # over candidate grains (tens to thousands), not voxels
            if keep[k]:
                inside = tree.query_ball_point(centers[k], rad[k])
                inside = [j for j in inside if j > k]
                keep[inside] = False
    return Grains(centers[keep], rad[keep], box)


def neck_geometry(shape, voxel_size, grains: Grains, *, pair_radius: bool = False):
    """Neck gap ``w`` and pair gap ``g`` [cm] of every voxel (periodic box).

    ``w = max(s_i, 0) + max(s_j, 0)`` with ``s_i <= s_j`` the distances to the surfaces of
    the two nearest grains ``i, j``; ``g = |c_i - c_j| - r_i - r_j`` the surface gap of
    that pair (<= 0 for touching or overlapping grains); with ``pair_radius`` also the
    pair's Derjaguin radius ``2 r_i r_j / (r_i + r_j)`` [cm].

    Parameters
    ----------
    shape : tuple of int
        Image shape.
    voxel_size : float or sequence
        Voxel edge per axis [cm].
    grains : Grains
        The grains.

    pair_radius : bool
        Also return the pair radius of every voxel.

    Returns
    -------
    (w, g) or (w, g, r_pair) : float arrays of ``shape``

    Examples
    --------
    Two discs of radius 5 with a 4-voxel gap: the neck gap on the line of centres is the gap.

    >>> import numpy as np
    >>> g = Grains(np.array([[20.0, 10.0], [20.0, 24.0]]), np.array([5.0, 5.0]), np.array([40.0, 40.0]))
    >>> w, gap = neck_geometry((40, 40), 1.0, g)
    >>> round(float(w[19, 16]), 3), float(gap[19, 16])     # voxel centre (19.5, 16.5), off-axis by 0.5
    (4.036, 4.0)
    """
    shape = tuple(int(n) for n in shape)
    h = np.broadcast_to(np.asarray(voxel_size, float), (len(shape),))
    n = len(grains.radii)
    if n < 2:
        raise InputError("a neck needs at least two grains", field="grains")
    grids = np.meshgrid(*[(np.arange(m) + 0.5) * hh for m, hh in zip(shape, h)], indexing="ij")
    points = np.stack([g.ravel() for g in grids], axis=1)
    k = min(12, n)      # surface distance ranks differ from centre distance ranks for unequal radii
    dist, idx = cKDTree(grains.centers, boxsize=grains.box).query(points, k=k)
    s = dist - grains.radii[idx]
    order = np.argsort(s, axis=1, kind="stable")[:, :2]
    i1 = np.take_along_axis(idx, order[:, :1], 1)[:, 0]
    i2 = np.take_along_axis(idx, order[:, 1:2], 1)[:, 0]
    s12 = np.take_along_axis(s, order, 1)
    w = np.maximum(s12[:, 0], 0) + np.maximum(s12[:, 1], 0)
    delta = np.abs(grains.centers[i1] - grains.centers[i2])
    delta = np.minimum(delta, grains.box - delta)
    gap = np.sqrt(np.sum(delta**2, axis=1)) - grains.radii[i1] - grains.radii[i2]
    if pair_radius:
        r1, r2 = grains.radii[i1], grains.radii[i2]
        return w.reshape(shape), gap.reshape(shape), (2 * r1 * r2 / (r1 + r2)).reshape(shape)
    return w.reshape(shape), gap.reshape(shape)


def place_mucilage_bridges(image: Image, mucilage_content: float, grains: Grains, *,
                           max_gap: float = np.inf, max_gap_ratio: float | None = None,
                           d_mucilage: float | None = None, neck: tuple | None = None) -> Image:
    """Add mucilage bridges across open necks to a water/air/solid image (module docs: the rule).

    Parameters
    ----------
    image : Image
        Labels ``AIR``, ``SOLID``, ``WATER`` (and ``MUCILAGE``, kept) of
        :func:`rhizoscale.image.generators.granular_phases`.
    mucilage_content : float
        Mucilage volume per bulk volume to add [cm³ cm⁻³].
    grains : Grains
        The grains of the image (a generated packing's or :func:`grains_from_image`).
    max_gap : float
        Widest neck (surface gap of the grain pair) a bridge spans [cm].
    max_gap_ratio : float or array of the image's shape, optional
        Widest neck per pair radius [1]: a neck of grains ``i, j`` is a site when its gap is
        at most ``max_gap_ratio * 2 r_i r_j / (r_i + r_j)`` (and at most ``max_gap``); the
        network's spanning gap over the grain radius (:func:`rhizoscale.mucilage.span.network_span`),
        one number or one per voxel (searches per class of pair radius).
    d_mucilage : float, optional
        Mucilage diffusivity written into the phase table (default: the image's).
    neck : (w, g) or (w, g, r_pair), optional
        Precomputed :func:`neck_geometry` (reused across water contents; with the pair
        radius when ``max_gap_ratio`` is given).

    Returns
    -------
    Image
        The image with ``MUCILAGE`` voxels; metadata record the rule, the contents and the
        share of the mucilage that sits on bridge sites.

    Raises
    ------
    InputError
        Negative content, or more mucilage than air voxels.

    Examples
    --------
    >>> from rhizoscale.image.generators import liquid_configuration, sand_packing
    >>> p = sand_packing((100, 100), 1e-3, porosity=0.41, mean_radius=0.01, seed=0)
    >>> water = liquid_configuration(p, 0.17)
    >>> img = place_mucilage_bridges(water, 0.02, Grains(p.centers, p.radii, p.box))
    >>> {k: round(v, 3) for k, v in img.volume_fractions().items()}
    {'air': 0.22, 'solid': 0.59, 'water': 0.17, 'mucilage': 0.02}
    """
    if not mucilage_content >= 0:
        raise InputError(f"mucilage content must be >= 0, got {mucilage_content}", field="mucilage_content")
    labels = image.labels.copy()
    n = int(round(mucilage_content * labels.size))
    air = labels == AIR
    if n > int(air.sum()):
        raise InputError(f"mucilage content {mucilage_content:g} exceeds the air left in the image "
                         f"({air.mean():.4g})", field="mucilage_content")
    on_bridges = 0
    if n:
        if neck is None or (max_gap_ratio is not None and len(neck) < 3):
            neck = neck_geometry(labels.shape, image.voxel_size, grains, pair_radius=max_gap_ratio is not None)
        w, gap = neck[0], neck[1]
        wall = ndimage.distance_transform_edt(labels != SOLID, sampling=image.voxel_size)
        sites = air & (gap > 0) & (gap <= max_gap)
        if max_gap_ratio is not None:
            ratio = np.asarray(max_gap_ratio, float)
            if ratio.ndim and ratio.shape != labels.shape:
                raise InputError(f"max_gap_ratio: shape {ratio.shape} is not the image's {labels.shape}",
                                 field="max_gap_ratio")
            sites &= gap <= ratio * neck[2]
        bridge = _lowest(w, wall, sites, n)
        on_bridges = int(bridge.sum())
        rest = _lowest(w, wall, air & ~bridge, n - on_bridges)
        labels[bridge | rest] = MUCILAGE
    phases = image.phases
    if d_mucilage is not None:
        d_water = next((p.diffusivity for p in phases if p.label == WATER), 1.0)
        phases = granular_phases(d_water, d_mucilage)
    return Image(labels, image.voxel_size, phases, {
        **image.metadata, "mucilage_rule": "bridges across open necks in increasing neck gap "
        "(rhizoscale.mucilage.placement)", "max_bridge_gap_cm": float(max_gap),
        "max_bridge_gap_over_pair_radius": -1.0 if max_gap_ratio is None else float(np.max(max_gap_ratio)),
        "water_content": float(np.mean((labels == WATER) | (labels == MUCILAGE))),
        "mucilage_content": float(np.mean(labels == MUCILAGE)),
        "mucilage_on_bridges": on_bridges / n if n else 1.0})


def _lowest(score: np.ndarray, tiebreak: np.ndarray, candidates: np.ndarray, count: int) -> np.ndarray:
    """Mask of the ``count`` candidates with the smallest ``(score, tiebreak)`` (fewer if short)."""
    flat = np.flatnonzero(candidates)
    order = np.lexsort((tiebreak.ravel()[flat], score.ravel()[flat]))
    out = np.zeros(candidates.size, dtype=bool)
    out[flat[order[:count]]] = True
    return out.reshape(candidates.shape)

"""The mucilage structure left between two particles: a labelled image and its kind.

:func:`bridge_image` voxelises the particles, the liquid bridge and the beads into an
:class:`~rhizoscale.core.Image` (phases air, solid, water, mucilage; diffusivities
relative to free water, mucilage 0.5 as in the design brief §5), the form in which a
homogenisation reads pore-scale structures. :func:`classify_structure` names what the
polymer formed in the gap: a filament (filled cross-section), a hollow cylinder (an
annulus around an empty core) or a film (polymer left on the particle surfaces).

Lengths: the model's in µm, the image's voxel size in cm (project convention).
"""

from __future__ import annotations

import numpy as np

from ..core.image import Image, Phase
from .bridge import meniscus_distance

__all__ = ["bridge_image", "classify_structure", "MUCILAGE_PHASES"]

#: phases of a bridge image (label, diffusivity relative to free water)
MUCILAGE_PHASES = (Phase("air", 0, 0.0, "air"), Phase("solid", 1, 0.0, "solid"),
                   Phase("water", 2, 1.0, "water"), Phase("mucilage", 3, 0.5, "mucilage"))


def bridge_image(model, voxel_size: float = 1.0, margin: float = 5.0) -> Image:
    """The pore between the two particles as a labelled 3D image.

    Parameters
    ----------
    model : MucilageBridgeModel
    voxel_size : float
        Voxel edge [µm].
    margin : float
        Depth into each particle and around the bridge [µm].

    Returns
    -------
    Image
        Labels air 0, solid 1, water 2 (the bridge while intact), mucilage 3 (voxels
        whose centre lies within the nearest bead's radius, at least half a voxel
        diagonal so that dried beads stay visible); voxel size in cm, origin at the
        lower corner (cm). Axes (z, y, x) with x along the particle line when the
        particles lie on the x axis.
    """
    c = model.centres
    mid = c.mean(axis=0)
    half_x = 0.5 * model.separation + margin
    net = model.network
    reach = model._bridge.r1 + model._bridge.r2 if model.bridge_intact else 0.0
    if net.n:
        reach = max(reach, float(np.max(np.linalg.norm((net.pos - mid)[:, 1:], axis=1))))
    half_yz = max(reach, 2 * voxel_size) + margin
    lower = mid - np.array([half_x, half_yz, half_yz])
    shape = np.maximum(np.ceil(2 * np.array([half_x, half_yz, half_yz]) / voxel_size).astype(int), 1)
    xs, ys, zs = (lower[k] + (np.arange(shape[k]) + 0.5) * voxel_size for k in range(3))
    Z, Y, X = np.meshgrid(zs, ys, xs, indexing="ij")
    pts = np.stack([X.ravel(), Y.ravel(), Z.ravel()], axis=1)
    labels = np.zeros(len(pts), np.uint8)
    if model.bridge_intact:
        s, _ = meniscus_distance(pts, model._bridge, c)
        labels[s < 0] = 2
    if net.n:
        from scipy.spatial import cKDTree
        dist, idx = cKDTree(net.pos).query(pts, k=1)
        r = np.maximum(net.radius[idx], 0.5 * np.sqrt(3) * voxel_size)
        labels[dist <= r] = 3
    solid = np.any(np.linalg.norm(pts[:, None, :] - c[None], axis=2) < model.radius, axis=1)
    labels[solid] = 1
    labels = labels.reshape(shape[2], shape[1], shape[0])
    return Image(labels, voxel_size * 1e-4, MUCILAGE_PHASES,
                 {"source": "rhizoscale.mucilage", "concentration_mg_per_g": model.concentration},
                 tuple(lower * 1e-4))


def classify_structure(model) -> dict:
    """What the polymer formed between the particles.

    In the slab of the gap (``|x| <= separation / 2`` along the particle line):
    ``film`` when less than 5 % of the polymer lies in it (the polymer stays on the
    particle surfaces); else ``hollow cylinder`` when fewer than 5 % of the slab's beads lie
    closer to the axis than half their median radial distance (an annulus; a filled
    disc has 12.5 %), else ``filament``; ``none`` without beads.

    Returns
    -------
    dict
        ``kind``, ``gap_polymer_fraction`` [1], ``core_fraction`` [1] and
        ``median_radius`` [µm] of the beads in the slab.
    """
    net = model.network
    if net.n == 0:
        return {"kind": "none", "gap_polymer_fraction": 0.0, "core_fraction": float("nan"),
                "median_radius": float("nan")}
    c = model.centres
    mid = c.mean(axis=0)
    axis = (c[1] - c[0]) / np.linalg.norm(c[1] - c[0])
    rel = net.pos - mid
    x = rel @ axis
    rho = np.linalg.norm(rel - x[:, None] * axis, axis=1)
    slab = np.abs(x) <= 0.5 * model.separation
    frac = float(net.polymer[slab].sum() / net.polymer.sum())
    if frac < 0.05 or slab.sum() < 4:
        return {"kind": "film", "gap_polymer_fraction": frac, "core_fraction": float("nan"),
                "median_radius": float("nan")}
    med = float(np.median(rho[slab]))
    core = float(np.mean(rho[slab] < 0.5 * med))
    return {"kind": "hollow cylinder" if core < 0.05 else "filament", "gap_polymer_fraction": frac,
            "core_fraction": core, "median_radius": med}

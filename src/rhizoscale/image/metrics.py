"""Measurements on labelled images: phase volumes, interface areas, distance maps and
profiles of a field against the distance from a surface."""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import ndimage

from ..errors import InputError
from ._image import Image

__all__ = ["phase_volumes", "interface_area", "surface_area", "contact_fractions",
           "distance_from", "profile_by_distance", "distance_below"]


def _as_mask(image: Image, names) -> np.ndarray:
    names = (names,) if isinstance(names, str) else tuple(names)
    valid = {p.name for p in image.phases} | {p.role for p in image.phases}
    bad = [n for n in names if n not in valid]
    if bad:
        raise InputError(f"no phase or role named {bad} (phases: "
                         f"{', '.join(p.name for p in image.phases)})",
                         source=image.metadata.get("source", "image"))
    return image.mask(*names)


def phase_volumes(image: Image) -> dict[str, float]:
    """Volume of each phase [cm^3] (area [cm^2] for 2D images)."""
    return {p.name: float(np.count_nonzero(image.labels == p.label) * image.voxel_volume)
            for p in image.phases}


def _face_areas(image: Image) -> np.ndarray:
    vs = np.asarray(image.voxel_size)
    return np.array([np.prod(np.delete(vs, a)) for a in range(image.ndim)])


def interface_area(image: Image, a, b) -> float:
    """Area of the voxel faces shared by phases ``a`` and ``b`` [cm^2] (face counting).

    ``a`` and ``b`` are phase names or roles (or sequences of them). Face counting
    measures a staircase: for an isotropic random surface it over-estimates the true area
    by about 3/2 (Cauchy's formula), for a surface aligned with the grid it is exact;
    ratios of areas (contact fractions) are much less biased than the areas themselves.
    """
    ma, mb = _as_mask(image, a), _as_mask(image, b)
    areas = _face_areas(image)
    total = 0.0
    for ax in range(image.ndim):
        lo = [slice(None)] * image.ndim
        hi = [slice(None)] * image.ndim
        lo[ax], hi[ax] = slice(None, -1), slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        n = np.count_nonzero(ma[lo] & mb[hi]) + np.count_nonzero(mb[lo] & ma[hi])
        total += areas[ax] * n
    return float(total)


def surface_area(image: Image, a) -> float:
    """Area of the faces between phase(s) ``a`` and any other voxel inside the image [cm^2]."""
    ma = _as_mask(image, a)
    areas = _face_areas(image)
    total = 0.0
    for ax in range(image.ndim):
        d = np.diff(ma.astype(np.int8), axis=ax)
        total += areas[ax] * np.count_nonzero(d)
    return float(total)


def contact_fractions(image: Image, root="root", hairs="hair", soil="pore") -> dict[str, float]:
    """Root–soil contact, following the paper's definition (epidermis in contact with soil).

    Returns
    -------
    dict
        ``epidermis_area`` (surface of the root without hairs, cm^2), ``contact_area_root``
        (root–soil faces), ``contact_area_hairs`` (hair–soil faces), ``contact_fraction``
        (root–soil / epidermis) and ``contact_fraction_with_hairs`` ((root + hair)–soil /
        epidermis): the ratio of the two is the factor by which hairs enlarge the surface
        through which exudates enter the soil.
    """
    epidermis = surface_area(image, root)
    c_root = interface_area(image, root, soil)
    has_hairs = any(p.name == hairs or p.role == hairs for p in image.phases)
    c_hair = interface_area(image, hairs, soil) if has_hairs else 0.0
    frac = c_root / epidermis if epidermis > 0 else float("nan")
    return {"epidermis_area": epidermis, "contact_area_root": c_root,
            "contact_area_hairs": c_hair, "contact_fraction": frac,
            "contact_fraction_with_hairs": (c_root + c_hair) / epidermis if epidermis > 0 else float("nan")}


def distance_from(image: Image, surface) -> np.ndarray:
    """Euclidean distance of every voxel centre from the surface of phase(s) ``surface`` [cm].

    The distance transform (scipy.ndimage, anisotropic sampling) gives the distance to the
    nearest ``surface`` voxel centre; the surface lies half a voxel nearer, so half the
    smallest voxel edge is subtracted (voxels inside the phase get 0).
    """
    m = _as_mask(image, surface)
    if not m.any():
        raise InputError(f"the image has no {surface!r} voxels", source=image.metadata.get("source", "image"))
    d = ndimage.distance_transform_edt(~m, sampling=image.voxel_size)
    return np.where(m, 0.0, np.maximum(d - 0.5 * min(image.voxel_size), 0.0))


def profile_by_distance(values: np.ndarray, distance: np.ndarray, mask: np.ndarray,
                        bin_width: float, max_distance: float | None = None) -> xr.Dataset:
    """Mean, spread and percentiles of ``values`` in distance bins (Fig. 8c style).

    Parameters
    ----------
    values, distance, mask : arrays of one shape
        Field, distance from the surface [cm], voxels to include.
    bin_width : float
        Bin width [cm].

    Returns
    -------
    xarray.Dataset
        Variables ``mean``, ``std``, ``p05``, ``p95``, ``count`` on coordinate ``distance``
        (bin centres, cm).
    """
    v = np.asarray(values)[mask]
    d = np.asarray(distance)[mask]
    if not np.all(np.isfinite(v)):
        raise InputError("field has non-finite values inside the mask", source="profile")
    dmax = float(d.max()) if max_distance is None else float(max_distance)
    edges = np.arange(0.0, dmax + bin_width, bin_width)
    k = np.clip(np.digitize(d, edges) - 1, 0, edges.size - 2)
    nb = edges.size - 1
    count = np.bincount(k, minlength=nb)
    s1 = np.bincount(k, v, minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / count
        # two-pass variance: no cancellation when the spread is small
        std = np.sqrt(np.bincount(k, (v - mean[k]) ** 2, minlength=nb) / count)
    order = np.lexsort((v, k))
    vs, ks = v[order], k[order]
    start = np.searchsorted(ks, np.arange(nb))
    p05 = np.full(nb, np.nan)
    p95 = np.full(nb, np.nan)
    ok = count > 0
    p05[ok] = vs[start[ok] + np.floor(0.05 * (count[ok] - 1)).astype(int)]
    p95[ok] = vs[start[ok] + np.ceil(0.95 * (count[ok] - 1)).astype(int)]
    centres = 0.5 * (edges[:-1] + edges[1:])
    ds = xr.Dataset({"mean": ("distance", mean), "std": ("distance", std),
                     "p05": ("distance", p05), "p95": ("distance", p95),
                     "count": ("distance", count)},
                    coords={"distance": ("distance", centres, {"units": "cm"})})
    return ds


def distance_below(distance: np.ndarray, profile: np.ndarray, threshold: float) -> float:
    """First distance where a decreasing profile falls below ``threshold`` (linear
    interpolation between bin centres) [cm]; NaN if it never does (bins without data are
    skipped)."""
    d = np.asarray(distance, float)
    p = np.asarray(profile, float)
    ok = np.isfinite(p)
    d, p = d[ok], p[ok]
    below = np.flatnonzero(p < threshold)
    if below.size == 0:
        return float("nan")
    i = below[0]
    if i == 0:
        return float(d[0])
    return float(d[i - 1] + (p[i - 1] - threshold) / (p[i - 1] - p[i]) * (d[i] - d[i - 1]))

"""Measurements on labelled images: phase volumes, interface areas, distance maps and
profiles of a field against the distance from a surface."""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import ndimage

from ..errors import InputError
from ..core.image import Image

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
    """Volume of each phase [cm^3] (area [cm^2] for 2D images).

    Parameters
    ----------
    image : Image
        A labelled image.

    Returns
    -------
    dict of str to float
        Phase name -> volume [cm^3] (or area [cm^2]).

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale import Image, Phase
    >>> from rhizoscale.image.metrics import phase_volumes
    >>> phases = (Phase("air", 0, 0.0, "air"), Phase("soil", 1, 2.88e-7, "pore"), Phase("root", 2, 0.0, "root"))
    >>> image = Image(np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 1, 1]]), 0.1, phases)   # 1 mm pixels
    >>> {name: round(v, 3) for name, v in phase_volumes(image).items()}    # cm2 (2D image)
    {'air': 0.04, 'soil': 0.06, 'root': 0.02}
    """
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

    Parameters
    ----------
    image : Image
        A labelled image.
    a, b : str or sequence of str
        Phase names or roles.

    Returns
    -------
    float
        Area [cm^2] (length [cm] in 2D).

    Raises
    ------
    InputError
        A name that is neither a phase nor a role of the image.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale import Image, Phase
    >>> from rhizoscale.image.metrics import interface_area
    >>> phases = (Phase("air", 0, 0.0, "air"), Phase("soil", 1, 2.88e-7, "pore"), Phase("root", 2, 0.0, "root"))
    >>> image = Image(np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 1, 1]]), 0.1, phases)   # 1 mm pixels
    >>> round(interface_area(image, "root", "soil"), 3)     # one face of 1 mm
    0.1
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
    """Area of the faces between phase(s) ``a`` and any other voxel inside the image [cm^2].

    Faces on the image border are not counted.

    Parameters
    ----------
    image : Image
        A labelled image.
    a : str or sequence of str
        Phase names or roles.

    Returns
    -------
    float
        Area [cm^2] (length [cm] in 2D).

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale import Image, Phase
    >>> from rhizoscale.image.metrics import surface_area
    >>> phases = (Phase("air", 0, 0.0, "air"), Phase("soil", 1, 2.88e-7, "pore"), Phase("root", 2, 0.0, "root"))
    >>> image = Image(np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 1, 1]]), 0.1, phases)   # 1 mm pixels
    >>> round(surface_area(image, "root"), 3)                # two faces with air, one with soil
    0.3
    """
    ma = _as_mask(image, a)
    areas = _face_areas(image)
    total = 0.0
    for ax in range(image.ndim):
        d = np.diff(ma.astype(np.int8), axis=ax)
        total += areas[ax] * np.count_nonzero(d)
    return float(total)


def contact_fractions(image: Image, root="root", hairs="hair", soil="pore") -> dict[str, float]:
    """Root–soil contact, following the paper's definition (epidermis in contact with soil).

    Parameters
    ----------
    image : Image
        A labelled image with root (and optionally hair) phases.
    root, hairs, soil : str
        Phase names or roles of the root, its hairs and the conducting soil.

    Returns
    -------
    dict
        ``epidermis_area`` (surface of the root without hairs, cm^2), ``contact_area_root``
        (root–soil faces), ``contact_area_hairs`` (hair–soil faces), ``contact_fraction``
        (root–soil / epidermis) and ``contact_fraction_with_hairs`` ((root + hair)–soil /
        epidermis): the ratio of the two is the factor by which hairs enlarge the surface
        through which exudates enter the soil.

    References
    ----------
    Keyes, S. D., et al. (case study 3; synchrotron images of root hairs): 6.1 % of the
    epidermis in contact with soil, 17.7 % with hairs.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale import Image, Phase
    >>> from rhizoscale.image.metrics import contact_fractions
    >>> phases = (Phase("air", 0, 0.0, "air"), Phase("soil", 1, 2.88e-7, "pore"), Phase("root", 2, 0.0, "root"))
    >>> image = Image(np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 1, 1]]), 0.1, phases)   # 1 mm pixels
    >>> round(contact_fractions(image)["contact_fraction"], 3)
    0.333
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

    Parameters
    ----------
    image : Image
        A labelled image.
    surface : str or sequence of str
        Phase names or roles.

    Returns
    -------
    float array
        Distance [cm], the image's shape.

    Raises
    ------
    InputError
        The image has no voxel of that phase.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale import Image, Phase
    >>> from rhizoscale.image.metrics import distance_from
    >>> phases = (Phase("air", 0, 0.0, "air"), Phase("soil", 1, 2.88e-7, "pore"), Phase("root", 2, 0.0, "root"))
    >>> image = Image(np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 1, 1]]), 0.1, phases)   # 1 mm pixels
    >>> distance_from(image, "root")[:, 0]                  # cm, up the first column
    array([0.15, 0.05, 0.  ])
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
    max_distance : float, optional
        Last bin edge [cm] (default: the largest distance in the mask).

    Returns
    -------
    xarray.Dataset
        Variables ``mean``, ``std``, ``p05``, ``p95``, ``count`` on coordinate ``distance``
        (bin centres, cm).

    Raises
    ------
    InputError
        Non-finite values inside the mask.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.image.metrics import profile_by_distance
    >>> distance = np.array([0.01, 0.02, 0.11, 0.12])          # cm
    >>> profile = profile_by_distance(np.array([1.0, 0.8, 0.3, 0.1]), distance, np.ones(4, bool), 0.1)
    >>> profile["mean"].values, profile["distance"].values
    (array([0.9, 0.2]), array([0.05, 0.15]))
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
    """First distance where a decreasing profile falls below ``threshold`` [cm].

    Linear interpolation between bin centres; NaN if it never does (bins without data
    are skipped). Used for the distance at which exudates fall below 1 % of ``c_in``.

    Parameters
    ----------
    distance : array
        Bin centres [cm].
    profile : array
        Values at the bin centres.
    threshold : float
        Level, in the units of ``profile``.

    Returns
    -------
    float
        Distance [cm], or NaN.

    Examples
    --------
    >>> from rhizoscale.image.metrics import distance_below
    >>> round(distance_below([0.0, 0.1, 0.2], [1.0, 0.5, 0.1], 0.3), 3)
    0.15
    """
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

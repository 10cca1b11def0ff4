"""A root with hairs in a soil of aggregates and air-filled macropores (case study 3).

The sample imitates the synchrotron images of Keyes et al. (cf. the rhizoscale design
brief §4): a root cylinder, root hairs growing out of its surface, aggregates (soil
micropore phase, where exudates diffuse) and macropores (air, no diffusion). The root is
separated from the aggregates by an air gap except on contact patches, whose extent is
tuned so that a target fraction of the epidermis touches soil; the number of hairs can
be tuned so that a target fraction of epidermis-equivalent area touches soil with hairs.
The sample "without hairs" is the same image with the hair voxels turned into air, as
the hairs were removed digitally in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ...errors import InputError
from ...core.image import Image, Phase
from ..metrics import contact_fractions

__all__ = ["RhizosphereSample", "rhizosphere_phases", "rhizosphere_sample", "soil_aggregates"]

MACROPORE, AGGREGATE, ROOT, HAIR = 0, 1, 2, 3


def rhizosphere_phases(diffusivity: float = 2.88e-7) -> tuple[Phase, ...]:
    """Phase table of the generated samples: macropore 0 (air), aggregate 1 (soil micropores), root 2, hair 3.

    Parameters
    ----------
    diffusivity : float
        Diffusion coefficient of exudates in the aggregates [cm^2 s^-1] (case study 3:
        2.88e-7).

    Returns
    -------
    tuple of Phase

    Examples
    --------
    >>> from rhizoscale.image.generators import rhizosphere_phases
    >>> [(p.name, p.role) for p in rhizosphere_phases()]
    [('macropore', 'air'), ('aggregate', 'pore'), ('root', 'root'), ('hair', 'hair')]
    """
    return (Phase("macropore", MACROPORE, 0.0, "air"),
            Phase("aggregate", AGGREGATE, float(diffusivity), "pore"),
            Phase("root", ROOT, 0.0, "root"),
            Phase("hair", HAIR, 0.0, "hair"))


def _smooth_field(shape, voxel_size, correlation_length, rng) -> np.ndarray:
    """Gaussian-filtered white noise with a correlation length in cm (anisotropy-aware)."""
    h = np.broadcast_to(np.asarray(voxel_size, float), (len(shape),))
    sigma = [max(correlation_length / hh, 0.5) for hh in h]
    return ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")


def soil_aggregates(shape, voxel_size, porosity: float, aggregate_size: float, seed=None) -> np.ndarray:
    """Boolean map of aggregates (True) and macropores (False) at a given porosity.

    Thresholded Gaussian random field, the construction of ``porespy.generators.blobs``,
    written with scipy so that the same seed gives the same soil whether or not the
    optional porespy extra is installed; ``aggregate_size`` is the filter width [cm]
    (blob diameters are a few times larger). The threshold is the ``porosity`` quantile,
    so the macropore fraction is exact up to one voxel.

    Parameters
    ----------
    shape : tuple of int
        Image shape.
    voxel_size : float or sequence of float
        Voxel edge length per axis [cm].
    porosity : float
        Macropore fraction [-], in [0, 1).
    aggregate_size : float
        Correlation length of the random field [cm].
    seed : int, optional
        Random seed.

    Returns
    -------
    bool array
        True in aggregates.

    Raises
    ------
    InputError
        Porosity outside [0, 1).

    References
    ----------
    Gostick, J. T., et al. (2019). PoreSpy: a Python toolkit for quantitative analysis of
    porous media images. J. Open Source Softw., 4, 1296 (``blobs``).

    Examples
    --------
    >>> from rhizoscale.image.generators import soil_aggregates
    >>> aggregates = soil_aggregates((40, 40, 40), 2e-3, porosity=0.46, aggregate_size=2e-3, seed=1)
    >>> round(1 - float(aggregates.mean()), 2)
    0.46
    """
    if not 0.0 <= porosity < 1.0:
        raise InputError(f"porosity must be in [0, 1), got {porosity}", source="generator", field="porosity")
    rng = np.random.default_rng(seed)
    u = _smooth_field(shape, voxel_size, aggregate_size, rng)
    return u > np.quantile(u, porosity)


@dataclass
class RhizosphereSample:
    """A generated sample with and without hairs and its contact statistics.

    Made by :func:`rhizosphere_sample`; the two images differ only in the hair voxels
    (air in the hairless one).

    Attributes
    ----------
    with_hairs, without_hairs : Image
        The two samples (phases of :func:`rhizosphere_phases`).
    contact_with_hairs, contact_without_hairs : dict
        :func:`~rhizoscale.image.metrics.contact_fractions` of each.
    hair_count : int
        Number of hairs drawn.
    parameters : dict
        The generator's arguments and the tuned patch level.

    Examples
    --------
    >>> from rhizoscale.image.generators import rhizosphere_sample
    >>> sample = rhizosphere_sample((12, 24, 24), 2e-3, root_radius=0.01, hair_length=0.01, seed=1)
    >>> sample.hair_count, int((sample.with_hairs.labels != sample.without_hairs.labels).sum())
    (9, 20)
    >>> without, with_ = sample.contact_without_hairs, sample.contact_with_hairs
    >>> round(without["contact_fraction"], 3), round(with_["contact_fraction_with_hairs"], 3)
    (0.06, 0.171)
    """

    with_hairs: Image
    without_hairs: Image
    contact_with_hairs: dict
    contact_without_hairs: dict
    hair_count: int
    parameters: dict = field(default_factory=dict)


def _hair_segments(n, rng, root_center, radius, length, length_sd, axial_range, axis_len):
    """Start and end points (in cm, array axis order z, y, x) of n radial hairs."""
    z = rng.uniform(axial_range[0], axial_range[1], n) * axis_len
    phi = rng.uniform(0, 2 * np.pi, n)
    ell = np.maximum(length + length_sd * rng.standard_normal(n), 0.2 * length)
    d = np.stack([np.zeros(n), np.sin(phi), np.cos(phi)], axis=1)
    start = np.stack([z, np.full(n, root_center[0]), np.full(n, root_center[1])], axis=1) + 0.9 * radius * d
    end = start + (ell + 0.1 * radius)[:, None] * d
    return start, end


def _draw_hairs(labels, voxel_size, start, end, hair_radius, root_mask):
    """Mark voxels within ``hair_radius`` of each hair segment (outside the root) as hair."""
    h = np.asarray(voxel_size)
    shape = np.asarray(labels.shape)
    for a, b in zip(start, end):
        lo = np.maximum(np.floor((np.minimum(a, b) - hair_radius) / h).astype(int), 0)
        hi = np.minimum(np.ceil((np.maximum(a, b) + hair_radius) / h).astype(int) + 1, shape)
        if np.any(hi <= lo):
            continue
        grids = np.meshgrid(*[(np.arange(l, u) + 0.5) * hh for l, u, hh in zip(lo, hi, h)], indexing="ij")
        p = np.stack(grids, axis=-1)
        ab = b - a
        s = np.clip(((p - a) @ ab) / (ab @ ab), 0.0, 1.0)
        dist2 = np.sum((p - a - s[..., None] * ab) ** 2, axis=-1)
        box = tuple(slice(l, u) for l, u in zip(lo, hi))
        hit = (dist2 <= hair_radius**2) & ~root_mask[box]
        labels[box][hit] = HAIR


def rhizosphere_sample(shape=(140, 130, 180), voxel_size=1.0e-3,
                       *, root_radius=0.03, root_center=None, porosity=0.46,
                       aggregate_size=2.0e-3, contact_fraction=0.061, contact_gap=3.0e-3,
                       hair_count=None, hair_contact_fraction=0.177, hair_length=0.05,
                       hair_length_sd=0.01, hair_radius=9e-4, hair_axial_range=(0.0, 1.0),
                       diffusivity=2.88e-7, seed=None) -> RhizosphereSample:
    """Generate a root with hairs in aggregated soil, and the same sample without hairs.

    Parameters
    ----------
    shape : (nz, ny, nx)
        Image shape; the root axis runs along z (array axis 0).
    voxel_size : float or 3 floats
        Voxel edge lengths [cm].
    root_radius : float
        [cm] (paper: 300 µm = 0.03 cm).
    root_center : (y, x) in cm, optional
        Root axis position in the cross-section; default the centre.
    porosity : float
        Macropore (air) fraction of the soil outside the root.
    aggregate_size : float
        Correlation length of the aggregate field [cm].
    contact_fraction : float or None
        Target fraction of the epidermis (root surface) that touches aggregates; tuned by
        bisection on the extent of contact patches inside an air gap of width
        ``contact_gap`` [cm] around the root. None leaves the soil as generated.
    contact_gap : float
        Width of the air gap around the root in which contact patches are placed [cm].
    hair_count : int or None
        Number of hairs; when None it is tuned to reach ``hair_contact_fraction``.
    hair_contact_fraction : float
        Target (root + hair)–soil contact area over the epidermis area [-] (paper: 0.177).
    hair_length, hair_length_sd, hair_radius : float
        Hair length (normal distribution, floored at 20 %) and radius [cm]; hairs grow
        radially from the surface, uniformly distributed in angle and over the axial
        range ``hair_axial_range``.
    hair_axial_range : (float, float)
        Fractions of the image length along z between which hairs start.
    diffusivity : float
        Diffusion coefficient of the aggregate phase [cm^2 s^-1].
    seed : int
        Random seed; the same seed gives the same sample.

    Returns
    -------
    RhizosphereSample
        The sample with and without hairs, their contact statistics and the hair count.

    Raises
    ------
    InputError
        Bad shape, sizes or fractions, or a root outside (or filling) the cross-section.

    References
    ----------
    The sample imitates the synchrotron image of case study 3 (maize root, 300 µm
    radius, 6.1 % / 17.7 % contact without / with hairs; design brief §4).

    Examples
    --------
    >>> from rhizoscale.image.generators import rhizosphere_sample
    >>> sample = rhizosphere_sample((30, 40, 40), 2e-3, root_radius=0.02, hair_length=0.015, seed=1)
    >>> sample.with_hairs
    Image(30 x 40 x 40 voxels of 0.002 x 0.002 x 0.002 cm, phases ['macropore', 'aggregate', 'root', 'hair'])
    >>> round(sample.contact_without_hairs["contact_fraction"], 2)
    0.06
    >>> round(sample.contact_with_hairs["contact_fraction_with_hairs"], 2)
    0.18
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or min(shape) < 4:
        raise InputError(f"shape must be 3 sizes >= 4, got {shape}", source="generator", field="shape")
    h = np.broadcast_to(np.asarray(voxel_size, float), (3,)).copy()
    extent = np.asarray(shape) * h
    if root_center is None:
        root_center = (extent[1] / 2, extent[2] / 2)
    for name, v in (("root_radius", root_radius), ("hair_radius", hair_radius),
                    ("hair_length", hair_length), ("aggregate_size", aggregate_size)):
        if not (np.isfinite(v) and v > 0):
            raise InputError(f"must be positive, got {v}", source="generator", field=name)
    if contact_fraction is not None and not 0.0 <= contact_fraction <= 1.0:
        raise InputError("must be in [0, 1]", source="generator", field="contact_fraction")
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**63 - 1, size=4)
    y = (np.arange(shape[1]) + 0.5) * h[1]
    x = (np.arange(shape[2]) + 0.5) * h[2]
    r2 = (y[:, None] - root_center[0]) ** 2 + (x[None, :] - root_center[1]) ** 2
    root2d = r2 <= root_radius**2
    if not root2d.any():
        raise InputError("the root lies outside the image", source="generator", field="root_center")
    if root2d.all():
        raise InputError("the root fills the whole cross-section; enlarge the image",
                         source="generator", field="shape")
    root = np.broadcast_to(root2d, shape)
    soil = soil_aggregates(shape, h, porosity, aggregate_size, seed=int(seeds[0]))
    gap2d = (np.sqrt(r2) - root_radius <= contact_gap) & ~root2d
    gap = np.broadcast_to(gap2d, shape)
    patches = _smooth_field(shape, h, aggregate_size, np.random.default_rng(int(seeds[1])))
    labels = np.where(soil, AGGREGATE, MACROPORE).astype(np.uint8)
    labels[root] = ROOT
    phases = rhizosphere_phases(diffusivity)

    def contact_at(threshold):
        lab = labels.copy()
        lab[gap & (patches <= threshold)] = MACROPORE
        lab[gap & (patches > threshold)] = AGGREGATE
        img = Image(lab, tuple(h), phases)
        return contact_fractions(img, "root", "hair", "aggregate")["contact_fraction"], lab

    if contact_fraction is not None and gap2d.any():
        lo, hi = float(patches[gap].min()) - 1e-9, float(patches[gap].max()) + 1e-9
        for _ in range(40):  # contact decreases as the threshold rises
            mid = 0.5 * (lo + hi)
            f, _lab = contact_at(mid)
            if f > contact_fraction:
                lo = mid
            else:
                hi = mid
        f_lo, lab_lo = contact_at(lo)
        f_hi, lab_hi = contact_at(hi)
        labels = lab_lo if abs(f_lo - contact_fraction) <= abs(f_hi - contact_fraction) else lab_hi
    base = Image(labels.copy(), tuple(h), phases,
                 {"generator": "rhizosphere_sample", "seed": seed})
    contact0 = contact_fractions(base, "root", "hair", "aggregate")

    hair_rng = np.random.default_rng(int(seeds[2]))
    n_max = 4000
    start, end = _hair_segments(n_max, hair_rng, root_center, root_radius, hair_length,
                                hair_length_sd, hair_axial_range, extent[0])

    def with_n_hairs(n):
        lab = labels.copy()
        _draw_hairs(lab, h, start[:n], end[:n], hair_radius, root)
        img = Image(lab, tuple(h), phases, {"generator": "rhizosphere_sample", "seed": seed,
                                            "hair_count": int(n)})
        return img, contact_fractions(img, "root", "hair", "aggregate")

    if hair_count is None:
        target = hair_contact_fraction
        lo, hi = 0, 1
        while True:
            img, c = with_n_hairs(hi)
            if c["contact_fraction_with_hairs"] >= target or hi >= n_max:
                break
            lo, hi = hi, min(2 * hi, n_max)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if with_n_hairs(mid)[1]["contact_fraction_with_hairs"] >= target:
                hi = mid
            else:
                lo = mid
        n = hi if abs(with_n_hairs(hi)[1]["contact_fraction_with_hairs"] - target) <= \
            abs(with_n_hairs(lo)[1]["contact_fraction_with_hairs"] - target) else lo
    else:
        n = int(hair_count)
        if n < 0:
            raise InputError("must be >= 0", source="generator", field="hair_count")
    hairy, contact1 = with_n_hairs(n)
    bald_labels = hairy.labels.copy()
    bald_labels[bald_labels == HAIR] = MACROPORE
    bald = Image(bald_labels, tuple(h), phases, {**hairy.metadata, "hairs_removed": True})
    contact_bald = contact_fractions(bald, "root", "hair", "aggregate")
    params = dict(shape=shape, voxel_size=tuple(h), root_radius=root_radius,
                  root_center=tuple(root_center), porosity=porosity, aggregate_size=aggregate_size,
                  contact_fraction_target=contact_fraction, contact_gap=contact_gap,
                  hair_count=n, hair_length=hair_length, hair_radius=hair_radius, seed=seed)
    del contact0
    return RhizosphereSample(hairy, bald, contact1, contact_bald, n, params)

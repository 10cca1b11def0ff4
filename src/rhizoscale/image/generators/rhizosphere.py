"""A root with hairs in a soil of aggregates and air-filled macropores (case study 3).

The sample imitates the synchrotron image of case study 3 (maize root, 0.65 µm voxels,
ROI 1.8 × 1.3 × 1.4 mm; design brief §4) and is calibrated to its measured geometry:

* a root cylinder of the given radius whose epidermis is roughened (a smooth random
  radius perturbation) until its voxel-face area is ``epidermis_area_factor`` times the
  smooth cylinder's (paper: 3.9 mm² for 1.4 mm of a 300 µm root, a factor 1.48);
* an air gap around the root ("surrounding air", 0.4 mm³ in the paper, as much as the
  root itself) whose local thickness is a smooth random field on the root surface; where
  the thickness is zero the soil touches the root. Two numbers are bisected: the share of
  the surface without a gap, to the target epidermis–soil contact (6.1 %), and the gap
  thickness, to the target gap volume;
* aggregates (soil micropores, where exudates diffuse) and macropores (air) outside the
  gap, a thresholded Gaussian random field at the given macropore porosity (paper:
  1.1 mm³ of macropores and 1.3 mm³ of aggregates);
* root hairs that emerge from the epidermis where it faces air and grow as persistent
  random walks through the air, sliding along aggregate surfaces they meet and stopping
  where they cannot (Duddek et al. 2024: maize hairs grow in air-filled pores, are
  inhibited in contact with the soil matrix and rarely enter aggregates). They touch soil
  at those contacts only. Their number is bisected to the target contact with hairs
  (17.7 %); their length and diameter come from the literature.

The sample "without hairs" is the same image with the hair voxels turned back into the
air they grew in, as the hairs were removed digitally in the paper.

**Contact fraction** (as in :func:`~rhizoscale.image.metrics.contact_fractions`): the
area of the voxel faces shared by root (and hair) voxels and aggregate (soil) voxels,
over the area of all faces between root voxels and non-root voxels (the epidermis).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ...errors import InputError
from ...core.image import Image, Phase
from ..metrics import contact_fractions, surface_area

__all__ = ["RhizosphereSample", "rhizosphere_phases", "rhizosphere_sample", "soil_aggregates"]

MACROPORE, AGGREGATE, ROOT, HAIR, AIR_GAP = 0, 1, 2, 3, 4


def rhizosphere_phases(diffusivity: float = 2.88e-7) -> tuple[Phase, ...]:
    """Phase table of the generated samples: macropore 0 (air), aggregate 1 (soil
    micropores), root 2, hair 3, air gap around the root 4 (air).

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
    [('macropore', 'air'), ('aggregate', 'pore'), ('root', 'root'), ('hair', 'hair'), ('air_gap', 'air')]
    """
    return (Phase("macropore", MACROPORE, 0.0, "air"),
            Phase("aggregate", AGGREGATE, float(diffusivity), "pore"),
            Phase("root", ROOT, 0.0, "root"),
            Phase("hair", HAIR, 0.0, "hair"),
            Phase("air_gap", AIR_GAP, 0.0, "air"))


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
    """A generated sample with and without hairs and its geometry statistics.

    Made by :func:`rhizosphere_sample`; the two images differ only in the hair voxels
    (air in the hairless one).

    Attributes
    ----------
    with_hairs, without_hairs : Image
        The two samples (phases of :func:`rhizosphere_phases`).
    contact_with_hairs, contact_without_hairs : dict
        :func:`~rhizoscale.image.metrics.contact_fractions` of each.
    hair_count : int
        Number of hairs grown (those that emerged into air).
    parameters : dict
        The generator's arguments, the calibrated values (roughness, gap thickness, share
        of the surface without gap) and hair statistics (density per root length, mean
        length inside the image, share of hair voxels touching soil).

    Examples
    --------
    >>> from rhizoscale.image.generators import rhizosphere_sample
    >>> sample = rhizosphere_sample((12, 24, 24), 2e-3, root_radius=0.01, hair_length=0.01, seed=1)
    >>> without, with_ = sample.contact_without_hairs, sample.contact_with_hairs
    >>> round(without["contact_fraction"], 2), round(with_["contact_fraction_with_hairs"], 2)
    (0.06, 0.18)
    """

    with_hairs: Image
    without_hairs: Image
    contact_with_hairs: dict
    contact_without_hairs: dict
    hair_count: int
    parameters: dict = field(default_factory=dict)


def _surface_field(nz, nphi, dz, darc, correlation_length, rng) -> np.ndarray:
    """A standardised smooth Gaussian field on the root surface, (z, angle), periodic in angle."""
    sigma = (max(correlation_length / dz, 0.5), max(correlation_length / darc, 0.5))
    u = ndimage.gaussian_filter(rng.standard_normal((nz, nphi)), sigma, mode=("reflect", "wrap"))
    return (u - u.mean()) / max(u.std(), 1e-300)


def _face_pairs(mask: np.ndarray, h) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of the outside voxel of every face of ``mask`` (with repeats) and its area."""
    out, area = [], []
    flat = np.arange(mask.size).reshape(mask.shape)
    for ax in range(3):
        a_face = float(np.prod(np.delete(h, ax)))
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[ax], hi[ax] = slice(None, -1), slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        for inside, outside in ((lo, hi), (hi, lo)):
            sel = mask[inside] & ~mask[outside]
            out.append(flat[outside][sel])
            area.append(np.full(np.count_nonzero(sel), a_face))
    return np.concatenate(out), np.concatenate(area)


def _bisect(f, lo, hi, target, increasing=True, iterations=40):
    """The argument in [lo, hi] where the monotone ``f`` is nearest ``target``."""
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if (f(mid) < target) == increasing:
            lo = mid
        else:
            hi = mid
    return lo if abs(f(lo) - target) <= abs(f(hi) - target) else hi


def _grow_hairs(n, rng, labels, h, axis_yx, radius_at, z_range, length, length_sd,
                persistence, normal_field):
    """Grow ``n`` candidate hairs; return the path points (cm, z y x), their hair ids and
    the number of hairs that emerged into air.

    Hairs start on the epidermis at uniform axial position and angle, go outward
    (±20° tilt), and advance in steps of half the smallest voxel edge: each step turns
    the direction by a random angle (persistent random walk, persistence length
    ``persistence``). A step into aggregate or root slides along the obstacle (the
    direction loses its component along ``normal_field``, the gradient of the smoothed
    solid); if that step is blocked too, the hair stops against the soil. A hair stops
    at its length or where it leaves the image. Candidates whose first point is not in
    air (the epidermis touches soil there) do not emerge.
    """
    shape = np.asarray(labels.shape)
    extent = shape * h
    step = 0.5 * float(h.min())
    z = rng.uniform(z_range[0], z_range[1], n)
    phi = rng.uniform(0.0, 2 * np.pi, n)
    ell = np.maximum(length + length_sd * rng.standard_normal(n), 0.1 * length)
    tilt = rng.standard_normal((n, 3))
    noise_scale = np.sqrt(step / persistence)
    e_r = np.stack([np.zeros(n), np.sin(phi), np.cos(phi)], axis=1)
    rho = radius_at(z, phi) + 0.5 * step
    pos = np.stack([z, axis_yx[0] + rho * e_r[:, 1], axis_yx[1] + rho * e_r[:, 2]], axis=1)

    def lookup(p):
        idx = np.floor(p / h).astype(np.int64)
        inside = np.all((idx >= 0) & (idx < shape), axis=1)
        lab = np.full(len(p), 255, np.uint8)
        lab[inside] = labels[tuple(idx[inside].T)]
        return lab, inside, idx

    for _ in range(int(np.ceil(4 * float(h.max()) / step))):  # step out of the staircase root
        lab, inside, _ = lookup(pos)
        in_root = inside & (lab == ROOT)
        if not in_root.any():
            break
        pos[in_root] += step * e_r[in_root]
    lab, inside, _ = lookup(pos)
    emerged = inside & ((lab == MACROPORE) | (lab == AIR_GAP))
    pos, ell, e_r, tilt = pos[emerged], ell[emerged], e_r[emerged], tilt[emerged]
    m = len(pos)
    direction = e_r + np.tan(np.deg2rad(20.0)) * (tilt - np.sum(tilt * e_r, axis=1, keepdims=True) * e_r)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    ids = np.arange(m)
    points, owners = [pos.copy()], [ids.copy()]
    grown = np.zeros(m)
    active = np.ones(m, bool)
    solid = (AGGREGATE, ROOT)
    while active.any():
        a = np.flatnonzero(active)
        d = direction[a] + noise_scale * rng.standard_normal((len(a), 3))
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        cand = pos[a] + step * d
        lab, inside, _ = lookup(cand)
        blocked = inside & np.isin(lab, solid)
        if blocked.any():
            b = np.flatnonzero(blocked)
            _, _, idx = lookup(pos[a[b]])
            nrm = np.stack([g[tuple(idx.T)] for g in normal_field], axis=1)
            nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
            along = np.sum(d[b] * nrm, axis=1, keepdims=True)
            tang = d[b] - np.maximum(along, 0.0) * nrm
            norm = np.linalg.norm(tang, axis=1, keepdims=True)
            ok = norm[:, 0] > 0.2
            tang = tang / np.maximum(norm, 1e-12)
            cand2 = pos[a[b]] + step * tang
            lab2, inside2, _ = lookup(cand2)
            ok &= inside2 & ~np.isin(lab2, solid)
            d[b] = np.where(ok[:, None], tang, d[b])
            cand[b] = np.where(ok[:, None], cand2, cand[b])
            inside[b] = inside2
            blocked[b] = ~ok
        moved = inside & ~blocked
        pos[a[moved]] = cand[moved]
        direction[a[moved]] = d[moved]
        grown[a[moved]] += step
        points.append(cand[moved])
        owners.append(a[moved])
        active[a[~moved]] = False
        active &= grown < ell
    return np.concatenate(points), np.concatenate(owners), m


def _rasterise(points, owners, h, shape, radius):
    """Flat voxel indices (and hair ids) of the voxels holding path points, dilated to the
    hair radius when it exceeds half a voxel."""
    shape = np.asarray(shape)
    idx = np.floor(points / h).astype(np.int64)
    reach = np.ceil(radius / h).astype(int)
    if np.all(radius <= 0.5 * h):
        offsets = np.zeros((1, 3), np.int64)
    else:
        grid = np.stack(np.meshgrid(*[np.arange(-r, r + 1) for r in reach], indexing="ij"), -1).reshape(-1, 3)
        offsets = grid[np.sum((grid * h) ** 2, axis=1) <= radius**2 + 1e-30]
    cells = (idx[:, None, :] + offsets[None]).reshape(-1, 3)
    centres = (cells + 0.5) * h
    near = np.sum((centres - np.repeat(points, len(offsets), axis=0)) ** 2, axis=1) <= radius**2
    own = np.tile(np.all(offsets == 0, axis=1), len(points))        # the point's own voxel
    keep = (near | own) & np.all((cells >= 0) & (cells < shape), axis=1)
    flat = np.ravel_multi_index(tuple(cells[keep].T), tuple(shape))
    return flat, np.repeat(owners, len(offsets))[keep]


def _contact_area_of(voxels, labels, h, soil):
    """Area of the faces between the voxels ``voxels`` (flat indices, unique) and ``soil``."""
    shape = labels.shape
    coords = np.unravel_index(voxels, shape)
    flat_labels = labels.reshape(-1)
    strides = np.cumprod((1,) + shape[::-1])[:-1][::-1]
    area = 0.0
    for ax in range(3):
        a_face = float(np.prod(np.delete(h, ax)))
        for sgn in (-1, 1):
            c = coords[ax] + sgn
            ok = (c >= 0) & (c < shape[ax])
            nb = voxels[ok] + sgn * strides[ax]
            area += a_face * np.count_nonzero(flat_labels[nb] == soil)
    return area


def rhizosphere_sample(shape=(70, 65, 90), voxel_size=2.0e-3,
                       *, root_radius=0.03, root_center=None, porosity=0.458,
                       aggregate_size=2.0e-3, epidermis_area_factor=1.48,
                       epidermis_cell_size=2.5e-3, gap_volume_ratio=1.0,
                       gap_correlation_length=0.01, contact_fraction=0.061,
                       hair_count=None, hair_contact_fraction=0.177, hair_length=0.09,
                       hair_length_sd=0.03, hair_radius=9e-4, hair_persistence=0.05,
                       hair_axial_range=(0.0, 1.0), diffusivity=2.88e-7,
                       seed=None) -> RhizosphereSample:
    """Generate a root with hairs in aggregated soil, and the same sample without hairs.

    Every calibration is to geometry (areas, volumes, contact fractions), never to a
    transport result. Defaults: the paper's sample (design brief §4) and the literature
    on maize root hairs (see Parameters).

    Parameters
    ----------
    shape : (nz, ny, nx)
        Image shape; the root axis runs along z (array axis 0). The default at 20 µm
        voxels is the paper's ROI (1.4 mm along the root, 1.3 × 1.8 mm across).
    voxel_size : float or 3 floats
        Voxel edge lengths [cm].
    root_radius : float
        Mean root radius [cm] (paper: 300 µm = 0.03 cm).
    root_center : (y, x) in cm, optional
        Root axis position in the cross-section; default the centre.
    porosity : float
        Macropore fraction of the soil outside the root and its air gap (paper: 1.1 mm³
        of macropores in 2.4 mm³ of soil, 0.458).
    aggregate_size : float
        Correlation length of the aggregate field [cm].
    epidermis_area_factor : float or None
        Target voxel-face area of the epidermis over that of a smooth cylinder of the
        same radius and length, ``2 pi r L`` (paper: 3.9 mm² / (2 pi 0.3 mm 1.4 mm) =
        1.48); reached by bisecting the amplitude of a random radius perturbation with
        correlation length ``epidermis_cell_size``. A face count already gives 4/pi for
        a smooth cylinder, so targets below ~1.27 leave the root smooth. None: smooth.
    epidermis_cell_size : float
        Correlation length of the epidermis roughness [cm] (maize epidermal cells are
        ~20–30 µm wide).
    gap_volume_ratio : float
        Volume of the air gap around the root over the root volume (paper: 0.4 mm³ of
        surrounding air for 0.4 mm³ of root, 1.0); 0 puts the soil against the root.
    gap_correlation_length : float
        Correlation length of the gap thickness along the root surface [cm].
    contact_fraction : float or None
        Target fraction of the epidermis touching aggregates (paper 0.061), bisected on
        the share of the surface without gap. None: no gap-free patches (contact only
        by chance, i.e. none when there is a gap everywhere).
    hair_count : int or None
        Number of hairs (candidates starting where the epidermis touches soil do not
        emerge and are not counted); when None it is bisected to reach
        ``hair_contact_fraction``. A literature density instead: 161 hairs per mm of root
        for maize (Reid 1981), i.e. 225 over the paper's 1.4 mm.
    hair_contact_fraction : float
        Target (root + hair)–soil contact area over the epidermis area [-] (paper 0.177).
    hair_length, hair_length_sd : float
        Mean and standard deviation of the hair length [cm], normal, floored at 10 %
        (maize: mean 0.90 mm, Reid 1981; the default sd 0.3 mm is chosen).
    hair_radius : float
        [cm] (the paper's sample: about 9 µm; maize hairs are 10–20 µm thick). Hairs
        thinner than a voxel are one voxel wide.
    hair_persistence : float
        Persistence length of the hair direction [cm] (chosen: 0.5 mm, hairs curve
        gently over their length).
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
    Reid, J. B. (1981). Observations on root hair production by lucerne, maize and
    perennial ryegrass grown in a sandy loam. Plant Soil 62, 319–322 (maize: 161 hairs
    per mm of root, mean length 0.90 mm).
    Duddek, P., Papritz, A., Ahmed, M. A., Lovrić, G., Carminati, A. (2024). Observations
    of root hair patterning in soils: insights from synchrotron-based X-ray computed
    microtomography. Plant Soil (maize hairs grow in air-filled pores, are inhibited in
    contact with the soil matrix and rarely penetrate aggregates).
    Keyes, S. D., Zygalakis, K. C., Roose, T. (2017). An explicit structural model of root
    hair and soil interactions parameterised by synchrotron X-ray computed tomography.
    Bull. Math. Biol. 79, 2785–2813 (hairs as growing paths deflected by the soil).

    Examples
    --------
    >>> from rhizoscale.image.generators import rhizosphere_sample
    >>> sample = rhizosphere_sample((30, 40, 40), 2e-3, root_radius=0.02, hair_length=0.03, seed=1)
    >>> sample.with_hairs
    Image(30 x 40 x 40 voxels of 0.002 x 0.002 x 0.002 cm, phases ['macropore', 'aggregate', 'root', 'hair', 'air_gap'])
    >>> round(sample.contact_without_hairs["contact_fraction"], 2)
    0.06
    >>> round(sample.contact_with_hairs["contact_fraction_with_hairs"], 2)
    0.18
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or min(shape) < 4:
        raise InputError(f"shape must be 3 sizes >= 4, got {shape}", source="generator", field="shape")
    h = np.broadcast_to(np.asarray(voxel_size, float), (3,)).copy()
    if not np.all(np.isfinite(h) & (h > 0)):
        raise InputError(f"must be positive, got {voxel_size}", source="generator", field="voxel_size")
    extent = np.asarray(shape) * h
    if root_center is None:
        root_center = (extent[1] / 2, extent[2] / 2)
    for name, v in (("root_radius", root_radius), ("hair_radius", hair_radius),
                    ("hair_length", hair_length), ("aggregate_size", aggregate_size),
                    ("epidermis_cell_size", epidermis_cell_size),
                    ("gap_correlation_length", gap_correlation_length),
                    ("hair_persistence", hair_persistence)):
        if not (np.isfinite(v) and v > 0):
            raise InputError(f"must be positive, got {v}", source="generator", field=name)
    if not (np.isfinite(gap_volume_ratio) and gap_volume_ratio >= 0):
        raise InputError(f"must be >= 0, got {gap_volume_ratio}", source="generator", field="gap_volume_ratio")
    if hair_length_sd < 0:
        raise InputError(f"must be >= 0, got {hair_length_sd}", source="generator", field="hair_length_sd")
    for name, v in (("contact_fraction", contact_fraction), ("hair_contact_fraction", hair_contact_fraction)):
        if v is not None and not 0.0 <= v <= 1.0:
            raise InputError(f"must be in [0, 1], got {v}", source="generator", field=name)
    if epidermis_area_factor is not None and not (np.isfinite(epidermis_area_factor) and epidermis_area_factor > 0):
        raise InputError(f"must be positive, got {epidermis_area_factor}", source="generator",
                         field="epidermis_area_factor")
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**63 - 1, size=5)
    y = (np.arange(shape[1]) + 0.5) * h[1]
    x = (np.arange(shape[2]) + 0.5) * h[2]
    dy, dx = y[:, None] - root_center[0], x[None, :] - root_center[1]
    rho = np.hypot(dy, dx)
    if not (rho <= root_radius).any():
        raise InputError("the root lies outside the image", source="generator", field="root_center")
    if (rho <= root_radius).all():
        raise InputError("the root fills the whole cross-section; enlarge the image",
                         source="generator", field="shape")
    # surface fields on (z, angle): epidermis roughness and gap thickness
    darc = float(min(h[1], h[2]))
    nphi = max(8, int(round(2 * np.pi * root_radius / darc)))
    angle = np.mod(np.arctan2(dy, dx), 2 * np.pi)
    k_phi = np.minimum((angle / (2 * np.pi) * nphi).astype(np.int64), nphi - 1)      # (ny, nx)
    rough = _surface_field(shape[0], nphi, h[0], 2 * np.pi * root_radius / nphi, epidermis_cell_size,
                           np.random.default_rng(int(seeds[1])))
    thick = _surface_field(shape[0], nphi, h[0], 2 * np.pi * root_radius / nphi, gap_correlation_length,
                           np.random.default_rng(int(seeds[2])))
    near = rho <= root_radius + 4 * float(h.max())               # where roughness can reach
    yy, xx = np.nonzero(near)

    def root_mask(amplitude):
        mask = np.zeros(shape, bool)
        r_local = root_radius + amplitude * rough[:, k_phi[yy, xx]]          # (nz, n_near)
        mask[:, yy, xx] = rho[yy, xx][None, :] <= r_local
        return mask

    phases = rhizosphere_phases(diffusivity)
    smooth_area = 2 * np.pi * root_radius * extent[0]

    def epidermis_factor(amplitude):
        lab = np.where(root_mask(amplitude), ROOT, MACROPORE).astype(np.uint8)
        return surface_area(Image(lab, tuple(h), phases), "root") / smooth_area

    amplitude = 0.0
    if epidermis_area_factor is not None and epidermis_factor(0.0) < epidermis_area_factor:
        top = 2.0 * float(h.max())
        if epidermis_factor(top) > epidermis_area_factor:
            amplitude = _bisect(epidermis_factor, 0.0, top, epidermis_area_factor, iterations=14)
        else:
            amplitude = top
    root = root_mask(amplitude)
    r_surface = root_radius + amplitude * rough                                   # (nz, nphi)
    # radial distance of each voxel centre outside the root from the local root surface
    dist = rho[None, :, :] - r_surface[:, k_phi]
    gap_u = thick[:, k_phi]
    # soil: aggregates outside the root at the target macropore porosity; the gap field is
    # independent of the soil field, so the porosity is kept where the gap is carved out
    u_soil = _smooth_field(shape, h, aggregate_size, np.random.default_rng(int(seeds[0])))
    theta = np.quantile(u_soil[~root], porosity)
    labels = np.where(u_soil > theta, AGGREGATE, MACROPORE).astype(np.uint8)
    del u_soil
    labels[root] = ROOT
    outside = ~root
    d_out, u_out = dist[outside], gap_u[outside]
    faces_nb, faces_area = _face_pairs(root, h)
    epidermis = float(faces_area.sum())
    nb_soil = labels.reshape(-1)[faces_nb] == AGGREGATE
    nb_d, nb_u = dist.reshape(-1)[faces_nb], gap_u.reshape(-1)[faces_nb]
    target_gap = gap_volume_ratio * np.count_nonzero(root)

    def gap_rule(d, u, level, thickness):
        return d < thickness * np.maximum(u - level, 0.0)

    def contact(level, thickness):
        return float(faces_area[nb_soil & ~gap_rule(nb_d, nb_u, level, thickness)].sum()) / epidermis

    def thickness_for(level):
        if target_gap <= 0:
            return 0.0
        excess = u_out - level
        ratio = np.where(excess > 0, d_out / np.where(excess > 0, excess, 1.0), np.inf)
        k = int(min(round(target_gap), ratio.size)) - 1
        if k < 0:
            return 0.0
        value = np.partition(ratio, k)[k]
        return float(value) * (1 + 1e-9) if np.isfinite(value) else float(np.max(ratio[np.isfinite(ratio)],
                                                                                   initial=0.0))

    level = float(gap_u.min()) - 1.0       # no gap-free surface: a gap everywhere
    thickness = thickness_for(level)
    if contact_fraction is not None:
        for _ in range(6):                 # alternate: contact <- level, gap volume <- thickness
            level = _bisect(lambda q: contact(q, thickness), float(thick.min()) - 1e-6,
                            float(thick.max()) + 1e-6, contact_fraction)
            thickness = thickness_for(level)
    gap = np.zeros(shape, bool)
    gap[outside] = gap_rule(d_out, u_out, level, thickness)
    labels[gap] = AIR_GAP
    del dist, gap_u, d_out, u_out
    base = Image(labels.copy(), tuple(h), phases, {"generator": "rhizosphere_sample", "seed": seed})
    contact_bald = contact_fractions(base, "root", "hair", "aggregate")

    # hairs
    solid_smooth = ndimage.gaussian_filter(np.isin(labels, (AGGREGATE, ROOT)).astype(np.float32), 1.0)
    normal_field = [g / hh for g, hh in zip(np.gradient(solid_smooth), h)]
    del solid_smooth
    axis_yx = np.asarray(root_center, float)

    def radius_at(z, phi):
        kz = np.clip((z / h[0]).astype(np.int64), 0, shape[0] - 1)
        kp = np.minimum((phi / (2 * np.pi) * nphi).astype(np.int64), nphi - 1)
        return r_surface[kz, kp]

    z_range = (hair_axial_range[0] * extent[0], hair_axial_range[1] * extent[0])
    hair_rng = np.random.default_rng(int(seeds[3]))
    c_root = contact_bald["contact_area_root"]
    flat_parts, owner_parts = [], []
    emerged_total = 0
    candidates = 0

    def hair_voxels(n):
        if not flat_parts:
            return np.zeros(0, np.int64)
        flat, own = np.concatenate(flat_parts), np.concatenate(owner_parts)
        vox = np.unique(flat[own < n])
        return vox[np.isin(labels.reshape(-1)[vox], (MACROPORE, AIR_GAP))]

    def contact_with(n):
        return (c_root + _contact_area_of(hair_voxels(n), labels, h, AGGREGATE)) / epidermis

    if hair_count is not None and hair_count < 0:
        raise InputError("must be >= 0", source="generator", field="hair_count")
    batch = 256 if hair_count is None else max(int(hair_count), 1)
    cap = 40000                        # candidate hairs at most (the target may be out of reach)
    while candidates < cap:
        if hair_count is not None and emerged_total >= hair_count:
            break
        k = min(batch, cap - candidates)
        pts, own, m = _grow_hairs(k, hair_rng, labels, h, axis_yx, radius_at, z_range, hair_length,
                                  hair_length_sd, hair_persistence, normal_field)
        flat, owner = _rasterise(pts, own, h, shape, hair_radius)
        flat_parts.append(flat)
        owner_parts.append(owner + emerged_total)
        emerged_total += m
        candidates += k
        if hair_count is None and contact_with(emerged_total) >= hair_contact_fraction:
            break
        batch *= 2
    if hair_count is None:
        n = int(round(_bisect(lambda t: contact_with(int(round(t))), 0, emerged_total,
                              hair_contact_fraction, iterations=int(np.ceil(np.log2(emerged_total + 2))) + 2)))
    else:
        n = min(int(hair_count), emerged_total)
    vox = hair_voxels(n)
    hairy_labels = labels.copy()
    hairy_labels.reshape(-1)[vox] = HAIR
    touching = _contact_area_of(vox, labels, h, AGGREGATE)
    hairy = Image(hairy_labels, tuple(h), phases, {"generator": "rhizosphere_sample", "seed": seed,
                                                    "hair_count": int(n)})
    contact1 = contact_fractions(hairy, "root", "hair", "aggregate")
    bald = Image(labels, tuple(h), phases, {**hairy.metadata, "hairs_removed": True})
    root_length_mm = (z_range[1] - z_range[0]) * 10.0
    params = dict(shape=shape, voxel_size=tuple(h), root_radius=root_radius,
                  root_center=tuple(root_center), porosity=porosity, aggregate_size=aggregate_size,
                  epidermis_area_factor=epidermis_area_factor, epidermis_roughness_amplitude=amplitude,
                  epidermis_area_factor_reached=contact_bald["epidermis_area"] / smooth_area,
                  gap_volume_ratio=gap_volume_ratio, gap_thickness_scale=thickness,
                  gap_free_surface_share=float(np.mean(thick <= level)),
                  contact_fraction_target=contact_fraction, hair_contact_fraction_target=hair_contact_fraction,
                  hair_count=n, hair_density_per_mm=n / root_length_mm if root_length_mm > 0 else float("nan"),
                  hair_voxels=int(vox.size), hair_length_in_image_mm=float(vox.size * h.min() * 10.0),
                  hair_contact_area_mm2=touching * 100.0,
                  hair_length=hair_length, hair_length_sd=hair_length_sd, hair_radius=hair_radius,
                  hair_persistence=hair_persistence, seed=seed)
    return RhizosphereSample(hairy, bald, contact1, contact_bald, n, params)

"""Representative elementary volume (REV) of an image: the effective diffusivity of
subvolumes versus their size, subvolumes computed in parallel on Dask.

For each subvolume edge ``s`` (voxels), ``n`` subvolumes are cut at random positions
(seeded) and the effective diffusion tensor of each is computed by homogenisation (case
study 4's cell problem, :func:`rhizoscale.homogenization.effective_diffusion_tensor`).
Their spread shrinks as ``s`` grows; the REV estimate is the smallest size from which on
the coefficient of variation of ``D_eff`` (mean principal value) stays below a tolerance,
with its uncertainty: the REV lies between the previous size tried and that size, and
``D_eff`` at the REV has a confidence interval from the subvolumes (bootstrap).

References
----------
Bear, J. (1972). Dynamics of Fluids in Porous Media. Elsevier (the REV).
Zhang, D., Zhang, R., Chen, S. & Soll, W. E. (2000). Pore scale study of flow in porous
media: scale dependency, REV, and statistical REV. Geophys. Res. Lett. 27, 1195-1198.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..errors import InputError

__all__ = ["RevResult", "rev_analysis", "subvolume_effective_diffusivity"]


def subvolume_effective_diffusivity(diffusivity: np.ndarray, corner, size: int, voxel_size,
                                    periodisation: str) -> np.ndarray:
    """Diagonal of the effective tensor (array-axis order, per bulk) of the cube/square
    of edge ``size`` voxels at ``corner`` (runs on a worker)."""
    from ..homogenization.cell_problem import effective_diffusion_tensor
    sl = tuple(slice(int(c), int(c) + size) for c in corner)
    sub = np.ascontiguousarray(diffusivity[sl])
    if not np.any(sub > 0):
        return np.zeros(sub.ndim)
    return np.diag(effective_diffusion_tensor(sub, voxel_size, periodisation=periodisation).tensor).copy()


@dataclass
class RevResult:
    """Subvolume diffusivities by size and the REV estimate.

    Attributes
    ----------
    data : xarray.Dataset
        ``d_eff`` (size, sample, axis): diagonal of each subvolume's tensor [units of the
        image's diffusivities]; ``mean``, ``cv`` (coefficient of variation of the mean
        principal value) and ``ci_low``/``ci_high`` (bootstrap 95 % interval of its mean)
        per size.
    rev : int or None
        Smallest size [voxels] from which on ``cv <= tolerance`` (None: not reached).
    rev_bounds : (int, int) or None
        The REV lies in ``(previous size, rev]``.
    d_eff_at_rev : (float, float, float) or None
        Mean principal value at the REV and its 95 % interval.
    """

    data: xr.Dataset
    rev: int | None
    rev_bounds: tuple[int, int] | None
    d_eff_at_rev: tuple[float, float, float] | None
    tolerance: float


def rev_analysis(image, sizes, *, n_subvolumes: int = 8, voxel_size=None, periodisation: str = "mirror",
                 tolerance: float = 0.05, seed: int = 1, client=None, scheduler: str | None = None,
                 n_workers: int | None = None) -> RevResult:
    """Effective diffusivity versus subvolume size, with an REV estimate (see the module docs).

    Parameters
    ----------
    image : Image or array
        A labelled :class:`~rhizoscale.image.Image` (phase diffusivities) or an array of
        voxel diffusivities (then give ``voxel_size``).
    sizes : sequence of int
        Subvolume edges [voxels], each at most the image's smallest extent.
    n_subvolumes : int
        Random subvolumes per size (one for a size equal to the whole image).
    periodisation : {"mirror", "translation"}
        Cell-problem boundary treatment of each subvolume (mirror: no-flux-sides set-up).
    tolerance : float
        Coefficient of variation below which a size is representative.
    seed : int
        Seed of the subvolume positions and of the bootstrap.
    client, scheduler, n_workers
        Where the subvolumes run (as in :meth:`rhizoscale.sensitivity.SensitivityStudy.run`).

    Examples
    --------
    >>> import numpy as np
    >>> rev = rev_analysis(np.ones((16, 16)), [4, 8], voxel_size=0.01, n_subvolumes=2,
    ...                    client="serial")
    >>> rev.rev, float(rev.data["cv"].max())
    (4, 0.0)
    """
    if hasattr(image, "diffusivity"):
        diff, vs = np.asarray(image.diffusivity(), float), image.voxel_size
    else:
        diff, vs = np.asarray(image, float), voxel_size
        if vs is None:
            raise InputError("give voxel_size for an array", field="voxel_size")
    sizes = sorted({int(s) for s in sizes})
    if not sizes or sizes[0] < 2 or sizes[-1] > min(diff.shape):
        raise InputError(f"sizes must lie in [2, {min(diff.shape)}] voxels", field="sizes")
    rng = np.random.default_rng(seed)
    jobs = []
    for s in sizes:
        n = 1 if all(s == e for e in diff.shape) else n_subvolumes
        for k in range(n):
            corner = [int(rng.integers(0, e - s + 1)) for e in diff.shape]
            jobs.append((s, k, corner))
    if client == "serial":          # in-process (doctests, debugging)
        values = [subvolume_effective_diffusivity(diff, c, s, vs, periodisation) for s, _, c in jobs]
    else:
        own = None
        if client is None:
            from ..sensitivity.cluster import connect
            client, own = connect(scheduler, n_workers)
        try:
            [shared] = client.scatter([diff], broadcast=True)
            futures = [client.submit(subvolume_effective_diffusivity, shared, c, s, vs, periodisation, pure=False)
                       for s, _, c in jobs]
            values = client.gather(futures)
        finally:
            if own is not None:
                client.close()
                own.close()
    nmax = max(n_subvolumes, 1)
    d = np.full((len(sizes), nmax, diff.ndim), np.nan)
    for (s, k, _), v in zip(jobs, values):
        d[sizes.index(s), k] = v
    principal = np.nanmean(d, axis=2)
    mean = np.nanmean(principal, axis=1)
    std = np.array([np.nanstd(row, ddof=1) if np.sum(np.isfinite(row)) > 1 else 0.0 for row in principal])
    cv = np.where(mean > 0, std / np.where(mean > 0, mean, 1), np.inf)
    lo, hi = np.empty(len(sizes)), np.empty(len(sizes))
    for i, row in enumerate(principal):
        row = row[np.isfinite(row)]
        boots = rng.choice(row, size=(1000, row.size)).mean(axis=1)
        lo[i], hi[i] = np.percentile(boots, [2.5, 97.5])
    ok = cv <= tolerance
    rev = bounds = at = None
    for i in range(len(sizes)):
        if np.all(ok[i:]):
            rev = sizes[i]
            bounds = (sizes[i - 1] if i else 0, sizes[i])
            at = (float(mean[i]), float(lo[i]), float(hi[i]))
            break
    axes = ("z", "y", "x")[-diff.ndim:]
    ds = xr.Dataset(
        {"d_eff": (("size", "sample", "axis"), d, {"units": "as the image's diffusivities",
                                                   "long_name": "diagonal of the subvolume's effective tensor"}),
         "mean": ("size", mean, {"units": "as the image's diffusivities", "long_name": "mean principal value"}),
         "cv": ("size", cv, {"units": "1", "long_name": "coefficient of variation across subvolumes"}),
         "ci_low": ("size", lo, {"units": "as the image's diffusivities"}),
         "ci_high": ("size", hi, {"units": "as the image's diffusivities"})},
        coords={"size": ("size", sizes, {"units": "voxels"}),
                "sample": ("sample", np.arange(nmax), {"units": "1"}),
                "axis": ("axis", list(axes), {"units": "1"})},
        attrs={"periodisation": periodisation, "tolerance": tolerance, "seed": seed})
    return RevResult(ds, rev, bounds, at, tolerance)

"""Initial positions of bacteria: a Thomas (Neyman–Scott) cluster process calibrated to
bare-soil statistics. Units: µm.

Raynaud & Nunan (2014) mapped bacteria in 744 soil thin-section images and found that at
bulk-soil densities (1e8 cells g^-1) a cell has on average about 120 neighbours within
an interaction distance of about 20 µm: far more than a random (Poisson) placement at
that density gives (about 4 at 1.3e-4 cells µm^-3), i.e. cells are strongly clustered.

A Thomas process places cluster centres at random (intensity ``kappa``) and around each a
Poisson number (mean ``mu``) of cells at Gaussian offsets (standard deviation ``sigma``
per axis); the cell intensity is ``lambda = kappa mu``. Its mean number of other cells
within ``r`` of a cell is exact (Ripley's K of the Thomas process in 3D):

    N(r) = lambda 4/3 pi r^3 + mu F(r / (sigma sqrt 2)),

with ``F`` the chi distribution function with 3 degrees of freedom (the distance between
two cells of one cluster is Gaussian with variance ``2 sigma^2`` per axis). Given the
density, ``N(r)`` and a chosen ``sigma``, this fixes ``mu`` and ``kappa``
(:func:`thomas_parameters`).

References
----------
Raynaud, X., & Nunan, N. (2014). Spatial ecology of bacteria at the microscale in soil.
PLoS ONE, 9(1), e87217.
Thomas, M. (1949). A generalization of Poisson's binomial limit for use in ecology.
Biometrika, 36, 18–25.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, stats

from ..errors import InputError

__all__ = ["thomas_parameters", "thomas_points", "thomas_points_of_count", "place_in_water",
           "neighbours_within"]


def thomas_parameters(density: float, neighbours: float, distance: float, sigma: float):
    """Cluster intensity and mean cluster size of a 3D Thomas process.

    Parameters
    ----------
    density : float
        Cells per volume [µm^-3].
    neighbours : float
        Mean number of other cells within ``distance`` of a cell [1].
    distance : float
        [µm].
    sigma : float
        Offspring standard deviation per axis [µm].

    Returns
    -------
    kappa, mu : float
        Cluster centres per volume [µm^-3] and mean cells per cluster.

    Raises
    ------
    InputError
        ``neighbours`` at or below the Poisson value (no clustering to calibrate).

    Examples
    --------
    >>> kappa, mu = thomas_parameters(1.3e-4, 120.0, 20.0, 10.0)
    >>> round(mu), f"{kappa:.2e}"
    (270, '4.81e-07')
    """
    poisson = density * 4.0 / 3.0 * np.pi * distance ** 3
    if neighbours <= poisson:
        raise InputError(f"{neighbours} neighbours within {distance} um is not above the "
                         f"random-placement value {poisson:.3g}: nothing to cluster",
                         field="neighbours_within")
    within = stats.chi.cdf(distance / (sigma * np.sqrt(2.0)), 3)
    mu = (neighbours - poisson) / within
    return density / mu, mu


def thomas_points(box, kappa: float, mu: float, sigma: float, rng) -> np.ndarray:
    """Points of a Thomas process in a periodic box ``(Lz, Ly, Lx)`` [µm] (array axis order).

    Returns an ``(n, 3)`` float array of positions ``(z, y, x)`` in ``[0, L)``.
    """
    box = np.asarray(box, float)
    n_parents = rng.poisson(kappa * np.prod(box))
    parents = rng.random((n_parents, 3)) * box
    counts = rng.poisson(mu, n_parents)
    pts = np.repeat(parents, counts, axis=0) + rng.normal(0.0, sigma, (int(counts.sum()), 3))
    return np.mod(pts, box)


def thomas_points_of_count(box, n: int, mu: float, sigma: float, rng) -> np.ndarray:
    """Exactly ``n`` points in clusters of the Thomas process's mean size ``mu``.

    ``max(1, round(n / mu))`` cluster centres uniform in the periodic box ``(Lz, Ly, Lx)``
    [µm], each point in a uniformly chosen cluster at a Gaussian offset (``sigma`` per
    axis). Used when a scenario fixes the cell count (``n_cells``): drawing the count from
    :func:`thomas_points` instead would give no cell at all with probability
    ``exp(-n / mu)`` (80 % for 60 cells in clusters of 270).

    Examples
    --------
    >>> pts = thomas_points_of_count((100.0, 100.0, 100.0), 60, 270.0, 10.0,
    ...                              np.random.default_rng(1))
    >>> pts.shape
    (60, 3)
    """
    box = np.asarray(box, float)
    n = int(n)
    n_parents = max(1, int(round(n / mu)))
    parents = rng.random((n_parents, 3)) * box
    which = rng.integers(n_parents, size=n)
    return np.mod(parents[which] + rng.normal(0.0, sigma, (n, 3)), box)


def neighbours_within(points: np.ndarray, distance: float, box) -> float:
    """Mean number of other points within ``distance`` of a point (periodic box)."""
    from scipy.spatial import cKDTree
    if len(points) < 2:
        return 0.0
    tree = cKDTree(points, boxsize=np.asarray(box, float))
    pairs = tree.count_neighbors(tree, distance) - len(points)
    return pairs / len(points)


def place_in_water(points: np.ndarray, water: np.ndarray, voxel_size: float) -> np.ndarray:
    """Flat voxel index of each point, moved to the nearest water voxel [int32].

    Points falling in solid, air or root are moved to the nearest water voxel centre (the
    cell count and the clusters are kept; cells live in water).
    """
    idx = np.floor(points / voxel_size).astype(np.int64)
    idx = np.minimum(np.maximum(idx, 0), np.array(water.shape) - 1)
    _, nearest = ndimage.distance_transform_edt(~water, return_indices=True)
    z, y, x = idx[:, 0], idx[:, 1], idx[:, 2]
    nz, ny, nx = (nearest[k][z, y, x] for k in range(3))
    return np.ravel_multi_index((nz, ny, nx), water.shape).astype(np.int32)

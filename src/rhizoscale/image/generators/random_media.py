"""Random continuous media: periodic lognormal diffusivity fields (lengths in cm)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ...errors import InputError

__all__ = ["lognormal_medium"]


def lognormal_medium(shape, voxel_size, log_std: float, correlation_length: float, seed: int = 0,
                     geometric_mean: float = 1.0) -> np.ndarray:
    """A periodic lognormal diffusivity field ``D = G exp(sigma Y)`` on voxels of a given size.

    ``Y`` is white noise smoothed by a periodic Gaussian kernel of standard deviation
    ``correlation_length`` [cm] (``correlation_length / voxel_size`` voxels per axis), then
    standardised to zero mean and unit variance over the image, so every realisation has
    exactly the geometric mean ``G`` and log standard deviation ``sigma`` (Gaussian
    covariance of ``Y`` with length ``2 correlation_length``).

    Parameters
    ----------
    shape : tuple of int
        Image shape (2D or 3D) [voxels].
    voxel_size : float or sequence of float
        Voxel edge per array axis [cm].
    log_std : float
        Standard deviation of ln D [-].
    correlation_length : float
        Smoothing length [cm] (> 0).
    seed : int
        Random seed.
    geometric_mean : float
        ``exp(<ln D>)`` [units of D].

    Returns
    -------
    ndarray
        Diffusivity per voxel [units of ``geometric_mean``].

    References
    ----------
    Matheron, G. (1967). Eléments pour une théorie des milieux poreux. Masson, Paris.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.image.generators import lognormal_medium
    >>> d = lognormal_medium((64, 64), 0.01, log_std=1.0, correlation_length=0.04, seed=1)
    >>> round(float(np.exp(np.log(d).mean())), 6), round(float(np.log(d).std()), 6)
    (1.0, 1.0)
    """
    vs = np.broadcast_to(np.asarray(voxel_size, dtype=float), (len(shape),))
    if log_std < 0 or correlation_length <= 0 or geometric_mean <= 0 or np.any(vs <= 0):
        raise InputError("log_std >= 0, correlation_length > 0, voxel_size > 0 and geometric_mean > 0 "
                         "required", field="log_std")
    rng = np.random.default_rng(seed)
    sigma = tuple(float(correlation_length / v) for v in vs)
    y = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    y = (y - y.mean()) / y.std()
    return geometric_mean * np.exp(log_std * y)

"""Effective diffusivity of random heterogeneous media: lognormal fields.

For a 2D statistically isotropic medium whose log-diffusivity is Gaussian (lognormal D),
the effective diffusivity of a domain much larger than the correlation length is the
geometric mean ``exp(<ln D>)`` (Matheron 1967). When the domain is thin along the
direction of diffusion (a few correlation lengths or less), each path across it crosses
few independent regions and the domain behaves as parallel tubes: the effective value
moves toward the arithmetic mean, which it reaches for a domain one voxel thick (von
Jeetze et al. 2020 use this to explain the high apparent diffusivity of thin rhizosphere
layers). :func:`lognormal_thickness_study` computes this transition.

References
----------
Matheron, G. (1967). Eléments pour une théorie des milieux poreux. Masson, Paris.
von Jeetze, P. J., Zarebanadkouki, M., & Carminati, A. (2020). Effective diffusivity of
thin heterogeneous layers (cited as in DESIGN §5; bibliographic details unverified).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from ..errors import InputError
from ..image.generators.random_media import lognormal_medium
from .cell_problem import effective_diffusion_tensor

__all__ = ["lognormal_field", "lognormal_thickness_study"]


def lognormal_field(shape, log_std: float, correlation_length: float, seed: int = 0,
                    geometric_mean: float = 1.0) -> np.ndarray:
    """A periodic lognormal diffusivity field ``D = G exp(sigma Y)``, lengths in voxels.

    :func:`rhizoscale.image.generators.lognormal_medium` on unit voxels (the thickness
    study is dimensionless): ``correlation_length`` is in voxels; see there for the
    parameters and the construction.

    Parameters
    ----------
    shape : tuple of int
        Field shape (voxels), periodic along every axis.
    log_std : float
        sigma, standard deviation of ``ln D`` [1].
    correlation_length : float
        Correlation length of ``Y`` [voxels].
    seed : int
        Seed of the random field.
    geometric_mean : float
        G, the geometric mean of D (any units; the field has the same).

    Returns
    -------
    numpy.ndarray
        D, of shape ``shape``.

    References
    ----------
    Matheron, G. (1967). Eléments pour une théorie des milieux poreux. Masson, Paris.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.homogenization import lognormal_field
    >>> d = lognormal_field((64, 64), log_std=1.0, correlation_length=4.0, seed=1)
    >>> round(float(np.exp(np.log(d).mean())), 6), round(float(np.log(d).std()), 6)
    (1.0, 1.0)
    """
    # the generator (lengths in cm) on unit voxels: lengths in voxels
    return lognormal_medium(shape, 1.0, log_std, correlation_length, seed=seed,
                            geometric_mean=geometric_mean)


def lognormal_thickness_study(thicknesses: Sequence[int], width: int = 256, log_std: float = 1.0,
                              correlation_length: float = 4.0, realisations: int = 4,
                              seed: int = 0,
                              callback: Callable[[int, int], None] | None = None) -> xr.Dataset:
    """Effective diffusivity of lognormal 2D domains of increasing thickness.

    Each domain is ``thickness`` voxels along the diffusion direction (axis 1) and
    ``width`` across; it is cut from a periodic field of ``width x width`` voxels and solved
    with fixed concentrations on its two ends and no flux on the sides (the ``"mirror"``
    set-up, as in a diffusion cell).

    Parameters
    ----------
    thicknesses : sequence of int
        Domain thicknesses along the diffusion direction [voxels], 1 to ``width``.
    width : int
        Domain width across the diffusion direction [voxels].
    log_std : float
        Standard deviation of ln D [-].
    correlation_length : float
        Smoothing length of the field [voxels].
    realisations : int
        Number of random fields (seeds ``seed``, ``seed + 1``, ...).
    seed : int
        First random seed.
    callback : callable, optional
        ``callback(done, total)`` after each domain.

    Returns
    -------
    xarray.Dataset
        ``d_eff``, and the ``arithmetic`` and ``geometric`` means of each domain
        (thickness, realisation); ``position`` (thickness) = ``(d_eff - geometric) /
        (arithmetic - geometric)`` averaged over realisations: 1 at the arithmetic mean
        (one voxel thick, exactly), 0 at the geometric mean (thick domains).

    Raises
    ------
    InputError
        Thicknesses outside ``[1, width]``.

    References
    ----------
    von Jeetze, P. J., et al. (2020) (thin domains tend to the arithmetic mean); Matheron
    (1967) (large 2D domains: the geometric mean).

    Examples
    --------
    >>> from rhizoscale.homogenization import lognormal_thickness_study
    >>> study = lognormal_thickness_study([1, 64], width=64, realisations=2)
    >>> study["position"].values.round(2)          # 1: arithmetic mean, 0: geometric mean
    array([1.  , 0.06])
    """
    thick = np.asarray(thicknesses, dtype=int)
    if thick.ndim != 1 or np.any(thick < 1) or np.any(thick > width):
        raise InputError(f"thicknesses must be between 1 and width = {width}", field="thicknesses")
    d_eff = np.zeros((thick.size, realisations))
    arith = np.zeros((thick.size, realisations))
    geom = np.zeros((thick.size, realisations))
    total = thick.size * realisations
    for r in range(realisations):
        field = lognormal_field((width, width), log_std, correlation_length, seed=seed + r)
        for k, t in enumerate(thick):
            slab = field[:, :t]
            arith[k, r], geom[k, r] = slab.mean(), np.exp(np.log(slab).mean())
            res = effective_diffusion_tensor(slab, periodisation="mirror")
            d_eff[k, r] = res.tensor[1, 1]
            if callback is not None:
                callback(r * thick.size + k + 1, total)
    return xr.Dataset(
        {"d_eff": (("thickness", "realisation"), d_eff, {
            "units": "1", "long_name": "effective diffusivity along the thickness (relative)"}),
         "arithmetic": (("thickness", "realisation"), arith, {"units": "1", "long_name": "arithmetic mean"}),
         "geometric": (("thickness", "realisation"), geom, {"units": "1", "long_name": "geometric mean"}),
         "position": (("thickness",), ((d_eff - geom) / (arith - geom)).mean(axis=1),
                      {"units": "1", "long_name": "(D_eff - geometric) / (arithmetic - geometric)"})},
        coords={"thickness": ("thickness", thick, {"units": "voxels"}),
                "realisation": ("realisation", np.arange(realisations), {"units": "1"})},
        attrs={"log_std": log_std, "correlation_length_voxels": correlation_length, "width": width,
               "seed": seed})

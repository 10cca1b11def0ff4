"""Water at a target saturation in a pore image: morphological drainage, then LBM relaxation.

1. *Initial state* — morphological (capillary-equilibrium) drainage of a fully wetting
   fluid (Hilpert & Miller 2001): every pore voxel gets its local pore size ``R(x)``
   (:func:`rhizoscale.image.generators.local_pore_size`); the water is the ``S`` share of
   the pore voxels with the smallest ``R`` (ties: nearer to a wall keeps water).
2. *Relaxation at fixed liquid mass* — the two-phase LBM (mass is conserved to round-off)
   runs until, between two checks ``check_every`` steps apart, the largest speed is below
   ``u_tol`` and the share of pore nodes holding liquid (``rho`` above the mid-density)
   changed by less than ``s_tol`` (both stated in the result),
   or ``max_steps`` is reached (then ``converged`` is False and the result says so).
3. *Product* — an :class:`~rhizoscale.core.image.Image` with the solid, water and air labels
   of :func:`~rhizoscale.image.generators.granular_phases` (water: ``rho > (rho_g + rho_l)/2``)
   and the density field as an xarray Dataset.

The saturation is the mass-weighted liquid fraction of the pore space,
``S = sum (rho - rho_g)/(rho_l - rho_g) / N_pore``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from scipy import ndimage

from ..core.image import Image
from ..errors import InputError
from ..image.generators.granular import AIR, SOLID, WATER, granular_phases, local_pore_size
from .measure import liquid_volume, spurious_current
from .two_phase import TwoPhaseLBM
from .wetting import coexistence

__all__ = ["drainage_state", "SaturationResult", "water_at_saturation", "solid_labels"]


def solid_labels(image: Image, solid_phases=None) -> np.ndarray:
    """Wall labels for the LBM: 0 on pore voxels, ``1 + i`` on the i-th solid phase.

    ``solid_phases`` names the phases that are solid (default: those with role
    ``"solid"``, ``"root"`` or ``"hair"``); every name must exist in the image.
    """
    if solid_phases is None:
        solids = [p for p in image.phases if p.role in ("solid", "root", "hair")]
    else:
        names = {p.name for p in image.phases}
        missing = [n for n in solid_phases if n not in names]
        if missing:
            raise InputError(f"no phase named {', '.join(map(repr, missing))} in the image "
                             f"(phases: {', '.join(sorted(names))})",
                             source=image.metadata.get("source", "image"), field="solid_phases")
        solids = [p for p in image.phases if p.name in solid_phases]
    walls = np.zeros(image.shape, np.int32)
    for i, p in enumerate(solids):
        walls[image.labels == p.label] = i + 1
    if (walls > 0).all():
        raise InputError("the image has no pore space (every voxel is solid)",
                         source=image.metadata.get("source", "image"), field="labels")
    if not (walls > 0).any():
        raise InputError("the image has no solid phase (name them with solid_phases)",
                         source=image.metadata.get("source", "image"), field="solid_phases")
    return walls


def drainage_state(pore: np.ndarray, saturation: float, voxel_size=1.0) -> np.ndarray:
    """Water mask of a morphological drainage at ``saturation`` of the pore space."""
    if not 0 < saturation < 1:
        raise InputError(f"saturation must be in (0, 1), got {saturation}", field="saturation")
    n = int(round(saturation * pore.sum()))
    R = local_pore_size(pore, voxel_size)
    wall = ndimage.distance_transform_edt(pore)
    key = np.where(pore, R, np.inf)
    order = np.lexsort((np.where(pore, wall, np.inf).ravel(), key.ravel()))
    water = np.zeros(pore.size, bool)
    water[order[:n]] = True
    return water.reshape(pore.shape) & pore


@dataclass
class SaturationResult:
    image: Image
    density: xr.Dataset
    saturation: float
    initial_saturation: float
    steps: int
    max_speed: float
    converged: bool
    criteria: dict
    history: list = field(default_factory=list)
    # (step, mass-weighted saturation, share of pore nodes above mid-density, max speed)


def water_at_saturation(image: Image, saturation: float, *, eos, wall_density, forcing="edm",
                        tau: float = 1.0, solid_phases=None, check_every: int = 200,
                        max_steps: int = 20000, u_tol: float = 1e-3, s_tol: float = 1e-3,
                        model_kw=None) -> SaturationResult:
    """Water and air in ``image``'s pores at ``saturation``, relaxed by the two-phase LBM.

    Parameters
    ----------
    image : Image
        Pore image; solids are the phases named in ``solid_phases`` (default: roles solid,
        root, hair), everything else is pore space.
    saturation : float
        Target water saturation of the pore space [-], in (0, 1).
    eos : ShanChenEOS or CarnahanStarlingEOS
    wall_density : float or dict {solid phase name: float}
        Virtual wall density of the solids (see :mod:`.wetting`) [lattice density].
    check_every, max_steps : int
        Lattice steps between convergence checks, and at most.
    u_tol : float
        Largest speed allowed at convergence [lattice units].
    s_tol : float
        Largest saturation change between two checks at convergence [-].

    Returns
    -------
    SaturationResult
        ``image`` (labels AIR, SOLID, WATER), the density Dataset, achieved saturation,
        steps, the largest speed, whether the criteria were met, and the history.

    Examples
    --------
    >>> from rhizoscale.image.generators import sand_packing        # doctest: +SKIP
    >>> from rhizoscale.porescale import CarnahanStarlingEOS         # doctest: +SKIP
    >>> img = sand_packing((64, 64), 1e-3, mean_radius=0.008, seed=1).image   # doctest: +SKIP
    >>> res = water_at_saturation(img, 0.5, eos=CarnahanStarlingEOS(0.7),
    ...                           wall_density=0.2)                 # doctest: +SKIP
    """
    walls = solid_labels(image, solid_phases)
    if isinstance(wall_density, dict):
        solids = ([p for p in image.phases if p.role in ("solid", "root", "hair")]
                  if solid_phases is None else [p for p in image.phases if p.name in solid_phases])
        missing = [p.name for p in solids if p.name not in wall_density]
        if missing:
            raise InputError(f"no wall density for solid phase(s) {', '.join(missing)}",
                             field="wall_density")
        wd = {i + 1: float(wall_density[p.name]) for i, p in enumerate(solids)}
    else:
        wd = float(wall_density)
    pore = walls == 0
    rg, rl = coexistence(eos, forcing)
    water0 = drainage_state(pore, saturation, image.voxel_size)
    rho0 = np.where(water0, rl, rg)
    model = TwoPhaseLBM(walls, rho0, eos, wall_density=wd, forcing=forcing, tau=tau,
                        **(model_kw or {}))
    n_pore = int(pore.sum())

    level = 0.5 * (rg + rl)

    def sat(rho):          # mass-weighted: fixed by the conserved mass (the target)
        return liquid_volume(np.where(pore, rho, np.nan), rg, rl) / n_pore

    def sat_sharp(rho):    # share of pore nodes above the mid-density: moves with interfaces
        return float((np.nan_to_num(rho) > level).sum()) / n_pore

    rho, _ = model.moments()
    s_init = sat(rho)
    s_prev = sat_sharp(rho)
    history = []
    converged = False
    umax = math.inf
    while model.iteration < max_steps:
        model.step(check_every)
        rho, u = model.moments()
        s_now = sat_sharp(rho)
        umax = spurious_current(u)
        history.append((int(model.iteration), float(sat(rho)), s_now, float(umax)))
        if umax < u_tol and abs(s_now - s_prev) < s_tol:
            converged = True
            break
        s_prev = s_now
    s = sat(rho)
    labels = np.where(pore, np.where(np.nan_to_num(rho) > level, WATER, AIR), SOLID)
    labels = labels.astype(np.uint8)
    out = Image(labels, image.voxel_size, granular_phases(), {
        **image.metadata, "source": "porescale.water_at_saturation",
        "target_saturation": float(saturation), "saturation": float(s),
        "lattice_steps": int(model.iteration), "converged": bool(converged)},
        image.origin)
    ds = model.state()
    return SaturationResult(out, ds, float(s), float(s_init), int(model.iteration), float(umax),
                            converged, {"u_tol": u_tol, "s_tol": s_tol, "check_every": check_every,
                                        "max_steps": max_steps}, history)

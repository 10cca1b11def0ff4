"""Wetting walls: contact angle of a sessile drop and the wall density for a requested angle.

Each solid label carries a virtual wall density ``rho_w`` (Benzi et al. 2006; the fluid
next to the wall feels ``psi(rho_w)``). ``rho_w`` near the liquid density wets (small
angle), near the gas density does not (large angle); the angle is a monotone function of
``rho_w`` that depends on the EOS, the lattice and the forcing, so it is *measured*
(:func:`sessile_drop_angle`) and inverted by interpolation (:func:`wall_density_for_angle`)
— the calibration the issue asks for. (The closed form of Huang et al. 2007 is for the
two-component Shan–Chen model with adhesion forces and does not apply to a virtual wall
density in a single-component model.)

Calibrations are cached as JSON in the user cache directory (``RHIZOSCALE_CACHE`` or
``~/.cache/rhizoscale/porescale``), keyed by a hash of everything the angle depends on.

References
----------
Benzi, R., Biferale, L., Sbragaglia, M., Succi, S., & Toschi, F. (2006). Phys. Rev. E, 74,
021509.
Huang, H., Thorne, D. T., Schaap, M. G., & Sukop, M. C. (2007). Proposed approximation for
contact angles in Shan-and-Chen-type multicomponent multiphase lattice Boltzmann models.
Phys. Rev. E, 76, 066701.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .equation_of_state import maxwell_construction, mechanical_coexistence
from .measure import sessile_contact_angle

__all__ = ["sessile_drop_angle", "WettingCalibration", "calibrate_wetting", "cached_calibration",
           "wall_density_for_angle", "cache_dir", "coexistence"]


def coexistence(eos, forcing: str) -> tuple[float, float]:
    """The gas and liquid densities the scheme reaches at a flat interface (used to start
    runs near equilibrium): mechanical (epsilon = 0) for Guo, Maxwell otherwise."""
    if forcing == "guo":
        return mechanical_coexistence(eos, 0.0)
    return maxwell_construction(eos)


def cache_dir() -> Path:
    root = os.environ.get("RHIZOSCALE_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "rhizoscale"
    return base / "porescale"


def sessile_drop_angle(eos, wall_density: float, *, forcing: str = "edm", tau: float = 1.0,
                       shape=(32, 72), radius: float = 13.0, steps: int = 3000,
                       ndim: int = 2) -> float:
    """Contact angle [deg] of a drop on a flat wall of virtual density ``wall_density``.

    A 2D drop (D2Q9) — or, with ``ndim=3``, a 3D drop (D3Q19; angle from its central
    section) — starts as a half disc/sphere on the wall and relaxes for ``steps``.
    """
    from .two_phase import TwoPhaseLBM

    rg, rl = coexistence(eos, forcing)
    ny, nx = shape
    full = (nx, ny, nx) if ndim == 3 else (ny, nx)
    walls = np.zeros(full, int)
    walls[..., :2, :] = 1
    grids = np.indices(full)
    r2 = (grids[-1] - nx / 2) ** 2 + (grids[-2] - 2) ** 2
    if ndim == 3:
        r2 = r2 + (grids[0] - nx / 2) ** 2
    rho = np.where(r2 <= radius**2, rl, rg)
    m = TwoPhaseLBM(walls, rho, eos, wall_density={1: wall_density}, forcing=forcing, tau=tau)
    m.step(steps)
    r = m.density()
    if ndim == 3:
        r = r[nx // 2]
    gas = float(np.nanmedian(r[-3:]))
    return sessile_contact_angle(r, 2, gas, rl)[0]


@dataclass
class WettingCalibration:
    """Measured contact angle [deg] at each wall density [lattice density]."""

    key: str
    wall_density: list
    angle: list
    settings: dict

    def angle_range(self) -> tuple[float, float]:
        """The smallest and largest angle [deg] the calibrated wall densities reach."""
        return float(np.min(self.angle)), float(np.max(self.angle))

    def wall_density_for(self, theta: float) -> float:
        """Wall density giving ``theta`` [deg] by monotone linear interpolation.

        Raises
        ------
        InputError
            (field ``contact_angle``) when ``theta`` lies outside :meth:`angle_range`.
        """
        rw = np.asarray(self.wall_density)
        th = np.asarray(self.angle)
        order = np.argsort(th)
        lo, hi = self.angle_range()
        if not lo <= theta <= hi:
            raise InputError(f"contact angle {theta:g} deg is outside the calibrated range "
                             f"[{lo:.1f}, {hi:.1f}] deg of this fluid model (choose an angle "
                             f"inside it or give wall_density)", field="contact_angle")
        return float(np.interp(theta, th[order], rw[order]))


def _key(eos, forcing, tau, shape, radius, steps, ndim, densities) -> str:
    text = json.dumps({"eos": repr(eos), "forcing": forcing, "tau": tau, "shape": list(shape),
                       "radius": radius, "steps": steps, "ndim": ndim,
                       "densities": [round(float(d), 10) for d in densities]}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def calibrate_wetting(eos, *, forcing: str = "edm", tau: float = 1.0, n: int = 5,
                      densities=None, shape=(32, 72), radius: float = 13.0, steps: int = 3000,
                      ndim: int = 2, use_cache: bool = True) -> WettingCalibration:
    """Contact angle against wall density by sessile-drop runs (cached as JSON).

    Parameters
    ----------
    eos : ShanChenEOS or CarnahanStarlingEOS
    forcing, tau : as in :class:`TwoPhaseLBM`
    n : int
        Number of wall densities, evenly spaced between the gas density and 60 % of the
        way to the liquid density (beyond, walls condense liquid films and runs with large
        density ratios become unstable).
    densities : sequence of float, optional
        The wall densities instead.

    Returns
    -------
    WettingCalibration
    """
    densities = _densities(eos, forcing, n, densities)
    key = _key(eos, forcing, tau, shape, radius, steps, ndim, densities)
    path = cache_dir() / f"wetting-{key}.json"
    if use_cache and path.is_file():
        data = json.loads(path.read_text())
        return WettingCalibration(**data)
    angles = [sessile_drop_angle(eos, float(d), forcing=forcing, tau=tau, shape=shape,
                                 radius=radius, steps=steps, ndim=ndim) for d in densities]
    cal = WettingCalibration(key, [float(d) for d in densities], [float(a) for a in angles],
                             {"eos": repr(eos), "forcing": forcing, "tau": tau, "ndim": ndim,
                              "shape": list(shape), "radius": radius, "steps": steps})
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_text(json.dumps(asdict(cal), indent=1))
        tmp.replace(path)
    return cal


def _densities(eos, forcing, n, densities):
    if densities is None:
        rg, rl = coexistence(eos, forcing)
        densities = np.linspace(rg, rg + 0.6 * (rl - rg), n)
    return densities


def cached_calibration(eos, *, forcing: str = "edm", tau: float = 1.0, n: int = 5,
                       densities=None, shape=(32, 72), radius: float = 13.0, steps: int = 3000,
                       ndim: int = 2):
    """The calibration :func:`calibrate_wetting` would return with these arguments when it
    is cached already, else ``None`` (no lattice run: lets a scenario check a requested
    angle against the reachable range before it spends time calibrating).

    Examples
    --------
    >>> from rhizoscale.porescale import CarnahanStarlingEOS
    >>> cal = cached_calibration(CarnahanStarlingEOS(0.8))   # None unless run before
    """
    densities = _densities(eos, forcing, n, densities)
    path = cache_dir() / f"wetting-{_key(eos, forcing, tau, shape, radius, steps, ndim, densities)}.json"
    if not path.is_file():
        return None
    return WettingCalibration(**json.loads(path.read_text()))


def wall_density_for_angle(theta: float, eos, **kw) -> float:
    """Virtual wall density [lattice density] that gives contact angle ``theta`` [deg].

    Examples
    --------
    >>> from rhizoscale.porescale import CarnahanStarlingEOS          # doctest: +SKIP
    >>> wall_density_for_angle(60.0, CarnahanStarlingEOS(0.7))        # doctest: +SKIP
    """
    return calibrate_wetting(eos, **kw).wall_density_for(theta)

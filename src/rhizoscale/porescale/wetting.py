"""Wetting walls: contact angle of a sessile drop and the wall density for a requested angle.

Each solid label carries a virtual wall density ``rho_w`` (Benzi et al. 2006; the fluid
next to the wall feels ``psi(rho_w)``). ``rho_w`` near the liquid density wets (small
angle), near the gas density does not (large angle); the angle is a monotone function of
``rho_w`` that depends on the EOS, the lattice and the forcing, so it is *measured*
(:func:`sessile_drop_angle`) and inverted by interpolation (:func:`wall_density_for_angle`)
— the calibration the issue asks for. The lattice matters: a 3D (D3Q19) drop spreads
more than a 2D (D2Q9) one on the same wall density, so 3D runs use 3D drops (spherical
caps, ``ndim=3``). (The closed form of Huang et al. 2007, ``cos theta = (G_ads,2 -
G_ads,1) / (G_c (rho_1 - rho_2) / 2)``, is for the two-component Shan–Chen model with
adhesion forces ``G_ads``; this single-component model with a virtual wall density has no
such parameters, so it has nothing to compare with.)

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
from .measure import sessile_cap_angle, sessile_contact_angle

__all__ = ["SessileDropModel", "sessile_drop_angle", "WettingCalibration", "calibrate_wetting",
           "cached_calibration", "wall_density_for_angle", "cache_dir", "coexistence"]


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


class RelaxingDrop:
    """What the calibration drops share (:class:`SessileDropModel`,
    :class:`~.calibration.LaplaceDropModel`): a lattice ``lbm`` stepped to a time, with a
    quantity measured every ``check_every`` steps while a tolerance ``tol`` is set and
    :attr:`done` once two checks agree (:meth:`_settled`); checkpointable.

    Subclasses set ``lbm``, ``check_every``, ``history``, ``done`` and define ``tol``,
    ``_measure()`` and ``_settled(new, old)``.
    """

    tol: float | None = None

    @property
    def time(self) -> float:
        return float(self.lbm.time)

    def _measure(self) -> float:
        raise NotImplementedError

    def _settled(self, new: float, old: float) -> bool:
        raise NotImplementedError

    def advance_to(self, t: float) -> None:
        """Step to ``t`` [lattice steps], checking the criterion every ``check_every``."""
        while self.time < t - 0.5 and not self.done:
            n = int(round(t - self.time))
            if self.tol is not None:
                n = min(n, self.check_every - int(self.time) % self.check_every)
            self.lbm.step(n)
            if self.tol is not None and int(self.time) % self.check_every == 0:
                value = self._measure()
                if self.history and self._settled(value, self.history[-1][1]):
                    self.done = True
                self.history.append((int(self.time), value))

    def step(self, dt: float) -> None:
        self.advance_to(self.time + dt)

    def checkpoint_state(self) -> dict:
        return {"lbm": self.lbm.checkpoint_state(), "done": self.done,
                "history": np.array(self.history, dtype=np.float64).reshape(-1, 2)}

    def restore_state(self, state: dict) -> None:
        self.lbm.restore_state(state["lbm"])
        self.done = bool(state["done"])
        self.history = [(int(a), float(b)) for a, b in state["history"]]

    def state(self):
        """The fluid state (:meth:`TwoPhaseLBM.state`, lattice units)."""
        return self.lbm.state()


class SessileDropModel(RelaxingDrop):
    """A drop relaxing on a flat wall, its contact angle measured (a Model of the contract).

    The drop starts as a half disc (D2Q9, ``ndim=2``) or half sphere (D3Q19, ``ndim=3``)
    of ``radius`` nodes on a wall two nodes thick of virtual density ``wall_density`` and
    relaxes. Model time is in lattice steps; it is stepped by
    :class:`~rhizoscale.simulation.Simulation`. With ``angle_tol`` set, the angle is
    measured every ``check_every`` steps and :attr:`done` turns True (the run stops) once
    it changed by less than ``angle_tol`` degrees since the previous check — the
    equilibrium criterion; without it the drop runs to the Simulation's stop time.

    The angle: 2D, a circle fitted to the interface (:func:`~.measure.sessile_contact_angle`);
    3D, the spherical cap of the fitted sphere, ``tan(theta/2) = h / a`` from the cap's
    height and base radius (:func:`~.measure.sessile_cap_angle`).

    Parameters
    ----------
    eos, wall_density, forcing, tau
        The fluid model (:class:`~.two_phase.TwoPhaseLBM`).
    shape : (ny, nx)
        Height and width of the box [nodes]; 3D boxes are ``(nx, ny, nx)``.
    radius : float
        Radius of the initial half disc/sphere [nodes].
    ndim : 2 or 3
    check_every : int
        Lattice steps between angle checks (with ``angle_tol``).
    angle_tol : float, optional
        Equilibrium criterion [deg].

    Attributes
    ----------
    time : float
        Lattice steps run.
    done : bool
        The equilibrium criterion is met.
    history : list of (step, angle)
        The angle at each check [deg].

    Examples
    --------
    >>> from rhizoscale.porescale import CarnahanStarlingEOS
    >>> from rhizoscale.simulation import Simulation
    >>> m = SessileDropModel(CarnahanStarlingEOS(0.8), 0.1, forcing="li", shape=(20, 40),
    ...                      radius=8.0, check_every=100, angle_tol=50.0)
    >>> _ = Simulation(m, stop_time=2000, dt=m.check_every).run()
    >>> m.done, m.time                  # a loose criterion: met at the second check
    (True, 200.0)
    """

    def __init__(self, eos, wall_density: float, *, forcing: str = "edm", tau: float = 1.0,
                 shape=(32, 72), radius: float = 13.0, ndim: int = 2, check_every: int = 250,
                 angle_tol: float | None = None):
        from .two_phase import TwoPhaseLBM

        self.rho_gas, self.rho_liquid = coexistence(eos, forcing)
        self.ndim = int(ndim)
        ny, nx = shape
        full = (nx, ny, nx) if self.ndim == 3 else (ny, nx)
        walls = np.zeros(full, int)
        walls[..., :2, :] = 1
        grids = np.indices(full)
        r2 = (grids[-1] - nx / 2) ** 2 + (grids[-2] - 2) ** 2
        if self.ndim == 3:
            r2 = r2 + (grids[0] - nx / 2) ** 2
        rho = np.where(r2 <= radius**2, self.rho_liquid, self.rho_gas)
        self.lbm = TwoPhaseLBM(walls, rho, eos, wall_density={1: wall_density},
                               forcing=forcing, tau=tau)
        self.check_every = int(check_every)
        self.angle_tol = None if angle_tol is None else float(angle_tol)
        self.history: list = []
        self.done = False

    def angle(self) -> float:
        """Contact angle of the drop now [deg]."""
        r = self.lbm.density()
        gas = float(np.nanmedian(r[..., -3:, :]))       # the gas under the lid
        if self.ndim == 3:
            return sessile_cap_angle(r, 2, gas, self.rho_liquid, axis=1)[0]
        return sessile_contact_angle(r, 2, gas, self.rho_liquid)[0]

    def cap(self) -> tuple[float, float, float, float]:
        """3D: ``(theta [deg], h, a, R)`` of :func:`~.measure.sessile_cap_angle` [nodes]."""
        r = self.lbm.density()
        return sessile_cap_angle(r, 2, float(np.nanmedian(r[..., -3:, :])), self.rho_liquid,
                                 axis=1)

    @property
    def tol(self) -> float | None:
        return self.angle_tol

    def _measure(self) -> float:
        return self.angle()

    def _settled(self, new: float, old: float) -> bool:
        return abs(new - old) < self.angle_tol


def sessile_drop_angle(eos, wall_density: float, *, forcing: str = "edm", tau: float = 1.0,
                       shape=(32, 72), radius: float = 13.0, steps: int = 3000,
                       ndim: int = 2, angle_tol: float | None = None,
                       check_every: int = 250) -> float:
    """Contact angle [deg] of a drop on a flat wall of virtual density ``wall_density``.

    A :class:`SessileDropModel` (2D drop on D2Q9, or with ``ndim=3`` a 3D drop on D3Q19
    measured as a spherical cap) stepped by the shared
    :class:`~rhizoscale.simulation.Simulation` for ``steps`` lattice steps, or fewer when
    ``angle_tol`` [deg] is given and the angle settles to it (checked every
    ``check_every`` steps).

    Examples
    --------
    >>> from rhizoscale.porescale import CarnahanStarlingEOS                # doctest: +SKIP
    >>> sessile_drop_angle(CarnahanStarlingEOS(0.8), 0.19, forcing="li")    # doctest: +SKIP
    """
    from ..simulation import Simulation

    m = SessileDropModel(eos, wall_density, forcing=forcing, tau=tau, shape=shape,
                         radius=radius, ndim=ndim, check_every=check_every, angle_tol=angle_tol)
    Simulation(m, stop_time=float(steps), dt=float(check_every), name="sessile-drop").run()
    return m.angle()


@dataclass
class WettingCalibration:
    """Measured contact angle [deg] at each wall density [lattice density]."""

    key: str
    wall_density: list
    angle: list
    settings: dict

    def attached(self) -> np.ndarray:
        """Which calibration drops stayed on the wall: a drop that left it has no contact
        line and measures 180 deg (the fitted circle/sphere does not reach the wall)."""
        return np.asarray(self.angle) < DETACHED_DEG

    def angle_range(self) -> tuple[float, float]:
        """The smallest and largest angle [deg] the calibrated wall densities reach with
        the drop on the wall.

        Below some wall density the drop leaves the wall: the angle jumps from the
        largest attached one (104 deg at 0.107 on D2Q9 with Li's forcing at T/Tc = 0.8)
        to 180 deg within one step of the table. The angles in that jump are not known
        (the drop may leave the wall anywhere inside it), so the range ends at the
        largest attached angle; interpolating across the jump would hand out a wall
        density whose drop has ~10 deg less than requested, or no contact at all.
        """
        th = np.asarray(self.angle)[self.attached()]
        if th.size == 0:
            raise InputError("no calibration drop stayed on the wall (all at 180 deg): "
                             "calibrate with denser walls", field="contact_angle")
        return float(np.min(th)), float(np.max(th))

    def wall_density_for(self, theta: float) -> float:
        """Wall density giving ``theta`` [deg] by monotone linear interpolation between
        the drops that stayed on the wall.

        Raises
        ------
        InputError
            (field ``contact_angle``) when ``theta`` lies outside :meth:`angle_range`,
            naming the range (and, above it, that the drop leaves the wall).
        """
        keep = self.attached()
        rw = np.asarray(self.wall_density)[keep]
        th = np.asarray(self.angle)[keep]
        order = np.argsort(th)
        lo, hi = self.angle_range()
        if not lo <= theta <= hi:
            jump = ""
            if theta > hi and not keep.all():
                jump = (f"; above {hi:.1f} deg the drop leaves the wall within one step of "
                        f"the table (the angle jumps to 180 deg), so angles in the jump are "
                        f"not reachable by interpolation")
            raise InputError(f"contact angle {theta:g} deg is outside the calibrated range "
                             f"[{lo:.1f}, {hi:.1f}] deg of this fluid model{jump} (choose an "
                             f"angle inside it or give wall_density)", field="contact_angle")
        return float(np.interp(theta, th[order], rw[order]))


#: a calibration drop measured at this angle or above [deg] has left the wall
DETACHED_DEG = 179.5


def _key(eos, forcing, tau, shape, radius, steps, ndim, densities, angle_tol=None,
         check_every=250) -> str:
    spec = {"eos": repr(eos), "forcing": forcing, "tau": tau, "shape": list(shape),
            "radius": radius, "steps": steps, "ndim": ndim,
            "densities": [round(float(d), 10) for d in densities]}
    if angle_tol is not None:       # (runs to a fixed step count keep their earlier keys)
        spec.update(angle_tol=float(angle_tol), check_every=int(check_every))
    text = json.dumps(spec, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def calibrate_wetting(eos, *, forcing: str = "edm", tau: float = 1.0, n: int = 5,
                      densities=None, shape=(32, 72), radius: float = 13.0, steps: int = 3000,
                      ndim: int = 2, angle_tol: float | None = None, check_every: int = 250,
                      use_cache: bool = True) -> WettingCalibration:
    """Contact angle against wall density by sessile-drop runs (cached as JSON).

    Each drop is a :class:`SessileDropModel` stepped by the shared
    :class:`~rhizoscale.simulation.Simulation` (:func:`sessile_drop_angle`): D2Q9 drops
    for ``ndim=2``, D3Q19 spherical caps for ``ndim=3`` (what 3D runs should use: 3D drops
    spread more than 2D ones at the same wall density), for ``steps`` lattice steps or until
    the angle changes by less than ``angle_tol`` degrees per ``check_every`` steps.

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
    key = _key(eos, forcing, tau, shape, radius, steps, ndim, densities, angle_tol, check_every)
    path = cache_dir() / f"wetting-{key}.json"
    if use_cache and path.is_file():
        data = json.loads(path.read_text())
        return WettingCalibration(**data)
    angles = [sessile_drop_angle(eos, float(d), forcing=forcing, tau=tau, shape=shape,
                                 radius=radius, steps=steps, ndim=ndim, angle_tol=angle_tol,
                                 check_every=check_every) for d in densities]
    settings = {"eos": repr(eos), "forcing": forcing, "tau": tau, "ndim": ndim,
                "shape": list(shape), "radius": radius, "steps": steps}
    if angle_tol is not None:
        settings.update(angle_tol=angle_tol, check_every=check_every)
    cal = WettingCalibration(key, [float(d) for d in densities], [float(a) for a in angles],
                             settings)
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
                       ndim: int = 2, angle_tol: float | None = None, check_every: int = 250):
    """The calibration :func:`calibrate_wetting` would return with these arguments when it
    is cached already, else ``None`` (no lattice run: lets a scenario check a requested
    angle against the reachable range before it spends time calibrating).

    Examples
    --------
    >>> from rhizoscale.porescale import CarnahanStarlingEOS
    >>> cal = cached_calibration(CarnahanStarlingEOS(0.8))   # None unless run before
    """
    densities = _densities(eos, forcing, n, densities)
    key = _key(eos, forcing, tau, shape, radius, steps, ndim, densities, angle_tol, check_every)
    path = cache_dir() / f"wetting-{key}.json"
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

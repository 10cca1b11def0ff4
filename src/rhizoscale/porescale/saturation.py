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

__all__ = ["drainage_state", "SaturationResult", "SaturationModel", "saturation_model",
           "water_at_saturation", "solid_labels"]


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
    # (step, mass-weighted saturation, share of pore nodes above mid-density, max speed,
    #  largest change of a node's velocity since the previous check)


class SaturationModel:
    """Relaxation of a drainage state at fixed liquid mass (a Model of the contract).

    Model time is in lattice steps; every step of a
    :class:`~rhizoscale.simulation.Simulation` must be one block of ``check_every``
    lattice steps, after which the criteria are checked: no node's velocity changed by
    ``u_tol`` or more since the previous check, and the share of pore nodes above the
    mid-density changed by less than ``s_tol``.

    The criterion is on the *change* of the velocity, not its size: the pseudopotential
    model keeps stationary spurious currents at interfaces and, largest, at wall corners
    (a one-voxel crevice of the 128² example packing holds a largest speed of 5.1e-2 from step 200
    to 6000, unchanged to 3 digits, while every other node settles and the density field
    stops changing to 1e-6 of the density jump); a bound on the largest speed is never met
    there. The largest speed is reported (``max_speed``) as the spurious-current
    magnitude. When both hold, :attr:`done` turns True and the
    Simulation stops (``converged``); otherwise it runs to its stop time, at least
    ``max_steps`` (:meth:`stop_time`).

    Parameters
    ----------
    image : Image
        The pore image (its solids are ``walls > 0``).
    walls : int array
        Wall labels of :func:`solid_labels`.
    saturation : float
        Target saturation [-] (the drainage state's).
    eos, wall_density, forcing, tau, model_kw
        The fluid model (:class:`TwoPhaseLBM`).
    check_every, max_steps, u_tol, s_tol
        The equilibrium criteria (see :func:`water_at_saturation`).

    Attributes
    ----------
    time : float
        Lattice steps run [-].
    done : bool
        The criteria are met.

    Examples
    --------
    >>> from rhizoscale.image.generators import sand_packing
    >>> from rhizoscale.porescale import CarnahanStarlingEOS
    >>> from rhizoscale.simulation import Simulation
    >>> img = sand_packing((32, 32), 1e-3, 0.45, 0.006, seed=3).image
    >>> m = SaturationModel(img, solid_labels(img), 0.5, eos=CarnahanStarlingEOS(0.8),
    ...                     wall_density=0.12, check_every=100, max_steps=200)
    >>> _ = Simulation(m, stop_time=m.stop_time(), dt=m.check_every).run()
    >>> res = m.result()          # the liquid mass is conserved: so is the saturation
    >>> m.time, len(m.history), bool(abs(res.saturation - res.initial_saturation) < 1e-6)
    (200.0, 2, True)
    """

    def __init__(self, image: Image, walls, saturation: float, *, eos, wall_density,
                 forcing="edm", tau: float = 1.0, check_every: int = 200,
                 max_steps: int = 20000, u_tol: float = 1e-3, s_tol: float = 1e-3,
                 model_kw=None):
        self.image = image
        self.target = float(saturation)
        self.pore = np.asarray(walls) == 0
        self.rho_gas, self.rho_liquid = coexistence(eos, forcing)
        water0 = drainage_state(self.pore, saturation, image.voxel_size)
        rho0 = np.where(water0, self.rho_liquid, self.rho_gas)
        self.lbm = TwoPhaseLBM(walls, rho0, eos, wall_density=wall_density, forcing=forcing,
                               tau=tau, **(model_kw or {}))
        self.n_pore = int(self.pore.sum())
        self.check_every, self.max_steps = int(check_every), int(max_steps)
        self.u_tol, self.s_tol = float(u_tol), float(s_tol)
        rho = self.lbm.density()
        self.initial_saturation = self._sat(rho)
        self.s_prev = self._sat_sharp(rho)
        self.u_prev = np.zeros((self.lbm.n_fluid, 3))
        self.history: list = []
        self.done = False
        self.max_speed = math.inf
        self.max_change = math.inf

    @property
    def time(self) -> float:
        return float(self.lbm.time)

    def stop_time(self) -> float:
        """Lattice steps of the whole block sequence: ``max_steps`` rounded up to blocks."""
        return float(math.ceil(self.max_steps / self.check_every) * self.check_every)

    @property
    def level(self) -> float:
        return 0.5 * (self.rho_gas + self.rho_liquid)

    def _sat(self, rho) -> float:
        """Mass-weighted saturation: fixed by the conserved mass (the target)."""
        return liquid_volume(np.where(self.pore, rho, np.nan), self.rho_gas,
                             self.rho_liquid) / self.n_pore

    def _sat_sharp(self, rho) -> float:
        """Share of pore nodes above the mid-density: moves with the interfaces."""
        return float((np.nan_to_num(rho) > self.level).sum()) / self.n_pore

    def advance_to(self, t: float) -> None:
        """Run blocks of ``check_every`` lattice steps to ``t`` (a whole number of blocks),
        checking the criteria after each; stops early when they are met."""
        n = int(round(t - self.time))
        if n % self.check_every:
            raise InputError(f"the saturation driver steps whole blocks of {self.check_every} "
                             f"lattice steps, got {n}", field="dt")
        for _ in range(n // self.check_every):
            if self.done:
                return
            self.lbm.step(self.check_every)
            rho, u = self.lbm.moments()
            s_now = self._sat_sharp(rho)
            self.max_speed = float(spurious_current(u))
            u_now = u.reshape(-1, u.shape[-1])[~self.lbm.solid.ravel()]
            u_now = np.pad(u_now, ((0, 0), (3 - u_now.shape[1], 0)))
            self.max_change = float(np.sqrt(((u_now - self.u_prev) ** 2).sum(axis=1)).max())
            self.u_prev = u_now
            self.history.append((int(self.lbm.iteration), float(self._sat(rho)), s_now,
                                 self.max_speed, self.max_change))
            if self.max_change < self.u_tol and abs(s_now - self.s_prev) < self.s_tol:
                self.done = True
            else:
                self.s_prev = s_now

    def step(self, dt: float) -> None:
        self.advance_to(self.time + dt)

    def result(self) -> "SaturationResult":
        """Water/air image, densities and the achieved saturation now."""
        rho = self.lbm.density()
        s = self._sat(rho)
        labels = np.where(self.pore, np.where(np.nan_to_num(rho) > self.level, WATER, AIR),
                          SOLID).astype(np.uint8)
        image = self.image
        out = Image(labels, image.voxel_size, granular_phases(), {
            **image.metadata, "source": "porescale.water_at_saturation",
            "target_saturation": self.target, "saturation": float(s),
            "lattice_steps": int(self.lbm.iteration), "converged": bool(self.done)},
            image.origin)
        return SaturationResult(out, self.lbm.state(), float(s), float(self.initial_saturation),
                                int(self.lbm.iteration), float(self.max_speed), self.done,
                                {"u_tol": self.u_tol, "s_tol": self.s_tol,
                                 "max_velocity_change": self.max_change,
                                 "check_every": self.check_every, "max_steps": self.max_steps},
                                list(self.history))

    # ------------------------------------------------------------------ state
    def checkpoint_state(self) -> dict:
        return {"lbm": self.lbm.checkpoint_state(), "done": self.done, "s_prev": self.s_prev,
                "max_speed": self.max_speed, "max_change": self.max_change,
                "u_prev": self.u_prev.copy(),
                "history": np.array(self.history, dtype=np.float64).reshape(-1, 5)}

    def restore_state(self, state: dict) -> None:
        self.lbm.restore_state(state["lbm"])
        self.done = bool(state["done"])
        self.s_prev = float(state["s_prev"])
        self.max_speed = float(state["max_speed"])
        self.max_change = float(state["max_change"])
        self.u_prev = np.asarray(state["u_prev"], dtype=np.float64).copy()
        self.history = [(int(a), float(b), float(c), float(d), float(e))
                        for a, b, c, d, e in state["history"]]

    def state(self) -> xr.Dataset:
        """The fluid state (:meth:`TwoPhaseLBM.state`, lattice units) with the saturation."""
        ds = self.lbm.state()
        rho = ds["density"].values
        ds["saturation"] = ((), self._sat(rho), {"units": "1", "long_name": "mass-weighted "
                                                 "water saturation of the pore space"})
        return ds.assign_coords(time=((), self.time, {"units": "lattice steps"}))


def water_at_saturation(image: Image, saturation: float, *, eos, wall_density, forcing="edm",
                        tau: float = 1.0, solid_phases=None, check_every: int = 200,
                        max_steps: int = 20000, u_tol: float = 1e-3, s_tol: float = 1e-3,
                        model_kw=None) -> SaturationResult:
    """Water and air in ``image``'s pores at ``saturation``, relaxed by the two-phase LBM.

    A :class:`SaturationModel` run by a :class:`~rhizoscale.simulation.Simulation` (case
    studies drive the model themselves to get checkpoints).

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
        Lattice steps between convergence checks, and at most (rounded up to whole checks).
    u_tol : float
        Largest change of any node's velocity between two checks at convergence [lattice
        units] (see :class:`SaturationModel`: stationary spurious currents stay).
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
    from ..simulation import Simulation
    model = saturation_model(image, saturation, eos=eos, wall_density=wall_density,
                             forcing=forcing, tau=tau, solid_phases=solid_phases,
                             check_every=check_every, max_steps=max_steps, u_tol=u_tol,
                             s_tol=s_tol, model_kw=model_kw)
    Simulation(model, stop_time=model.stop_time(), dt=model.check_every,
               name="water at saturation").run()
    return model.result()


def saturation_model(image: Image, saturation: float, *, wall_density, solid_phases=None,
                     **kw) -> SaturationModel:
    """A :class:`SaturationModel` of ``image`` at ``saturation``: the solids and their
    wall densities resolved by name (see :func:`water_at_saturation`); ``kw`` go to the
    model."""
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
    return SaturationModel(image, walls, saturation, wall_density=wd, **kw)

"""Physical units: lattice spacing, time step and density scale from surface tension.

The user states the voxel size ``dx`` [cm], the liquid density [kg m^-3] and the surface
tension ``sigma`` [N m^-1]. The lattice surface tension ``sigma_lu`` of the fluid model is
*measured* (:func:`measure_surface_tension`: Laplace law over several droplet radii, the
slope of ``dp`` against ``1/R``), and the units follow from matching density and surface
tension:

    rho_scale = rho_liquid_phys / rho_liquid_lu                    [kg m^-3 per lattice density]
    dt = sqrt(sigma_lu * rho_scale * dx^3 / sigma)                 [s]

(``sigma`` has units kg s^-2, so ``sigma_lu rho_scale dx^3 / dt^2 = sigma``; in 2D the lattice
surface tension is per unit length of the third, unit-thick, dimension and the same
formula holds). The kinematic viscosity is then fixed too,
``nu = c_s^2 (tau - 1/2) dx^2 / dt``, and reported: with dx of microns it is far from
water's — the usual trade-off of pseudopotential models, which is why the time scale is
*reported* rather than imposed. Measurements are cached as JSON like the wetting tables.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import InputError
from .lattice import CS2
from .measure import equivalent_radius, laplace_pressure, liquid_volume
from .wetting import RelaxingDrop, cache_dir, coexistence

__all__ = ["LatticeUnits", "SurfaceTension", "LaplaceDropModel", "measure_surface_tension",
           "lattice_units"]


@dataclass(frozen=True)
class LatticeUnits:
    """Conversion between lattice and physical units.

    Attributes
    ----------
    dx_cm : float
        Lattice spacing [cm].
    dt_s : float
        Time step [s].
    rho_scale : float
        Physical density per lattice density [kg m^-3].
    """

    dx_cm: float
    dt_s: float
    rho_scale: float

    @property
    def dx_m(self) -> float:
        return self.dx_cm * 1e-2

    def density(self, rho):
        return np.asarray(rho) * self.rho_scale

    def velocity(self, u):
        return np.asarray(u) * self.dx_m / self.dt_s

    def pressure(self, p):
        return np.asarray(p) * self.rho_scale * self.dx_m**2 / self.dt_s**2

    def time(self, steps):
        return float(steps) * self.dt_s

    def surface_tension(self, sigma_lu: float) -> float:
        """Lattice surface tension -> N m^-1."""
        return sigma_lu * self.rho_scale * self.dx_m**3 / self.dt_s**2

    def kinematic_viscosity(self, tau: float) -> float:
        """m^2 s^-1 of the relaxation time ``tau``."""
        return CS2 * (tau - 0.5) * self.dx_m**2 / self.dt_s


@dataclass
class SurfaceTension:
    """Laplace-law measurement: ``dp = sigma / R`` (2D) or ``2 sigma / R`` (3D)."""

    key: str
    sigma: float            # lattice units
    radii: list
    dp: list
    max_misfit: float       # of the linear fit, relative to the largest dp
    intercept: float


class LaplaceDropModel(RelaxingDrop):
    """A free droplet relaxing in its vapour, its Laplace pressure measured (a Model of the
    contract, stepped by :class:`~rhizoscale.simulation.Simulation`).

    A disc (2D) or sphere (3D) of ``radius`` nodes at the coexistence densities in a
    periodic box of ``box`` nodes a side. With ``dp_tol`` set, the pressure jump is
    measured every ``check_every`` lattice steps and :attr:`done` turns True once it
    changed by less than ``dp_tol`` (relative) since the previous check — the equilibrium
    criterion; without it the drop runs to the Simulation's stop time.

    Attributes
    ----------
    time : float
        Lattice steps run.
    done : bool
        The equilibrium criterion is met.
    history : list of (step, dp)

    Examples
    --------
    >>> from rhizoscale.porescale import CarnahanStarlingEOS
    >>> from rhizoscale.simulation import Simulation
    >>> m = LaplaceDropModel(CarnahanStarlingEOS(0.8), 8, forcing="li", box=32,
    ...                      check_every=100, dp_tol=0.5)
    >>> _ = Simulation(m, stop_time=1500, dt=m.check_every).run()
    >>> m.done, m.time < 1500, bool(m.radius_and_dp()[1] > 0)  # inside: a higher pressure
    (True, True, True)
    """

    def __init__(self, eos, radius: float, *, forcing: str = "edm", tau: float = 1.0,
                 ndim: int = 2, box: int = 56, check_every: int = 250,
                 dp_tol: float | None = None):
        from .two_phase import TwoPhaseLBM
        self.eos, self.ndim = eos, int(ndim)
        self.rho_gas, self.rho_liquid = coexistence(eos, forcing)
        shape = (box,) * self.ndim
        grids = np.indices(shape)
        r2 = sum((g - n / 2) ** 2 for g, n in zip(grids, shape))
        self.lbm = TwoPhaseLBM(np.zeros(shape, int),
                               np.where(r2 <= radius**2, self.rho_liquid, self.rho_gas), eos,
                               forcing=forcing, tau=tau)
        self.check_every = int(check_every)
        self.dp_tol = None if dp_tol is None else float(dp_tol)
        self.history: list = []
        self.done = False

    def radius_and_dp(self) -> tuple[float, float]:
        """Equivalent radius of the liquid's volume [nodes] and ``p_in - p_out`` [lattice]."""
        rho = self.lbm.density()
        R = equivalent_radius(liquid_volume(rho, rho.min(), rho.max()), self.ndim)
        return R, laplace_pressure(rho, self.eos)[2]

    @property
    def tol(self) -> float | None:
        return self.dp_tol

    def _measure(self) -> float:
        return self.radius_and_dp()[1]

    def _settled(self, new: float, old: float) -> bool:
        return abs(new - old) < self.dp_tol * abs(new)


def measure_surface_tension(eos, *, forcing: str = "edm", tau: float = 1.0, ndim: int = 2,
                            radii=(9, 11, 13, 15), box: int = 56, steps: int = 1500,
                            dp_tol: float | None = None, check_every: int = 250,
                            use_cache: bool = True) -> SurfaceTension:
    """Surface tension of the fluid model [lattice units] from droplets of several radii.

    Each droplet is a :class:`LaplaceDropModel` stepped by the shared
    :class:`~rhizoscale.simulation.Simulation` for ``steps`` lattice steps, or fewer when
    ``dp_tol`` is given and the pressure jump settles to it (relative change per
    ``check_every`` steps); ``sigma`` is the slope of ``dp`` against ``1/R`` (halved in 3D).

    Raises
    ------
    InputError
        When ``dp`` is not linear in ``1/R`` within 5 % (interfaces too wide for the radii).
    """
    from ..simulation import Simulation
    spec = {"eos": repr(eos), "forcing": forcing, "tau": tau, "ndim": ndim,
            "radii": list(radii), "box": box, "steps": steps}
    if dp_tol is not None:          # (runs to a fixed step count keep their earlier keys)
        spec.update(dp_tol=float(dp_tol), check_every=int(check_every))
    text = json.dumps(spec, sort_keys=True)
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = cache_dir() / f"surface-tension-{key}.json"
    if use_cache and path.is_file():
        return SurfaceTension(**json.loads(path.read_text()))
    inv_r, dp, rr = [], [], []
    for radius in radii:
        m = LaplaceDropModel(eos, radius, forcing=forcing, tau=tau, ndim=ndim, box=box,
                             check_every=check_every, dp_tol=dp_tol)
        Simulation(m, stop_time=float(steps), dt=float(check_every), name="laplace-drop").run()
        R, d = m.radius_and_dp()
        rr.append(R)
        inv_r.append(1.0 / R)
        dp.append(d)
    slope, icpt = np.polyfit(inv_r, dp, 1)
    misfit = float(np.max(np.abs(slope * np.asarray(inv_r) + icpt - dp)) / max(dp))
    if misfit > 0.05 or slope <= 0:
        raise InputError(f"the Laplace law does not hold for radii {list(radii)} (misfit "
                         f"{misfit:.1%}): use larger radii or a thinner interface", field="radii")
    sigma = float(slope if ndim == 2 else slope / 2)
    res = SurfaceTension(key, sigma, [float(r) for r in rr], [float(d) for d in dp], misfit,
                         float(icpt))
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_text(json.dumps(asdict(res), indent=1))
        tmp.replace(path)
    return res


def lattice_units(voxel_size_cm: float, surface_tension: float, sigma_lu: float,
                  rho_liquid_lu: float, rho_liquid: float = 998.0) -> LatticeUnits:
    """Units that map the lattice liquid to ``rho_liquid`` [kg m^-3] and the lattice surface
    tension ``sigma_lu`` to ``surface_tension`` [N m^-1] at spacing ``voxel_size_cm`` [cm].

    Examples
    --------
    >>> u = lattice_units(1e-3, 0.072, sigma_lu=0.034, rho_liquid_lu=1.9)
    >>> round(u.surface_tension(0.034), 6)
    0.072
    """
    for name, v in (("voxel_size", voxel_size_cm), ("surface_tension", surface_tension),
                    ("sigma_lu", sigma_lu), ("rho_liquid", rho_liquid)):
        if not (math.isfinite(v) and v > 0):
            raise InputError(f"{name} must be finite and > 0, got {v}", field=name)
    rho_scale = rho_liquid / rho_liquid_lu
    dx_m = voxel_size_cm * 1e-2
    dt = math.sqrt(sigma_lu * rho_scale * dx_m**3 / surface_tension)
    return LatticeUnits(voxel_size_cm, dt, rho_scale)

"""Equations of state and pseudopotentials of the single-component Shan–Chen model.

The interaction force on node ``x`` is (Shan & Chen 1993)

    F(x) = -G psi(x) sum_i w_i psi(x + e_i) e_i,

whose continuum limit is ``-grad(G c_s^2 psi^2 / 2)``, so the bulk pressure is

    p(rho) = c_s^2 rho + G c_s^2 psi(rho)^2 / 2        (lattice units).

* :class:`ShanChenEOS` — the original ``psi = rho0 (1 - exp(-rho/rho0))`` with a chosen
  ``G`` (critical ``G_c = -4/rho0`` for ``c_s^2 = 1/3``).
* :class:`CarnahanStarlingEOS` — the Carnahan–Starling pressure made the model's pressure
  by Yuan & Schaefer's choice ``psi = sqrt(2 (p_EOS - c_s^2 rho) / (G c_s^2))`` with
  ``G = -1``; it reaches liquid/gas density ratios of several hundred.

Coexistence densities: :func:`maxwell_construction` (thermodynamics, equal areas in
``1/rho``) and :func:`mechanical_coexistence` (the solvability condition of the
pseudopotential pressure tensor, ``∫ (p0 - p) psi'/psi^(1+eps) drho = 0``, Shan & Chen
1994, Shan 2008, Li et al. 2013), which is what the lattice model actually reaches.

References
----------
Shan, X., & Chen, H. (1993). Lattice Boltzmann model for simulating flows with multiple
phases and components. Phys. Rev. E, 47, 1815–1819.
Shan, X., & Chen, H. (1994). Simulation of nonideal gases and liquid-gas phase transitions
by the lattice Boltzmann equation. Phys. Rev. E, 49, 2941–2948.
Yuan, P., & Schaefer, L. (2006). Equations of state in a lattice Boltzmann model. Phys.
Fluids, 18, 042101.
Shan, X. (2008). Pressure tensor calculation in a class of nonideal gas lattice Boltzmann
models. Phys. Rev. E, 77, 066702.
Li, Q., Luo, K. H., & Li, X. J. (2013). Lattice Boltzmann modeling of multiphase flows at
large density ratio with an improved pseudopotential model. Phys. Rev. E, 87, 053301.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize

from ..errors import InputError
from .lattice import CS2

__all__ = ["ShanChenEOS", "CarnahanStarlingEOS", "maxwell_construction",
           "mechanical_coexistence", "li_epsilon", "li_sigma", "EOS_KINDS"]

#: kernel codes of the pseudopotentials
EOS_KINDS = {"shan-chen": 0, "carnahan-starling": 1}


@dataclass(frozen=True)
class ShanChenEOS:
    """Original Shan–Chen pseudopotential ``psi = rho0 (1 - exp(-rho / rho0))``.

    Parameters
    ----------
    G : float
        Interaction strength [lattice units], negative for attraction; phase separation
        for ``G < -4 / rho0``.
    rho0 : float
        Reference density [lattice units].

    Examples
    --------
    >>> eos = ShanChenEOS(G=-5.0)
    >>> round(float(eos.pressure(1.0)), 6)   # 1/3 - 5/6 (1 - e^-1)^2
    0.000353
    """

    G: float = -5.0
    rho0: float = 1.0

    kind = "shan-chen"

    def __post_init__(self):
        if not (np.isfinite(self.G) and np.isfinite(self.rho0) and self.rho0 > 0):
            raise InputError("G must be finite and rho0 > 0", field="eos")

    @property
    def params(self) -> np.ndarray:
        return np.array([self.rho0, 0.0, 0.0, 0.0])

    @property
    def coupling(self) -> float:
        return float(self.G)

    def psi(self, rho):
        return self.rho0 * (1.0 - np.exp(-np.asarray(rho, dtype=float) / self.rho0))

    def dpsi(self, rho):
        return np.exp(-np.asarray(rho, dtype=float) / self.rho0)

    def pressure(self, rho):
        rho = np.asarray(rho, dtype=float)
        return CS2 * rho + 0.5 * self.G * CS2 * self.psi(rho) ** 2

    @property
    def critical_G(self) -> float:
        return -4.0 / self.rho0

    def is_two_phase(self) -> bool:
        return self.G < self.critical_G


@dataclass(frozen=True)
class CarnahanStarlingEOS:
    """Carnahan–Starling EOS in the Yuan–Schaefer pseudopotential form (``G = -1``).

    ``p = rho R T (1 + eta + eta^2 - eta^3) / (1 - eta)^3 - a rho^2`` with ``eta = b rho/4``;
    critical temperature ``T_c = 0.3773 a / (b R)``, density ``rho_c = 0.5218 / b``.

    Parameters
    ----------
    reduced_temperature : float
        ``T / T_c`` [-]; lower gives a larger density ratio (0.6 gives about 70... see
        :func:`maxwell_construction`).
    a, b, R : float
        EOS constants [lattice units] (Yuan & Schaefer 2006 use a = 1, b = 4, R = 1).

    Examples
    --------
    >>> eos = CarnahanStarlingEOS(0.7)
    >>> rg, rl = maxwell_construction(eos)
    >>> bool(rl / rg > 20)
    True
    """

    reduced_temperature: float = 0.7
    a: float = 1.0
    b: float = 4.0
    R: float = 1.0

    kind = "carnahan-starling"

    def __post_init__(self):
        if not (0.3 <= self.reduced_temperature < 1.0):
            raise InputError("reduced temperature T/Tc must be in [0.3, 1) for two phases, got "
                             f"{self.reduced_temperature}", field="eos.reduced_temperature")

    @property
    def T(self) -> float:
        return self.reduced_temperature * 0.3773 * self.a / (self.b * self.R)

    @property
    def params(self) -> np.ndarray:
        return np.array([self.a, self.b, self.R * self.T, 0.0])

    @property
    def coupling(self) -> float:
        return -1.0

    def pressure(self, rho):
        rho = np.asarray(rho, dtype=float)
        eta = self.b * rho / 4.0
        return (rho * self.R * self.T * (1 + eta + eta**2 - eta**3) / (1 - eta) ** 3
                - self.a * rho**2)

    def psi(self, rho):
        rho = np.asarray(rho, dtype=float)
        arg = 2.0 * (self.pressure(rho) - CS2 * rho) / (self.coupling * CS2)
        return np.sqrt(np.maximum(arg, 0.0))

    def dpsi(self, rho):
        rho = np.asarray(rho, dtype=float)
        h = 1e-6 * rho                     # relative step: gas densities reach 1e-4
        return (self.psi(rho + h) - self.psi(rho - h)) / (2 * h)

    def is_two_phase(self) -> bool:
        return self.reduced_temperature < 1.0


def _spinodals(eos, lo: float, hi: float):
    rho = np.linspace(lo, hi, 20001)
    dp = np.gradient(eos.pressure(rho), rho)
    neg = np.flatnonzero(dp < 0)
    if neg.size == 0:
        raise InputError("the equation of state has no two-phase region at these parameters "
                         "(no spinodal); make G more negative or T/Tc lower", field="eos")
    return rho[neg[0]], rho[neg[-1]]


def _coexistence(eos, weight, lo, hi):
    s1, s2 = _spinodals(eos, lo, hi)
    p_hi = float(eos.pressure(s1))
    p_lo = max(float(eos.pressure(s2)), 1e-10 * p_hi)

    def roots(p0):
        rg = optimize.brentq(lambda r: eos.pressure(r) - p0, 1e-300, s1)
        rl = optimize.brentq(lambda r: eos.pressure(r) - p0, s2, hi)
        return rg, rl

    def area(p0):
        rg, rl = roots(p0)
        # in the variable ln(rho): the gas density can be many decades below the liquid's
        f = lambda s: (p0 - eos.pressure(np.exp(s))) * weight(np.exp(s)) * np.exp(s)
        with warnings.catch_warnings():          # round-off near the root is expected
            warnings.simplefilter("ignore", integrate.IntegrationWarning)
            return integrate.quad(f, np.log(rg), np.log(rl), limit=400, epsabs=0,
                                  epsrel=1e-11)[0]

    p0 = optimize.brentq(area, p_lo + 1e-12 * abs(p_hi), p_hi - 1e-12 * abs(p_hi), xtol=1e-15)
    return roots(p0)


def _density_range(eos):
    if isinstance(eos, CarnahanStarlingEOS):
        return 1e-5, 0.999 * 4.0 / eos.b
    return 1e-4, 20.0 * eos.rho0


def maxwell_construction(eos) -> tuple[float, float]:
    """Gas and liquid densities of thermodynamic coexistence (equal areas).

    ``p(rho_g) = p(rho_l) = p0`` and ``∫_{rho_g}^{rho_l} (p0 - p) / rho^2 drho = 0``.

    Returns
    -------
    (rho_g, rho_l) : floats [lattice density]
    """
    return _coexistence(eos, lambda r: 1.0 / r**2, *_density_range(eos))


def mechanical_coexistence(eos, epsilon: float = 0.0) -> tuple[float, float]:
    """Coexistence densities the pseudopotential model reaches at a flat interface.

    ``p(rho_g) = p(rho_l) = p0`` and ``∫ (p0 - p) psi' / psi^(1 + epsilon) drho = 0``
    (Shan 2008; Li et al. 2013). ``epsilon`` collects the lattice and forcing terms of the
    pressure tensor; for a forcing that adds no extra term (Guo et al. 2002,
    exact difference) on the nearest-neighbour D2Q9/D3Q19 stencils it is 0 and the
    condition is ``∫ (p0 - p) d ln psi = 0``; Li et al.'s (2013) forcing with parameter
    ``sigma`` makes it :func:`li_epsilon` ``= -8 G sigma``.

    Returns
    -------
    (rho_g, rho_l) : floats [lattice density]
    """
    return _coexistence(eos, lambda r: eos.dpsi(r) / eos.psi(r) ** (1 + epsilon),
                        *_density_range(eos))


#: d epsilon / d sigma of Li et al.'s forcing per unit ``-G``, measured on the lattice
#: (D2Q9 flat interfaces, TRT, Carnahan–Starling at T/Tc = 0.8, 0.85 and 0.9 with sigma = 0.3
#: gave 5.250, 5.25 and 5.254; 5.22-5.31 over sigma = 0.2-0.6 at 0.85)
LI_EPSILON_PER_SIGMA = 5.25


def li_epsilon(eos, sigma: float) -> float:
    """``epsilon`` of the mechanical-stability condition under Li et al.'s forcing.

    The forcing adds ``2 sigma |F|^2 / psi^2 I`` to the momentum flux, a ``|grad psi|^2``
    term of the pressure tensor proportional to ``G^2 sigma``; relative to the Shan–Chen
    force's own ``G psi lap(psi)`` term it moves ``epsilon`` by ``-k G sigma``. The leading
    order continuum force gives ``k = 8``; on the lattice the flat interface measures
    ``k = 5.25`` (:data:`LI_EPSILON_PER_SIGMA`, close to ``16/3``, which a lattice
    coefficient 3/2 of the ``psi lap(psi)`` term would give); the measured value is used.

    Examples
    --------
    >>> li_epsilon(CarnahanStarlingEOS(0.8), 0.2)
    1.05
    """
    return -LI_EPSILON_PER_SIGMA * float(eos.coupling) * float(sigma)


_LI_SIGMA: dict = {}


def li_sigma(eos) -> float:
    """Li et al.'s ``sigma`` for which the predicted flat-interface coexistence densities
    (:func:`mechanical_coexistence` at :func:`li_epsilon`) come closest to the Maxwell
    construction of ``eos`` (least squares in the logarithms of both densities; ``epsilon`` to 2e-3).

    A prediction from the equation of state alone (no lattice run); cached per ``eos``.

    Examples
    --------
    >>> eos = CarnahanStarlingEOS(0.8)
    >>> rg, rl = mechanical_coexistence(eos, li_epsilon(eos, li_sigma(eos)))
    >>> mg, ml = maxwell_construction(eos)
    >>> bool(abs(rg / mg - 1) < 0.02 and abs(rl / ml - 1) < 0.005)
    True
    """
    key = repr(eos)
    if key not in _LI_SIGMA:
        mg, ml = maxwell_construction(eos)
        scale = -LI_EPSILON_PER_SIGMA * float(eos.coupling)

        def misfit(eps):
            rg, rl = mechanical_coexistence(eos, eps)
            return np.log(rg / mg) ** 2 + np.log(rl / ml) ** 2

        res = optimize.minimize_scalar(misfit, bounds=(0.5, 3.0), method="bounded",
                                       options={"xatol": 2e-3})
        _LI_SIGMA[key] = float(res.x) / scale
    return _LI_SIGMA[key]

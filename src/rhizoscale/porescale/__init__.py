"""Case study 4 (liquid configuration): two-phase pseudopotential lattice Boltzmann.

- :mod:`.lattice` — D2Q9 and D3Q19 velocity sets.
- :mod:`.equation_of_state` — Shan–Chen and Carnahan–Starling pseudopotentials, Maxwell and
  mechanical coexistence densities.
- :mod:`.stream_collide` — the stream–collide step: NumPy specification and Numba kernel.
- :mod:`.two_phase` — :class:`TwoPhaseLBM`, the model stepped by the shared Simulation.
- :mod:`.measure` — Laplace pressure, droplet radius, contact angle, spurious currents.
- :mod:`.liquid_bridge` — :class:`~.liquid_bridge.DryingBridgeModel`, a bridge dried stage
  by stage to rupture; :mod:`.saturation` — :class:`~.saturation.SaturationModel`, water
  at a target saturation relaxed to equilibrium (both Models for the shared Simulation).
"""

from .equation_of_state import (CarnahanStarlingEOS, ShanChenEOS, maxwell_construction,
                                mechanical_coexistence)
from .lattice import D2Q9, D3Q19, Lattice, velocity_set
from .two_phase import NonFiniteState, TwoPhaseLBM

__all__ = ["CarnahanStarlingEOS", "ShanChenEOS", "maxwell_construction",
           "mechanical_coexistence", "D2Q9", "D3Q19", "Lattice", "velocity_set", "NonFiniteState",
           "TwoPhaseLBM"]

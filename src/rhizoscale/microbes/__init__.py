"""Case study 5: individual-based bacteria on a pore-scale lattice around a root.

Units throughout the package: lengths µm, time h, carbon fg C (concentrations
fg C µm^-3 = g L^-1); images in cm are converted at the edge (:class:`MicrobeLattice`).

- :class:`MicrobeLattice` — water / root / POM geometry from any labelled Image.
- :class:`MicrobeModel` — DOC, POM, necromass, CO2 and the cells (a Model of the run
  contract: ``time``, ``step(dt)``, ``state()``, ``checkpoint_state``/``restore_state``).
- :mod:`.kernels` — one biological step of every cell (NumPy specification, Numba kernel).
- :class:`DOCDiffusion` — DOC diffusion in water on the shared voxel operator.
- :mod:`.placement` — initial cells from a Thomas cluster process calibrated to
  bare-soil statistics (Raynaud & Nunan 2014).
- :class:`SoilBacteriaParameters` / :func:`load_bacteria` — traits and carbon parameters
  (the shipped set ``soil_bacteria``).
"""

from .diffusion import DOCDiffusion
from .lattice import MicrobeLattice
from .model import Agents, MicrobeModel, RootConcentration, RootExudation, initial_cells, radial_doc
from .parameters import SoilBacteriaParameters, SpeciesTraits, trait_table

__all__ = ["DOCDiffusion", "MicrobeLattice", "Agents", "MicrobeModel", "RootExudation",
           "initial_cells", "radial_doc", "RootConcentration", "SoilBacteriaParameters", "SpeciesTraits",
           "trait_table", "load_bacteria"]


def load_bacteria(name: str = "soil_bacteria") -> SoilBacteriaParameters:
    """A shipped (or YAML-file) parameter set of case study 5.

    >>> p = load_bacteria()
    >>> [s.name for s in p.species], p.units("doc_diffusivity")
    (['competitive', 'versatile', 'poor_competitor'], 'um2 h-1')
    """
    from ..parameters import load_parameter_set
    return load_parameter_set(SoilBacteriaParameters, name)

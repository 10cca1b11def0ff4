"""Case study 2: phosphate uptake by a growing, citrate-exuding root system.

Per-segment 1D radial rhizosphere models (:mod:`.rhizosphere`) coupled to a 3D soil
model (:mod:`.soil3d`) with competitive Langmuir sorption (:mod:`.sorption`); the
coupling scheme is described in :mod:`.coupling`; the grid-independent geometry it uses
(soil within and at ``r1`` of a segment, ``r1`` from a fixed RLD support) in
:mod:`.cylinders`. Units: µmol, cm, s, g.
"""

from .coupling import CoupledUptakeModel
from .cylinders import (
    cylinder_cell_weights,
    ring_interpolation_weights,
    support_outer_radius,
)
from .parameters import (
    CitrateParameters,
    PhosphateParameters,
    SoilParameters,
    load_citrate,
    load_phosphate,
    load_soil,
)
from .rhizosphere import (
    RhizosphereConstants,
    RhizosphereModels,
    michaelis_menten_uptake,
    rhizosphere_peclet,
)
from .soil3d import SoilModel3D
from .sorption import competitive_langmuir, liquid_concentration, total_concentration

__all__ = [
    "CoupledUptakeModel", "SoilModel3D", "RhizosphereModels", "RhizosphereConstants",
    "SoilParameters", "PhosphateParameters", "CitrateParameters",
    "load_soil", "load_phosphate", "load_citrate",
    "competitive_langmuir", "total_concentration", "liquid_concentration",
    "michaelis_menten_uptake", "rhizosphere_peclet",
    "cylinder_cell_weights", "ring_interpolation_weights", "support_outer_radius",
]

"""Plant scale: the timed root architecture and models that grow it."""

from ..parameters.root_architecture import PlantParameters, RootTypeParameters, SeedParameters
from . import confinement
from .confinement import Box, Cylinder, Rhizotron
from .growth import grow_root_system, load_plant_parameters
from ..core.root_system import RootSystem

__all__ = [
    "RootSystem",
    "PlantParameters",
    "RootTypeParameters",
    "SeedParameters",
    "load_plant_parameters",
    "grow_root_system",
    "confinement",
    "Box",
    "Cylinder",
    "Rhizotron",
]

"""Case study 1: rhizodeposition fields around a growing root system (mm–cm, days–weeks).

Moving point (mucilage) and line (citrate) sources with retardation and decay,
superposed over roots; exact point evaluation by quadrature and fast voxel-averaged
grid fields; hotspot analyses.
"""

from ..plant.generators import straight_root_system
from .analysis import hotspot_duration_update, hotspot_statistics, hotspot_volume, overlap_share
from .field import (FieldDiscretisation, FieldSnapshot, RhizodepositionModel, concentration_points,
                    default_direct_age, heat_propagate, released_mass, rhizodeposition_fields)
from .green import (RootPaths, concentration_at, green_function, peclet_number, root_paths,
                    steady_state_moving_point_source)
from .parameters import ExudateParameters, threshold_to_liquid
from .release import nearest_root_location, surface_flux_at

__all__ = [
    "ExudateParameters", "threshold_to_liquid",
    "green_function", "peclet_number", "steady_state_moving_point_source", "concentration_at",
    "RootPaths", "root_paths",
    "FieldDiscretisation", "FieldSnapshot", "RhizodepositionModel", "rhizodeposition_fields", "concentration_points",
    "released_mass", "nearest_root_location", "surface_flux_at", "heat_propagate", "default_direct_age",
    "hotspot_volume", "overlap_share", "hotspot_duration_update", "hotspot_statistics", "straight_root_system",
]

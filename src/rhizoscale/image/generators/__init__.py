"""Seeded generators of synthetic segmented images (tests never need private data)."""

from .granular import liquid_configuration, local_pore_size, neck_gap, sand_packing
from .random_media import lognormal_medium
from .rhizosphere import RhizosphereSample, rhizosphere_phases, rhizosphere_sample, soil_aggregates

__all__ = [
    "RhizosphereSample",
    "liquid_configuration",
    "local_pore_size",
    "lognormal_medium",
    "neck_gap",
    "rhizosphere_phases",
    "rhizosphere_sample",
    "sand_packing",
    "soil_aggregates",
]

"""Seeded generators of synthetic segmented images (tests never need private data)."""

from .rhizosphere import RhizosphereSample, rhizosphere_phases, rhizosphere_sample, soil_aggregates

__all__ = ["RhizosphereSample", "rhizosphere_phases", "rhizosphere_sample", "soil_aggregates"]

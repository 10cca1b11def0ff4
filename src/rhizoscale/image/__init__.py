"""Segmented voxel images: the data model, readers and writers, generators, metrics."""

from ..core.image import Image, Phase

__all__ = ["Image", "Phase"]

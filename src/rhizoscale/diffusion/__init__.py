"""Transient diffusion on segmented voxel images (case study 3: exudates around a root)."""

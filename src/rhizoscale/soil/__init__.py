"""Soil properties shared across scales: empirical effective diffusion models."""

from .effective_diffusion import millington_quirk, millington_quirk_impedance

__all__ = ["millington_quirk", "millington_quirk_impedance"]

"""Soil properties shared across scales: empirical effective diffusion models."""

from .effective_diffusion import (SOIL_DIFFUSION_MODELS, millington_quirk, millington_quirk_1960,
                                  millington_quirk_impedance, moldrup_linear_impedance, papendick_campbell,
                                  penman)

__all__ = ["millington_quirk", "millington_quirk_impedance", "millington_quirk_1960", "penman",
           "papendick_campbell", "moldrup_linear_impedance", "SOIL_DIFFUSION_MODELS"]

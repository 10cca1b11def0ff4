"""Parameters of case study 4's granular medium (sand, water, mucilage), with sources.

The shipped set ``sand_mucilage_2d`` holds the paper's 2D sand section (the design
brief, §5); a scenario's keys default to them (``literature: sand_mucilage_2d``).
Lengths in cm, diffusivities relative to free water.
"""

from __future__ import annotations

from ..parameters import ParameterSet, quantity

__all__ = ["GranularMediumParameters"]


class GranularMediumParameters(ParameterSet):
    """A sand packing with water films and mucilage bridges.

    Diffusivities are relative to free water (``d_water = 1``); the shipped set
    ``sand_mucilage_2d`` holds the 2D sand of case study 4 (design brief §5).

    Parameters
    ----------
    **fields
        The fields listed below (units in brackets).

    Examples
    --------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> sand = load_parameter_set(GranularMediumParameters, "sand_mucilage_2d")
    >>> sand.porosity, sand.water_content, sand.mucilage_fraction, sand.d_mucilage
    (0.41, 0.19, 0.1, 0.5)
    >>> sand.mean_grain_radius, sand.units("mean_grain_radius")
    (0.012, 'cm')
    """

    porosity: float = quantity(..., units="1", description="porosity", gt=0, lt=1)
    water_content: float = quantity(..., units="cm3 cm-3", description="liquid content theta", ge=0)
    mucilage_fraction: float = quantity(..., units="1", description="share of the liquid that is mucilage",
                                        ge=0, le=1)
    mean_grain_radius: float = quantity(..., units="cm", description="mean radius of the grains as placed; all grains are then grown or shrunk by one distance to reach the porosity, so the image's mean grain radius differs (more for small grains on coarse voxels)", gt=0)
    grain_radius_cv: float = quantity(..., units="1", description="coefficient of variation of grain radii", ge=0)
    grain_overlap: float = quantity(..., units="1", description="allowed grain overlap (fraction of radii sum)",
                                    ge=0, lt=1)
    d_water: float = quantity(..., units="1", description="water diffusivity (relative)", gt=0)
    d_mucilage: float = quantity(..., units="1", description="mucilage diffusivity (relative to water)", ge=0)

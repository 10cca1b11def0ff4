"""Parameters of case study 3 (root hairs and exudate diffusion), with their sources.

The shipped set ``maize_root_hairs`` holds the numbers of the paper's maize sample (the
design brief, §4); a scenario's keys default to them (``literature: maize_root_hairs``).
Units: cm, s, µg.
"""

from __future__ import annotations

from ..parameters import ParameterSet, quantity

__all__ = ["RootHairSampleParameters"]


class RootHairSampleParameters(ParameterSet):
    """Exudate diffusion around a root with hairs: transport, source and sample geometry.

    Each value carries its units and source (shipped set: ``maize_root_hairs``); the
    ``cs3-root-hairs`` scenario takes its defaults from it.

    Parameters
    ----------
    **fields
        The fields listed below (units in brackets).

    References
    ----------
    .. [1] Keyes et al.: image-based model of exudate diffusion around a maize root with
       and without hairs (values via the design brief §4; unverified against the paper).

    Examples
    --------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> p = load_parameter_set(RootHairSampleParameters, "maize_root_hairs")
    >>> p.diffusivity, p.units("diffusivity"), p.c_in, p.units("c_in")
    (2.88e-07, 'cm2 s-1', 1037.52, 'ug cm-3')
    >>> sorted(p.chosen())                           # values not from the paper
    ['aggregate_size', 'hair_length_sd', 'hair_persistence']
    """

    diffusivity: float = quantity(..., units="cm2 s-1", description="D in the soil micropores", gt=0)
    c_in: float = quantity(..., units="ug cm-3", description="concentration at the root-soil contact", gt=0)
    duration: float = quantity(..., units="s", description="simulated time", gt=0)
    root_radius: float = quantity(..., units="cm", description="root radius", gt=0)
    porosity: float = quantity(..., units="1", description="macropore fraction of the soil outside the root's air gap",
                               ge=0, lt=1)
    epidermis_area_factor: float = quantity(..., units="1", description="epidermis voxel-face area / smooth "
                                            "cylinder area 2 pi r L", gt=0)
    gap_volume_ratio: float = quantity(..., units="1", description="air gap around the root / root volume", ge=0)
    aggregate_size: float = quantity(..., units="cm", description="aggregate correlation length", gt=0)
    contact_fraction: float = quantity(..., units="1", description="epidermis touching soil", ge=0, le=1)
    hair_contact_fraction: float = quantity(..., units="1",
                                            description="(root + hair)-soil contact / epidermis", ge=0, le=1)
    hair_length: float = quantity(..., units="cm", description="mean root hair length", gt=0)
    hair_length_sd: float = quantity(..., units="cm", description="standard deviation of the hair length", ge=0)
    hair_persistence: float = quantity(..., units="cm", description="persistence length of the hair direction", gt=0)
    hair_radius: float = quantity(..., units="cm", description="root hair radius", gt=0)

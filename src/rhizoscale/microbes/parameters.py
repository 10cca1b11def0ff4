"""Parameters of case study 5 (individual-based bacteria), with units and sources.

Units of the microbes package: µm, h, fg C (concentrations fg C µm^-3; 1 fg µm^-3 =
1 g L^-1). The shipped set ``soil_bacteria`` holds three strains shaped after the three
Arthrobacter strains of Portell et al. (2018) (competitive, versatile, poorly
competitive; their strain table was not found): maximum growth rate, yields and cell
carbon from soil measurements (a source per value); the other traits have no published
per-cell value and are flagged ``chosen:`` with the reason.
"""

from __future__ import annotations

import numpy as np
from pydantic import ConfigDict, Field, model_validator

from ..parameters._base import StrictModel
from ..parameters import ParameterSet, quantity
from .kernels import TRAIT_COLUMNS

__all__ = ["SpeciesTraits", "SoilBacteriaParameters", "trait_table"]


class SpeciesTraits(StrictModel):
    """Traits of one bacterial species (µm, h, fg C).

    Pirt's uptake: ``q = q_max C / (K_s + C)`` with ``q_max = mu_max / Y + m_s``, so that a
    cell growing at saturating DOC has the specific growth rate ``mu_max``.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)

    name: str = Field(..., description="species or strain name")
    mu_max: float = quantity(..., units="h-1", description="maximum specific growth rate", gt=0, le=5)
    k_s: float = quantity(..., units="fg um-3", description="half-saturation DOC concentration", gt=0)
    cell_yield: float = quantity(..., units="1", description="growth yield (carbon use efficiency)",
                                 gt=0, lt=1)
    maintenance: float = quantity(..., units="h-1", description="maintenance rate (Pirt m_s)", ge=0, le=1)
    m_div: float = quantity(..., units="fg", description="cell carbon at division", gt=0)
    m_min: float = quantity(..., units="fg", description="cell carbon below which the cell dies", gt=0)
    division_split: float = quantity(0.05, units="1", description="half-width of the uniform "
                                     "mother share of the carbon at division around 0.5", ge=0, lt=0.5)
    mortality: float = quantity(..., units="h-1", description="death rate of active and dormant cells",
                                ge=0, le=1)
    t_dormancy: float = quantity(..., units="h", description="uninterrupted shortfall of uptake "
                                 "below maintenance after which a cell goes dormant", ge=0)
    c_resuscitation: float = quantity(..., units="fg um-3", description="DOC concentration that "
                                      "wakes a dormant cell", ge=0)
    dormant_maintenance: float = quantity(..., units="1", description="maintenance of a dormant "
                                          "cell relative to an active one", ge=0, le=1)
    lag: float = quantity(..., units="h", description="lag phase after resuscitation (uptake "
                          "limited to maintenance)", ge=0)
    motility: float = quantity(0.0, units="um2 h-1", description="random-walk diffusivity of "
                               "active cells in water", ge=0)
    chemotaxis: float = quantity(0.0, units="1", description="probability that a move goes up "
                                 "the DOC gradient", ge=0, le=1)
    attachment: float = quantity(0.0, units="h-1", description="rate of attachment to the root "
                                 "surface of cells in a voxel touching it", ge=0)
    initial_share: float = quantity(1.0, units="1", description="share of the initial cells", ge=0)
    exudate_preference: float = quantity(0.5, units="1", description="carbon-source preference: "
                                         "weight min(1, 2p) on labile (exudate, necromass) DOC and "
                                         "min(1, 2(1-p)) on POM-derived DOC "
                                         "(0.5: both fully)", ge=0, le=1)

    @model_validator(mode="after")
    def _masses(self):
        if self.m_min >= 0.5 * self.m_div * (1 - 2 * self.division_split):
            raise ValueError(f"m_min ({self.m_min}) must be below the smallest daughter "
                             f"({0.5 * self.m_div * (1 - 2 * self.division_split):g} fg)")
        return self

    @property
    def q_max(self) -> float:
        """Maximum specific uptake ``mu_max / Y + m_s`` [h^-1]."""
        return self.mu_max / self.cell_yield + self.maintenance


class SoilBacteriaParameters(ParameterSet):
    """Bacteria, carbon pools and initial placement of case study 5 (µm, h, fg C)."""

    species: list[SpeciesTraits] = Field(..., min_length=1, max_length=255)
    doc_diffusivity: float = quantity(..., units="um2 h-1", description="DOC diffusion "
                                      "coefficient in water", gt=0)
    pom_hydrolysis: float = quantity(..., units="h-1", description="first-order POM hydrolysis "
                                     "rate without bacteria", ge=0)
    priming_factor: float = quantity(0.0, units="1", description="largest relative increase of "
                                     "POM hydrolysis by nearby active biomass (enzymes)", ge=0)
    priming_half_biomass: float = quantity(100.0, units="fg", description="active biomass next to "
                                           "a POM voxel giving half the priming increase", gt=0)
    necromass_hydrolysis: float = quantity(..., units="h-1", description="first-order return of "
                                           "necromass to DOC", ge=0)
    cell_density: float = quantity(..., units="g-1", description="cells per gram of bulk soil", gt=0)
    bulk_density: float = quantity(..., units="g cm-3", description="soil bulk density", gt=0)
    neighbours_within: float = quantity(..., units="1", description="mean number of other cells "
                                        "within neighbour_distance of a cell", ge=0)
    neighbour_distance: float = quantity(..., units="um", description="distance for "
                                         "neighbours_within", gt=0)
    cluster_radius: float = quantity(..., units="um", description="standard deviation of the "
                                     "offspring around a cluster centre (Thomas process)", gt=0)
    initial_mass: float = quantity(..., units="fg", description="mean initial cell carbon "
                                   "(uniform between 0.5 and 1 times m_div of the species: "
                                   "this value is reported, not used)", gt=0)

    def traits(self) -> np.ndarray:
        """The trait table handed to the kernels (n_species, len(TRAIT_COLUMNS))."""
        return trait_table(self.species)


def trait_table(species) -> np.ndarray:
    """Trait table ``(n_species, len(TRAIT_COLUMNS))`` float64 of :class:`SpeciesTraits`.

    >>> sp = SpeciesTraits(name="a", mu_max=0.3, k_s=0.005, cell_yield=0.5, maintenance=0.01,
    ...                    m_div=60, m_min=10, mortality=0, t_dormancy=2, c_resuscitation=0.001,
    ...                    dormant_maintenance=0.01, lag=1)
    >>> trait_table([sp])[0, :3].tolist()
    [0.61, 0.005, 0.5]
    """
    rows = []
    for s in species:
        row = {"q_max": s.q_max, "k_s": s.k_s, "yield_": s.cell_yield, "maintenance": s.maintenance,
               "m_div": s.m_div, "m_min": s.m_min, "mortality": s.mortality,
               "t_dormancy": s.t_dormancy, "c_resuscitation": s.c_resuscitation,
               "dormant_maintenance": s.dormant_maintenance, "lag": s.lag,
               "motility": s.motility, "chemotaxis": s.chemotaxis, "attachment": s.attachment,
               "weight_exudate": min(1.0, 2.0 * s.exudate_preference),
               "weight_pom": min(1.0, 2.0 * (1.0 - s.exudate_preference))}
        rows.append([row[c] for c in TRAIT_COLUMNS])
    return np.array(rows, dtype=np.float64)

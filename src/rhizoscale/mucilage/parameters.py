"""Parameters of the mucilage network in a drying pendular bridge, with sources.

The shipped set ``mucilage_network`` holds what the literature gives (surface tension
of water and of root mucilage, viscosity of mucilage, polysaccharide density, water
holding) and flags the network's coarse-graining constants as chosen. Units: µm, s, µN,
pg (1 µm3 of water = 1 pg); mucilage concentration in mg of dry mucilage per g of water.
"""

from __future__ import annotations

from ..parameters import ParameterSet, quantity

__all__ = ["MucilageNetworkParameters"]


class MucilageNetworkParameters(ParameterSet):
    """Liquid, polymer and network constants of case study 4's mucilage bridge."""

    surface_tension_water: float = quantity(..., units="N m-1", description="surface tension of water", gt=0)
    surface_tension_mucilage: float = quantity(..., units="N m-1",
                                               description="surface tension of concentrated mucilage", gt=0)
    surface_tension_half: float = quantity(..., units="mg g-1", description="concentration at half the "
                                           "surface-tension drop", gt=0)
    viscosity_water: float = quantity(..., units="Pa s", description="viscosity of water", gt=0)
    viscosity_reference: float = quantity(..., units="Pa s", description="zero-shear viscosity of mucilage "
                                          "at the reference concentration", gt=0)
    viscosity_exponent: float = quantity(..., units="1", description="viscosity ~ c^exponent", ge=0)
    reference_concentration: float = quantity(..., units="mg g-1", description="reference concentration", gt=0)
    contact_angle: float = quantity(..., units="rad", description="contact angle on the particles", ge=0, lt=1.5)
    particle_radius: float = quantity(..., units="um", description="particle (sand grain) radius", gt=0)
    polymer_density: float = quantity(..., units="pg um-3", description="density of dry mucilage polymer", gt=0)
    water_holding: float = quantity(..., units="g g-1", description="water held by the swollen network per "
                                    "mass of polymer (swelling ratio)", ge=0)
    dry_polymer_fraction: float = quantity(..., units="1", description="polymer mass fraction above which a "
                                           "bead is dry (no liquid path)", gt=0, lt=1)
    polymer_per_bead: float = quantity(..., units="pg", description="dry polymer mass of one bead", gt=0)
    bond_length: float = quantity(..., units="um", description="beads closer than this are bonded "
                                  "(chain overlap distance)", gt=0)
    shear_modulus_reference: float = quantity(..., units="Pa", description="shear modulus of mucilage at the "
                                              "reference concentration", ge=0)
    modulus_exponent: float = quantity(..., units="1", description="modulus ~ c^exponent (semi-dilute "
                                       "scaling)", ge=0)
    fene_max_strain: float = quantity(..., units="1", description="FENE largest extension / rest length", gt=0)
    break_strain: float = quantity(..., units="1", description="bonds break above this strain", gt=0)
    adhesion_force: float = quantity(..., units="uN", description="force that detaches a bead from a particle",
                                     ge=0)
    adhesion_reach: float = quantity(..., units="um", description="beads this close to a surface adhere", ge=0)
    repulsion_stiffness: float = quantity(..., units="uN um-1", description="bead-particle and bead-bead "
                                          "soft repulsion", gt=0)
    excluded_fraction: float = quantity(..., units="1", description="beads repel closer than this times "
                                        "their radii sum", ge=0, le=1)

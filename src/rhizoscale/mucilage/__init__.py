"""Case study 4, mucilage: a bead-spring polymer network in a drying liquid bridge.

* :mod:`.bridge` — pendular bridge between two equal spheres (toroidal approximation,
  Willett's force, Lian's rupture);
* :mod:`.network` — beads, bonds, tethers, forces (NumPy specification and Numba kernels),
  integrators;
* :mod:`.drying` — :class:`MucilageBridgeModel`, the drying bridge with its network,
  stepped by :class:`rhizoscale.simulation.Simulation`;
* :mod:`.structure` — the final mucilage as an :class:`~rhizoscale.core.Image`;
* :mod:`.placement` — mucilage bridges across open necks placed into a liquid
  configuration image at a mucilage content (the diffusivity chain's rule);
* :mod:`.span` — the widest neck a drying mucilage bridge keeps spanned, searched with
  the drying model (what the placement scales to each neck), between spheres (3D media)
  or between the parallel cylinders of a 2D medium (and the older transfer rule);
* :mod:`.cylinders` — the exact 2D pendular bridge between parallel cylinders (area,
  force, rupture at the pinch, the bridge at a 3D bridge's suction);
* :mod:`.cylinder_drying` — :class:`CylinderBridgeModel`, the drying 2D bridge with its
  network in a periodic slab along the cylinders.
"""

from .bridge import (PendularBridge, lian_rupture_distance, lian_rupture_volume, toroidal_bridge,
                     toroidal_volume, willett_force, willett_rupture_distance)
from .placement import Grains, grains_from_image, neck_geometry, place_mucilage_bridges
from .cylinders import (CylinderBridge, cylinder_bridge, cylinder_bridge_area, cylinder_rupture_area,
                        cylinder_rupture_distance, equal_suction_area)
from .cylinder_drying import CylinderBridgeModel
from .span import (BridgeSpan, cylinder_network_span, cylinder_span, network_span, pair_radius, span_bead_steps,
                   span_seconds)
from .network import BeadNetwork, Meniscus, NetworkParameters, network_forces, potential_energy

__all__ = ["PendularBridge", "lian_rupture_distance", "lian_rupture_volume", "toroidal_bridge",
           "toroidal_volume", "willett_force", "willett_rupture_distance", "BeadNetwork", "Meniscus",
           "NetworkParameters", "network_forces", "potential_energy", "Grains", "grains_from_image",
           "neck_geometry", "place_mucilage_bridges", "BridgeSpan", "network_span", "pair_radius", "cylinder_span",
           "span_bead_steps", "span_seconds", "cylinder_bridge_area", "cylinder_rupture_distance",
           "equal_suction_area", "CylinderBridge", "cylinder_bridge", "cylinder_rupture_area", "CylinderBridgeModel",
           "cylinder_network_span"]

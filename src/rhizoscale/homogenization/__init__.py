"""Case study 4 (transport): effective diffusion tensors by homogenisation of pore-scale images.

- :func:`effective_diffusion_tensor` — cell problems on a labelled 2D/3D image, full tensor,
  eigen-decomposition, ``"translation"`` or ``"mirror"`` periodisation.
- :mod:`.connectivity` — periodic cluster labelling with winding vectors (which clusters
  carry flux, in which directions).
- :mod:`.effective_medium` — closed forms and bounds (layers, Wiener, Hashin–Shtrikman,
  Maxwell, Perrins, checkerboard, geometric mean).
- :mod:`.property_table` — ``D_eff(theta, mucilage)`` tables for upscaling and their loader
  :func:`effective_diffusivity_table` (a drop-in for Millington–Quirk).
- :mod:`.random_media` — lognormal fields: geometric (Matheron) vs arithmetic mean.
- :mod:`.figures`, :mod:`.scenario` — Fig. 11b-like figures; the ``cs4-homogenisation`` case.
"""

from .cell_problem import PERIODISATIONS, EffectiveDiffusionTensor, effective_diffusion_tensor
from .connectivity import PeriodicClusters, periodic_clusters, spanning_clusters
from .property_table import (EffectiveDiffusivityTable, effective_diffusivity_table,
                             effective_property_table, write_property_table)
from .random_media import lognormal_field, lognormal_thickness_study

__all__ = ["PERIODISATIONS", "EffectiveDiffusionTensor", "effective_diffusion_tensor",
           "PeriodicClusters", "periodic_clusters", "spanning_clusters",
           "EffectiveDiffusivityTable", "effective_diffusivity_table", "effective_property_table",
           "write_property_table", "lognormal_field", "lognormal_thickness_study"]

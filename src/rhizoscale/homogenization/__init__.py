"""Case study 4 (transport): effective diffusion tensors by homogenisation of pore-scale images."""

from .cell_problem import PERIODISATIONS, EffectiveDiffusionTensor, effective_diffusion_tensor
from .connectivity import PeriodicClusters, periodic_clusters, spanning_clusters

__all__ = ["PERIODISATIONS", "EffectiveDiffusionTensor", "effective_diffusion_tensor",
           "PeriodicClusters", "periodic_clusters", "spanning_clusters"]

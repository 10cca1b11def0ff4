"""Shared matrix-free solvers for voxel diffusion problems (case studies 3 and 4).

- :class:`Stencil` — the finite-volume operator ``A = s W + G + K_faces`` on a voxel
  grid: face conductances per axis, periodic or closed axes, extra diagonal ``g``, shift
  ``s`` (float32 or float64 storage).
- :class:`Multigrid` — geometric multigrid V-cycle (red–black Gauss–Seidel, box
  coarsening, dense coarsest solve), a symmetric positive-definite preconditioner.
- :func:`pcg` — conjugate gradients with fused vector kernels.

The physics (conductances from an image, Dirichlet faces, pinned voxels, fluxes) stays
in :mod:`rhizoscale.diffusion` and :mod:`rhizoscale.homogenization`.
"""

from .krylov import ConvergenceError, PCGWorkspace, pcg
from .multigrid import Multigrid
from .stencil import Stencil

__all__ = ["Stencil", "Multigrid", "pcg", "PCGWorkspace", "ConvergenceError"]

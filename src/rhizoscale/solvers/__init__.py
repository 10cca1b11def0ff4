"""Shared numerics for voxel diffusion problems (case studies 2, 3 and 4).

- :mod:`.voxel_operator` — the finite-volume diffusion operator on voxels, once:
  harmonic-mean face conductances (:func:`face_conductances`), Dirichlet (source) faces,
  pinned voxels, closed / periodic / Dirichlet axes, and the CSR matrix
  (:func:`assemble_csr`), each with its NumPy specification.
- :class:`Stencil` — the finite-volume operator ``A = s W + G + K_faces`` on a voxel
  grid: face conductances per axis, periodic or closed axes, extra diagonal ``g``, shift
  ``s`` (float32 or float64 storage).
- :class:`Multigrid` — geometric multigrid V-cycle (red–black Gauss–Seidel, box
  coarsening, dense coarsest solve), a symmetric positive-definite preconditioner.
- :func:`pcg` — conjugate gradients with fused vector kernels.
- :func:`thread_limit` — run the solver kernels on at most so many threads (each kernel
  call also uses fewer on small grids: about ``VOXELS_PER_THREAD`` voxels per thread).

The physics (what conducts, what is a source or an anchor, right-hand sides, fluxes)
stays in :mod:`rhizoscale.diffusion`, :mod:`rhizoscale.homogenization` and
:mod:`rhizoscale.nutrients`.
"""

from ._numba import thread_limit
from .krylov import ConvergenceError, PCGWorkspace, pcg
from .multigrid import Multigrid
from .stencil import Stencil
from .voxel_operator import assemble_csr, face_conductances

__all__ = ["Stencil", "Multigrid", "pcg", "PCGWorkspace", "ConvergenceError",
           "face_conductances", "assemble_csr", "thread_limit"]

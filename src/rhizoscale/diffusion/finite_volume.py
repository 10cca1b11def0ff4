"""Cell-centred finite volumes directly on the voxels of a segmented image.

Every conducting voxel (diffusivity > 0, not a source) is a control volume. Two
conducting voxels that share a face exchange mass with the conductance
``A / h * 2 D_i D_j / (D_i + D_j)`` (harmonic mean of the two half-cell resistances);
a conducting voxel that shares a face with a source voxel (root, hair) held at a fixed
concentration exchanges with the conductance ``A / (h / 2) * D_i`` (the Dirichlet value
sits on the face, half a voxel from the cell centre). Faces with non-conducting voxels
(air-filled macropores, solid) and the image border carry no flux. ``A`` and ``h`` are
the face area and the centre-to-centre distance along the face normal, so anisotropic
voxels are exact for this two-point flux.

The operator itself (face conductances, Dirichlet faces, CSR assembly) is the shared
one of :mod:`rhizoscale.solvers.voxel_operator` (also used by case studies 2 and 4);
this module decides what conducts and what is a source, drops unreachable clusters and
keeps the Dirichlet face area. :func:`assemble_reference` is the readable version
(NumPy specification of the shared operator) the assembly is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import ndimage

from ..errors import InputError, ResourceError
from ..solvers.voxel_operator import (CLOSED, assemble_csr, csr_from_faces,
                                      face_conductances_reference)

__all__ = ["VoxelDiffusionOperator", "assemble_voxel_diffusion", "assemble_reference",
           "estimate_memory"]


@dataclass(frozen=True, eq=False)
class VoxelDiffusionOperator:
    """Finite-volume diffusion operator on the conducting voxels of an image.

    Attributes
    ----------
    shape : tuple of int
        Image shape (2D images are stored as ``(1, ny, nx)``).
    unknowns : (n,) int64 array
        Flat (C-order) voxel index of every unknown.
    stiffness : scipy.sparse.csr_matrix (n, n)
        Conductance matrix ``K`` [cm^3 s^-1] including the Dirichlet conductances on its
        diagonal; ``V dc/dt = -K c + g c_D``.
    dirichlet_conductance : (n,) float array
        ``g``: summed conductance of each unknown's faces to source voxels [cm^3 s^-1].
    voxel_volume : float
        Volume of one voxel [cm^3] (area [cm^2] for 2D images).
    dirichlet_area : float
        Total area of the faces between sources and conducting voxels [cm^2] (length
        [cm] for 2D images).
    diagonal_position : (n,) int64 array
        Position of each row's diagonal entry in ``stiffness.data``.

    Examples
    --------
    Made by :func:`assemble_voxel_diffusion`:

    >>> import numpy as np
    >>> diffusivity = np.full((1, 1, 5), 1e-5)              # [cm^2 s^-1]
    >>> source = np.zeros(diffusivity.shape, bool)
    >>> source[..., 0] = True
    >>> op = assemble_voxel_diffusion(diffusivity, source, 0.01)
    >>> op.n, op.dirichlet_area, op.dirichlet_conductance   # [cm^2], [cm^3 s^-1]
    (4, 0.0001, array([2.e-07, 0.e+00, 0.e+00, 0.e+00]))
    >>> c = np.array([1.0, 0.5, 0.0, 0.0])                   # [µg cm^-3]
    >>> round(op.mass(c), 12), op.boundary_flux(c, 1.0)      # [µg], [µg s^-1]
    (1.5e-06, 0.0)
    >>> op.to_image(c)
    array([[[nan, 1. , 0.5, 0. , 0. ]]])
    """

    shape: tuple[int, ...]
    unknowns: np.ndarray
    stiffness: sp.csr_matrix
    dirichlet_conductance: np.ndarray
    voxel_volume: float
    dirichlet_area: float
    diagonal_position: np.ndarray

    @property
    def n(self) -> int:
        return int(self.unknowns.size)

    def boundary_flux(self, c: np.ndarray, c_dirichlet: float) -> float:
        """Rate of mass entering through the source faces [µg s^-1 for c in µg cm^-3]."""
        return float(np.dot(self.dirichlet_conductance, c_dirichlet - c))

    def mass(self, c: np.ndarray) -> float:
        """Mass held by the unknowns [µg for c in µg cm^-3]."""
        return float(self.voxel_volume * c.sum())

    def to_image(self, c: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """Scatter unknown values back into an array of the image's shape."""
        out = np.full(int(np.prod(self.shape)), fill, dtype=float)
        out[self.unknowns] = c
        return out.reshape(self.shape)


def estimate_memory(n_voxels: int, conducting_fraction: float = 1.0) -> int:
    """Rough peak memory of an assembly plus an AMG-preconditioned transient solve [bytes].

    Counts the index map (8 B/voxel), the CSR matrix (7 entries of 12 B per unknown,
    twice: the system and its AMG hierarchy with operator complexity about 1.6), and ten
    solution-sized float vectors (BDF2 history, CG work vectors).

    Parameters
    ----------
    n_voxels : int
        Voxels of the image.
    conducting_fraction : float
        Fraction of them that are unknowns.

    Returns
    -------
    int
        Bytes.

    Examples
    --------
    >>> round(estimate_memory(100**3, conducting_fraction=0.5) / 2**20)     # [MiB]
    152
    """
    n = n_voxels * conducting_fraction
    return int(8 * n_voxels + n * (7 * 12 * 2.6 + 8 * 10) + 2 * n_voxels)


def _prepare(diffusivity, source, voxel_size, keep_unreachable):
    diffusivity = np.asarray(diffusivity, dtype=float)
    source = np.asarray(source, dtype=bool)
    if diffusivity.shape != source.shape:
        raise InputError(f"diffusivity {diffusivity.shape} and source mask {source.shape} "
                         "differ in shape", source="diffusion")
    if diffusivity.ndim == 2:
        diffusivity = diffusivity[None]
        source = source[None]
        voxel_size = (1.0, *np.broadcast_to(np.asarray(voxel_size, float), (2,)))
    elif diffusivity.ndim != 3:
        raise InputError(f"images must be 2D or 3D, got {diffusivity.ndim}D", source="diffusion")
    h = np.broadcast_to(np.asarray(voxel_size, dtype=float), (3,)).copy()
    if not np.all(np.isfinite(diffusivity)) or np.any(diffusivity < 0):
        raise InputError("diffusivity must be finite and >= 0 everywhere", source="diffusion",
                         field="diffusivity")
    if not np.all(np.isfinite(h)) or np.any(h <= 0):
        raise InputError(f"voxel size must be positive, got {voxel_size}", source="diffusion",
                         field="voxel_size")
    conducting = (diffusivity > 0) & ~source
    if not keep_unreachable:
        # voxels in clusters without a source face never receive mass: drop them
        near_source = ndimage.binary_dilation(source) & conducting
        lab, nlab = ndimage.label(conducting)
        reached = np.unique(lab[near_source])
        reached = reached[reached > 0]
        conducting = np.isin(lab, reached)
    return diffusivity, source, conducting, h


def face_geometry(h):
    """Face area normal to each array axis [cm^2] and area over centre distance [cm].

    Parameters
    ----------
    h : (3,) float array
        Voxel edge along each array axis (z, y, x) [cm].

    Returns
    -------
    area, factor : (3,) arrays
        [cm^2] and [cm].

    Examples
    --------
    >>> import numpy as np
    >>> face_geometry(np.array([0.01, 0.01, 0.02]))
    (array([0.0002, 0.0002, 0.0001]), array([0.02 , 0.02 , 0.005]))
    """
    area = np.array([h[1] * h[2], h[0] * h[2], h[0] * h[1]])
    return area, area / h


def dirichlet_face_area(conducting: np.ndarray, source: np.ndarray, area) -> float:
    """Total area [cm^2] of the faces between conducting voxels and Dirichlet (source) voxels.

    ``area`` holds the face area normal to each array axis (z, y, x).

    Parameters
    ----------
    conducting, source : bool arrays (nz, ny, nx)
        The unknowns and the source voxels.
    area : (3,) float array
        Face area normal to each array axis [cm^2].

    Returns
    -------
    float
        [cm^2].

    Examples
    --------
    A source voxel inside a 3x3 film has four faces to it:

    >>> import numpy as np
    >>> source = np.zeros((1, 3, 3), bool)
    >>> source[0, 1, 1] = True
    >>> dirichlet_face_area(~source, source, np.array([1e-4, 1e-2, 1e-2]))
    0.04
    """
    total = 0.0
    for a in range(3):
        for lo, hi in ((slice(None, -1), slice(1, None)), (slice(1, None), slice(None, -1))):
            sl_c = [slice(None)] * 3
            sl_s = [slice(None)] * 3
            sl_c[a], sl_s[a] = lo, hi
            total += area[a] * np.count_nonzero(conducting[tuple(sl_c)] & source[tuple(sl_s)])
    return float(total)


def assemble_voxel_diffusion(diffusivity: np.ndarray, source: np.ndarray, voxel_size,
                             *, keep_unreachable: bool = False,
                             memory_limit: float | None = 4 * 2**30) -> VoxelDiffusionOperator:
    """Assemble the finite-volume diffusion operator of a voxel image.

    Parameters
    ----------
    diffusivity : (nz, ny, nx) or (ny, nx) float array
        Diffusion coefficient of every voxel [cm^2 s^-1]; 0 where nothing diffuses (air,
        solid). Source voxels' values are ignored.
    source : bool array of the same shape
        Voxels held at a fixed concentration (root, hairs).
    voxel_size : float or 3 floats
        Voxel edge length along each array axis [cm].
    keep_unreachable : bool
        Keep conducting clusters that touch no source (they stay at zero; dropping them
        saves memory and keeps the matrix free of singular blocks when dt is large).
    memory_limit : float or None
        Refuse (``ResourceError``) when :func:`estimate_memory` exceeds this [bytes].

    Returns
    -------
    VoxelDiffusionOperator

    References
    ----------
    .. [1] Patankar, S. V. (1980). Numerical Heat Transfer and Fluid Flow. Hemisphere
       (harmonic-mean face conductances, §4.2).

    Examples
    --------
    A 2D image: a source voxel in the middle of a 3x3 water film:

    >>> import numpy as np
    >>> diffusivity = np.full((3, 3), 1e-5)              # [cm^2 s^-1]
    >>> source = np.zeros((3, 3), bool)
    >>> source[1, 1] = True
    >>> op = assemble_voxel_diffusion(diffusivity, source, 0.01)
    >>> op.shape, op.n, op.dirichlet_area                # 2D: area is a length [cm]
    ((1, 3, 3), 8, 0.04)
    >>> op.stiffness.diagonal()                          # [cm^2 s^-1] in 2D
    array([2.e-05, 4.e-05, 2.e-05, 4.e-05, 4.e-05, 2.e-05, 4.e-05, 2.e-05])
    """
    n_vox = int(np.prod(np.shape(diffusivity)))
    if memory_limit is not None:
        need = estimate_memory(n_vox, float(np.mean(np.asarray(diffusivity) > 0)))
        if need > memory_limit:
            raise ResourceError(
                f"a diffusion solve on {n_vox:,} voxels needs about {need / 2**30:.1f} GiB "
                f"(limit {memory_limit / 2**30:.1f} GiB); crop the image to the region of "
                "interest or coarsen it (rhizoscale.image.transform.crop / coarsen)")
    diffusivity, source, conducting, h = _prepare(diffusivity, source, voxel_size,
                                                  keep_unreachable)
    # every axis closed; clusters that touch no source were dropped by _prepare, so no
    # face of an unknown reaches a conducting voxel that is not one
    area, factor = face_geometry(h)
    op = assemble_csr(diffusivity, factor, conducting, source, CLOSED, fixed=True,
                      diagonal_position=True)
    unknowns = np.flatnonzero(conducting.ravel())
    area_dirichlet = dirichlet_face_area(conducting, source, area)
    return VoxelDiffusionOperator(
        shape=diffusivity.shape, unknowns=unknowns, stiffness=op.matrix,
        dirichlet_conductance=op.fixed, voxel_volume=float(np.prod(h)),
        dirichlet_area=float(area_dirichlet), diagonal_position=op.diagonal_position,
    )


def assemble_reference(diffusivity, source, voxel_size, *, keep_unreachable=False):
    """Readable assembly of the same operator (the specification of the kernel).

    The face conductances of
    :func:`rhizoscale.solvers.voxel_operator.face_conductances_reference` (NumPy) made
    into a matrix by :func:`~rhizoscale.solvers.voxel_operator.csr_from_faces`.
    Returns ``(K, g, unknowns)`` as in :class:`VoxelDiffusionOperator`.

    Parameters
    ----------
    diffusivity, source, voxel_size, keep_unreachable
        As in :func:`assemble_voxel_diffusion`.

    Returns
    -------
    K : scipy.sparse.csr_matrix (n, n)
        Conductance matrix [cm^3 s^-1].
    g : (n,) float array
        Conductance of each unknown to the sources [cm^3 s^-1].
    unknowns : (n,) int64 array
        Flat voxel index of every unknown.

    Examples
    --------
    The same operator as the assembly kernel's:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> diffusivity = rng.uniform(0, 1e-5, (3, 4, 5))
    >>> source = rng.random((3, 4, 5)) < 0.1
    >>> K, g, unknowns = assemble_reference(diffusivity, source, (0.01, 0.01, 0.02))
    >>> op = assemble_voxel_diffusion(diffusivity, source, (0.01, 0.01, 0.02))
    >>> bool(abs(K - op.stiffness).max() < 1e-20), np.array_equal(unknowns, op.unknowns)
    (True, True)
    """
    diffusivity, source, conducting, h = _prepare(diffusivity, source, voxel_size,
                                                  keep_unreachable)
    _, factor = face_geometry(h)
    cx, cy, cz, g = face_conductances_reference(diffusivity, factor, conducting, source, CLOSED)
    K = csr_from_faces(cx, cy, cz, g, conducting)
    return K, g[conducting], np.flatnonzero(conducting.ravel())

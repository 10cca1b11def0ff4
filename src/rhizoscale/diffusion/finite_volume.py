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

The matrix is assembled by a Numba kernel in one pass over the voxels, producing CSR
rows with sorted columns; :func:`assemble_reference` is the readable COO version it is
tested against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
from scipy import ndimage

from ..errors import InputError, ResourceError

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
    """
    n = n_voxels * conducting_fraction
    return int(8 * n_voxels + n * (7 * 12 * 2.6 + 8 * 10) + 2 * n_voxels)


@numba.njit(cache=True)
def _count_row_lengths(index, nz, ny, nx):
    counts = np.zeros(nz * ny * nx, dtype=np.int64)
    strides = (ny * nx, nx, 1)
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                p = (z * ny + y) * nx + x
                r = index[p]
                if r < 0:
                    continue
                k = 1
                if z > 0 and index[p - strides[0]] >= 0:
                    k += 1
                if z < nz - 1 and index[p + strides[0]] >= 0:
                    k += 1
                if y > 0 and index[p - strides[1]] >= 0:
                    k += 1
                if y < ny - 1 and index[p + strides[1]] >= 0:
                    k += 1
                if x > 0 and index[p - 1] >= 0:
                    k += 1
                if x < nx - 1 and index[p + 1] >= 0:
                    k += 1
                counts[r] = k
    return counts


@numba.njit(cache=True)
def _fill_rows(index, diff, source, nz, ny, nx, coef, indptr, indices, data, g, diagpos):
    """Fill CSR rows (columns ascending: -z, -y, -x, diag, +x, +y, +z) and Dirichlet g.

    ``coef[a] = A_a / h_a`` for axis a (face area over centre distance, [cm]).
    """
    strides = (ny * nx, nx, 1)
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                p = (z * ny + y) * nx + x
                r = index[p]
                if r < 0:
                    continue
                di = diff[p]
                pos = indptr[r]
                diag = 0.0
                gi = 0.0
                # neighbours in ascending flat order: -z, -y, -x, +x, +y, +z
                for k in range(6):
                    if k == 0:
                        a, ok, q = 0, z > 0, p - strides[0]
                    elif k == 1:
                        a, ok, q = 1, y > 0, p - strides[1]
                    elif k == 2:
                        a, ok, q = 2, x > 0, p - 1
                    elif k == 3:
                        a, ok, q = 2, x < nx - 1, p + 1
                    elif k == 4:
                        a, ok, q = 1, y < ny - 1, p + strides[1]
                    else:
                        a, ok, q = 0, z < nz - 1, p + strides[0]
                    if k == 3:
                        diagpos[r] = pos
                        pos += 1
                    if not ok:
                        continue
                    if index[q] >= 0:
                        dj = diff[q]
                        w = coef[a] * 2.0 * di * dj / (di + dj)
                        indices[pos] = index[q]
                        data[pos] = -w
                        diag += w
                        pos += 1
                    elif source[q]:
                        w = coef[a] * 2.0 * di
                        gi += w
                        diag += w
                d = diagpos[r]
                indices[d] = r
                data[d] = diag
                g[r] = gi


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


def dirichlet_face_area(conducting: np.ndarray, source: np.ndarray, area) -> float:
    """Total area [cm^2] of the faces between conducting voxels and Dirichlet (source) voxels.

    ``area`` holds the face area normal to each array axis (z, y, x).
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
    nz, ny, nx = diffusivity.shape
    index = np.full(diffusivity.size, -1, dtype=np.int64)
    unknowns = np.flatnonzero(conducting.ravel())
    index[unknowns] = np.arange(unknowns.size)
    area = np.array([h[1] * h[2], h[0] * h[2], h[0] * h[1]])
    coef = area / h
    counts = _count_row_lengths(index, nz, ny, nx)[: unknowns.size]
    indptr = np.zeros(unknowns.size + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    nnz = int(indptr[-1])
    idx_dtype = np.int32 if nnz < 2**31 - 1 else np.int64
    indices = np.empty(nnz, dtype=np.int64)
    data = np.empty(nnz, dtype=float)
    g = np.zeros(unknowns.size)
    diagpos = np.empty(unknowns.size, dtype=np.int64)
    _fill_rows(index, diffusivity.ravel(), source.ravel(), nz, ny, nx, coef,
               indptr, indices, data, g, diagpos)
    K = sp.csr_matrix((data, indices.astype(idx_dtype), indptr.astype(idx_dtype)),
                      shape=(unknowns.size, unknowns.size))
    K.has_sorted_indices = True
    area_dirichlet = dirichlet_face_area(conducting, source, area)
    return VoxelDiffusionOperator(
        shape=diffusivity.shape, unknowns=unknowns, stiffness=K, dirichlet_conductance=g,
        voxel_volume=float(np.prod(h)), dirichlet_area=float(area_dirichlet),
        diagonal_position=diagpos,
    )


def assemble_reference(diffusivity, source, voxel_size, *, keep_unreachable=False):
    """Readable COO assembly of the same operator (the specification of the kernel).

    Returns ``(K, g, unknowns)`` as in :class:`VoxelDiffusionOperator`.
    """
    diffusivity, source, conducting, h = _prepare(diffusivity, source, voxel_size,
                                                  keep_unreachable)
    index = np.full(diffusivity.shape, -1, dtype=np.int64)
    unknowns = np.flatnonzero(conducting.ravel())
    index.ravel()[unknowns] = np.arange(unknowns.size)
    area = np.array([h[1] * h[2], h[0] * h[2], h[0] * h[1]])
    rows, cols, vals = [], [], []
    g = np.zeros(unknowns.size)
    for a in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[a], hi[a] = slice(None, -1), slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        d1, d2 = diffusivity[lo], diffusivity[hi]
        both = conducting[lo] & conducting[hi]
        w = area[a] / h[a] * 2 * d1[both] * d2[both] / (d1[both] + d2[both])
        i, j = index[lo][both], index[hi][both]
        rows += [i, j, i, j]
        cols += [j, i, i, j]
        vals += [-w, -w, w, w]
        for c_sl, s_sl in ((lo, hi), (hi, lo)):
            touch = conducting[c_sl] & source[s_sl]
            np.add.at(g, index[c_sl][touch], area[a] / h[a] * 2 * diffusivity[c_sl][touch])
    rows.append(np.arange(unknowns.size))
    cols.append(np.arange(unknowns.size))
    vals.append(g)
    K = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(unknowns.size, unknowns.size)).tocsr()
    return K, g, unknowns

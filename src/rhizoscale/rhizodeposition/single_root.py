"""The largest concentration any single root alone produces in a voxel (overlap share)."""

from __future__ import annotations

import math

import numba
import numpy as np

from ..core.grid import RegularGrid
from .deposition import _axis_fractions, _particle_boxes, _sigma
from .green import RootPaths
from .parameters import ExudateParameters
from .particles import FieldDiscretisation, _particles

__all__ = ["single_root_maximum"]


@numba.njit(cache=True)
def _single_root_kernel(parts, pstart, pend, T, w2, Dr, kr, scale, lower, h, shape, n_sigma, vox, bin_ptr,
                        bin_vox, bin_size, nb, best):
    """Largest single-root voxel average at the voxels ``vox`` over the roots of particle runs."""
    K = vox.shape[0]
    acc = np.zeros(K)
    touched = np.empty(K, np.int64)
    mark = np.zeros(K, np.bool_)
    fx = np.empty(shape[2])
    fy = np.empty(shape[1])
    fz = np.empty(shape[0])
    for run in range(pstart.shape[0]):
        nt = 0
        for p in range(pstart[run], pend[run]):
            tau = T - parts[p, 4]
            sig = _sigma(w2, Dr, tau)
            m = parts[p, 3] * math.exp(-kr * tau) * scale
            ix, cx = _axis_fractions(parts[p, 0], sig, lower[0], h[0], shape[2], n_sigma, fx)
            iy, cy = _axis_fractions(parts[p, 1], sig, lower[1], h[1], shape[1], n_sigma, fy)
            iz, cz = _axis_fractions(parts[p, 2], sig, lower[2], h[2], shape[0], n_sigma, fz)
            if cx == 0 or cy == 0 or cz == 0:
                continue
            for bz in range(iz // bin_size, (iz + cz - 1) // bin_size + 1):
                for by in range(iy // bin_size, (iy + cy - 1) // bin_size + 1):
                    for bx in range(ix // bin_size, (ix + cx - 1) // bin_size + 1):
                        bi = (bz * nb[1] + by) * nb[2] + bx
                        for q in range(bin_ptr[bi], bin_ptr[bi + 1]):
                            v = bin_vox[q]
                            a = vox[v, 0] - iz
                            b = vox[v, 1] - iy
                            c = vox[v, 2] - ix
                            if a < 0 or a >= cz or b < 0 or b >= cy or c < 0 or c >= cx:
                                continue
                            acc[v] += m * fz[a] * fy[b] * fx[c]
                            if not mark[v]:
                                mark[v] = True
                                touched[nt] = v
                                nt += 1
        for q in range(nt):
            v = touched[q]
            if acc[v] > best[v]:
                best[v] = acc[v]
            acc[v] = 0.0
            mark[v] = False


@numba.njit(parallel=True, cache=True)
def _single_root_parallel(parts, rstart, rend, chunk_ptr, T, w2, Dr, kr, scale, lower, h, shape, n_sigma, vox,
                          bin_ptr, bin_vox, bin_size, nb, out):
    """Chunks of whole roots (``chunk_ptr`` over the roots) in parallel, each into its own
    row of maxima, then the maximum over chunks: the same numbers on any thread count."""
    K = vox.shape[0]
    n_chunks = chunk_ptr.shape[0] - 1
    bests = np.zeros((n_chunks, K))
    for j in numba.prange(n_chunks):
        lo = chunk_ptr[j]
        hi = chunk_ptr[j + 1]
        _single_root_kernel(parts, rstart[lo:hi], rend[lo:hi], T, w2, Dr, kr, scale, lower, h, shape, n_sigma,
                            vox, bin_ptr, bin_vox, bin_size, nb, bests[j])
    for j in range(n_chunks):
        for v in range(K):
            if bests[j, v] > out[v]:
                out[v] = bests[j, v]


def single_root_maximum(paths: RootPaths, grid: RegularGrid, params: ExudateParameters, T: float, voxels,
                        discretisation: FieldDiscretisation = FieldDiscretisation()) -> np.ndarray:
    """Largest concentration any single root produces alone at the given voxels [ug cm-3].

    Every root's own field (all its releases, of every age, with their exact voxel-
    integrated kernels) is evaluated at the voxels only, and the maximum over roots is
    taken. This costs about as much as depositing the particles whose kernels reach the
    voxels, so it is meant for the few voxels of a hotspot.

    Parameters
    ----------
    paths : RootPaths
        Tip paths (:func:`~rhizoscale.rhizodeposition.root_paths`).
    grid : RegularGrid
        The voxels.
    params : ExudateParameters
        Release and transport parameters.
    T : float
        Time [d].
    voxels : (K, 3) int array
        Voxel indices (iz, iy, ix).
    discretisation : FieldDiscretisation
        Particle accuracy knobs (as for the grid field).

    Returns
    -------
    (K,) ndarray
        Largest single-root voxel-averaged concentration [ug cm-3] at each voxel.

    Examples
    --------
    With one root the maximum over roots is the field itself:

    >>> import numpy as np
    >>> from rhizoscale.grid import RegularGrid
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import (ExudateParameters, rhizodeposition_fields, root_paths,
    ...                                         straight_root_system)
    >>> from rhizoscale.rhizodeposition.field import single_root_maximum
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> paths = root_paths(straight_root_system(0.5, 10.0))
    >>> grid = RegularGrid.from_resolution((-0.3, -0.3, -5.3), (0.3, 0.3, 0.3), 0.02)
    >>> c = next(rhizodeposition_fields(paths, grid, mucilage, [10.0])).concentration
    >>> voxel = np.unravel_index(np.argmax(c), c.shape)
    >>> bool(np.isclose(single_root_maximum(paths, grid, mucilage, 10.0, [voxel])[0], c[voxel]))
    True
    """
    vox = np.ascontiguousarray(np.asarray(voxels, np.int64).reshape(-1, 3))
    out = np.zeros(len(vox))
    if len(vox) == 0:
        return out
    parts = _particles(paths, T, params, discretisation)
    if len(parts) == 0:
        return out
    # particles come out root by root: runs of equal root index
    r = parts[:, 5]
    brk = np.flatnonzero(np.diff(r) != 0) + 1
    rstart = np.concatenate([[0], brk]).astype(np.int64)
    rend = np.concatenate([brk, [len(parts)]]).astype(np.int64)
    if len(np.unique(r[rstart])) != len(rstart):
        raise RuntimeError("particles of one root are not contiguous")
    bin_size = 8
    shape = np.asarray(grid.shape, np.int64)
    nb = (shape + bin_size - 1) // bin_size
    b = vox // bin_size
    bi = (b[:, 0] * nb[1] + b[:, 1]) * nb[2] + b[:, 2]
    order = np.argsort(bi, kind="stable")
    bin_ptr = np.searchsorted(bi[order], np.arange(int(np.prod(nb)) + 1)).astype(np.int64)
    # the voxels stored bin by bin: a particle's voxels lie together in memory
    vox_sorted = np.ascontiguousarray(vox[order])
    bin_vox = np.arange(len(vox), dtype=np.int64)
    out_sorted = np.zeros(len(vox))
    # chunks of roots of about equal work (particles times kernel box cells), several per
    # thread, handed out one at a time: a few large roots no longer keep one thread busy
    # while the others wait
    threads = numba.get_num_threads()
    n_chunks = max(1, min(len(rstart), 8 * threads if threads > 1 else 1))
    _, cost = _particle_boxes(parts, float(T), params.source_width ** 2, params.diffusivity_retarded,
                              np.asarray(grid.lower, float), np.asarray(grid.spacing, float),
                              np.asarray(grid.shape, np.int64), discretisation.n_sigma)
    cum = np.cumsum(cost)[rend - 1]
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_chunks) / n_chunks, side="right")
    chunk_ptr = np.unique(np.concatenate([[0], cuts, [len(rstart)]])).astype(np.int64)
    old_chunk = numba.set_parallel_chunksize(1)
    try:
        _single_root_parallel(parts, rstart, rend, chunk_ptr, float(T), params.source_width ** 2,
                              params.diffusivity_retarded, params.decay_retarded,
                              1.0 / (params.theta * params.R * grid.cell_volume), np.asarray(grid.lower, float),
                              np.asarray(grid.spacing, float), shape, discretisation.n_sigma, vox_sorted, bin_ptr,
                              bin_vox, bin_size, nb.astype(np.int64), out_sorted)
    finally:
        numba.set_parallel_chunksize(old_chunk)
    out[order] = out_sorted
    return out

"""Old mass propagated with the heat kernel (the semigroup step of :mod:`.field`)."""

from __future__ import annotations

import math

import numba
import numpy as np

from ..core.grid import RegularGrid
from .parameters import ExudateParameters

__all__ = ["heat_propagate"]


@numba.njit(parallel=True, cache=True)
def _convolve_axis(src, dst, w, axis):
    """``dst = src * w`` along ``axis`` (zero outside; taps outermost so inner loops vectorise)."""
    nz, ny, nx = src.shape
    rad = (w.shape[0] - 1) // 2
    if axis == 2:
        for a in numba.prange(nz):
            pad = np.zeros(nx + 2 * rad)
            for b in range(ny):
                for c in range(nx):
                    pad[rad + c] = src[a, b, c]
                    dst[a, b, c] = 0.0
                for k in range(w.shape[0]):
                    wk = w[k]
                    for c in range(nx):
                        dst[a, b, c] += wk * pad[c + k]
    elif axis == 1:
        for a in numba.prange(nz):
            for b in range(ny):
                for c in range(nx):
                    dst[a, b, c] = 0.0
                for j in range(max(0, b - rad), min(ny, b + rad + 1)):
                    wj = w[j - b + rad]
                    for c in range(nx):
                        dst[a, b, c] += wj * src[a, j, c]
    else:
        # threads own y rows: the (z, x) slab of one y stays in cache while every z of it
        # sums its window (a z-plane loop would stream each plane from memory 2 rad + 1 times)
        for b in numba.prange(ny):
            for a in range(nz):
                for c in range(nx):
                    dst[a, b, c] = 0.0
                for j in range(max(0, a - rad), min(nz, a + rad + 1)):
                    wj = w[j - a + rad]
                    for c in range(nx):
                        dst[a, b, c] += wj * src[j, b, c]


@numba.njit(parallel=True, cache=True)
def _abs_max(field):
    nz = field.shape[0]
    m = np.zeros(nz)
    for a in numba.prange(nz):
        v = 0.0
        for b in range(field.shape[1]):
            for c in range(field.shape[2]):
                v = max(v, abs(field[a, b, c]))
        m[a] = v
    return m.max()


@numba.njit(parallel=True, cache=True)
def _support_box(field, tol):
    """Bounding box (z0, z1, y0, y1, x0, x1) of voxels with ``|field| > tol`` (z1 < z0 if none)."""
    nz, ny, nx = field.shape
    zb = np.full((nz, 4), -1, np.int64)
    for a in numba.prange(nz):
        y0, y1, x0, x1 = ny, -1, nx, -1
        for b in range(ny):
            for c in range(nx):
                if abs(field[a, b, c]) > tol:
                    y0 = min(y0, b)
                    y1 = max(y1, b)
                    x0 = min(x0, c)
                    x1 = max(x1, c)
        if y1 >= 0:
            zb[a, 0], zb[a, 1], zb[a, 2], zb[a, 3] = y0, y1, x0, x1
    box = np.array([nz, -1, ny, -1, nx, -1], np.int64)
    for a in range(nz):
        if zb[a, 1] >= 0:
            box[0] = min(box[0], a)
            box[1] = max(box[1], a)
            box[2] = min(box[2], zb[a, 0])
            box[3] = max(box[3], zb[a, 1])
            box[4] = min(box[4], zb[a, 2])
            box[5] = max(box[5], zb[a, 3])
    return box


def _sampled_gaussian(sigma_cells: float, n_sigma: float) -> np.ndarray:
    if sigma_cells <= 0:
        return np.ones(1)
    rad = max(1, int(math.ceil(n_sigma * sigma_cells)))
    k = np.arange(-rad, rad + 1)
    w = np.exp(-0.5 * (k / sigma_cells) ** 2)
    return w / w.sum()


def heat_propagate(field: np.ndarray, grid: RegularGrid, dt: float, params: ExudateParameters,
                   n_sigma: float = 6.0, support_tol: float = 1e-15, *, out: np.ndarray | None = None,
                   overwrite_input: bool = False) -> np.ndarray:
    """Advance a voxel-averaged field by ``dt`` days of diffusion and decay (open boundaries).

    Convolves with the normalised sampled Gaussian of variance ``2 D' dt`` along each axis
    and multiplies by ``exp(-k' dt)``. Mass that diffuses past the boundary is lost.
    Exact for fields whose spectrum lies below the grid's Nyquist wavenumber.

    Only the bounding box of the voxels above ``support_tol`` times the field's maximum,
    widened by the kernel radius, is convolved; the voxels left out hold at most
    ``n_voxels * support_tol`` of the mass (relative).

    Parameters
    ----------
    field : ndarray (z, y, x)
        Voxel-averaged liquid concentration [ug cm-3] on ``grid``.
    grid : RegularGrid
        The voxels.
    dt : float
        Time step [d].
    params : ExudateParameters
        ``D``, ``R`` and ``k`` (total mass moves with ``D/R`` and decays at ``k/R``).
    n_sigma : float
        Kernel cut-off in standard deviations.
    support_tol : float
        Relative level below which voxels are treated as empty.
    out : ndarray, optional
        Float64 C-contiguous array of the field's shape (not ``field``) to write the
        result into (a run that steps many times then allocates nothing).
    overwrite_input : bool
        ``field`` (float64, C-contiguous) may be used as scratch space (its values are
        lost); the result is the same.

    Returns
    -------
    ndarray
        The field ``dt`` days later (a new array, or ``out``).

    Examples
    --------
    Mass far from the boundary only decays, at ``k/R``:

    >>> import numpy as np
    >>> from rhizoscale.grid import RegularGrid
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters, heat_propagate
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> grid = RegularGrid.from_resolution((-0.5, -0.5, -0.5), (0.5, 0.5, 0.5), 0.05)
    >>> field = np.zeros(grid.shape)
    >>> field[10, 10, 10] = 1.0
    >>> later = heat_propagate(field, grid, 1.0, mucilage)
    >>> round(float(later.sum() / field.sum()), 6), round(float(np.exp(-mucilage.k)), 6)
    (0.802519, 0.802519)
    """
    var = 2 * params.diffusivity_retarded * dt
    sp = grid.spacing
    src = np.ascontiguousarray(field, dtype=np.float64)
    if out is not None and (out.shape != src.shape or out.dtype != np.float64 or not out.flags.c_contiguous
                            or np.shares_memory(out, src)):
        raise ValueError("out must be a separate float64 C-contiguous array of the field's shape")
    scratch_ok = overwrite_input and src is field
    peak = _abs_max(src) if src.size else 0.0
    if peak == 0.0:
        if out is None:
            return np.zeros_like(src)
        out.fill(0.0)
        return out
    box = _support_box(src, support_tol * peak)
    ws = [_sampled_gaussian(math.sqrt(var) / h, n_sigma) for h in (sp[2], sp[1], sp[0])]  # z, y, x
    sl = tuple(slice(max(0, box[2 * a] - (len(ws[a]) - 1) // 2), min(src.shape[a], box[2 * a + 1] + (len(ws[a]) - 1) // 2 + 1))
               for a in range(3))
    full = all(s.start == 0 and s.stop == n for s, n in zip(sl, src.shape))
    if full:                    # the box is the grid: convolve straight from the field
        b = np.empty_like(src) if out is None else out
        tmp = src if scratch_ok else np.empty_like(src)
        _convolve_axis(src, b, ws[2], 2)
        _convolve_axis(b, tmp, ws[1], 1)
        _convolve_axis(tmp, b, ws[0], 0)
        b *= math.exp(-params.decay_retarded * dt)
        return b
    a = np.ascontiguousarray(src[sl])
    b = np.empty_like(a)
    for axis in (2, 1, 0):
        _convolve_axis(a, b, ws[axis], axis)
        a, b = b, a
    a *= math.exp(-params.decay_retarded * dt)
    if out is None:
        out = np.zeros_like(src)
    else:
        out.fill(0.0)
    out[sl] = a
    return out

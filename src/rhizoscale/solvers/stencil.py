"""Matrix-free 7-point (5-point in 2D) face-conductance stencil on a voxel grid.

The operator of a cell-centred finite-volume diffusion problem on voxels,

    (A x)_p = s w_p x_p + g_p x_p + sum over faces f of p:  c_f (x_p - x_q(f)),

is stored on the full grid as one face conductance per voxel and axis (``cx``, ``cy``,
``cz``: the face towards the ``+`` neighbour along array axis 2, 1, 0), an extra diagonal
term ``g`` (faces to voxels or boundaries held at a fixed value, sinks) and a weight
``w`` (1 on unknowns, 0 elsewhere; on coarse multigrid levels the number of fine
unknowns in the box), with the shift ``s`` (e.g. ``a0 V / dt`` of an implicit time
step) given at each use. The face of the last voxel along an axis is the wrap-around
face to the first one: a periodic axis has conductances there, a closed axis has 0.
Faces touching a voxel that is not an unknown have conductance 0, so the row of such a
voxel is 0 and the solvers leave it at 0. The diagonal is never stored: every face flux
cancels exactly and the operator is exactly symmetric whatever the storage precision
(float32 or float64) of the conductances.

Layout: arrays are 3D ``(n0, n1, n2)``. A 2D grid ``(1, n1, n2)`` is stored as
``(n1, 1, n2)`` (the same memory, rows become planes), so that every kernel is threaded
over, and pipelined along, axis 0; kernels skip the axis-1 terms when ``n1 == 1``.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from ._numba import JIT, threaded_kernel
from .voxel_operator import csr_from_faces

__all__ = ["Stencil"]


class Stencil:
    """Matrix-free operator ``A = s W + G + K_faces`` on a voxel grid.

    A 2D grid given as ``(1, n1, n2)`` is stored as ``(n1, 1, n2)``; :attr:`shape` is the
    stored shape, and vectors passed to the kernels must have it
    (``v.reshape(stencil.shape)`` is a view).

    Parameters
    ----------
    cx, cy, cz : float32, float64 or uint8 arrays (n0, n1, n2)
        Face conductances towards the ``+`` neighbour along axes 2, 1, 0 (the last
        voxel's face wraps around to the first voxel; 0 on a closed axis). All three have
        the dtype of the storage. ``uint8`` holds conductances that are small integers
        (in a unit the caller chooses: a medium of one diffusivity, see
        :func:`~rhizoscale.solvers.voxel_operator.unit_conductances`) exactly, in a
        quarter of float32's bytes; the kernels compute with them as with float32.
    g : array like ``cx``
        Extra diagonal term: conductance to fixed values (Dirichlet faces, pinned
        voxels), sinks.
    w : uint8 (or float) array
        1 on unknowns, 0 elsewhere (coarse levels: float, fine unknowns per box).
    periodic : 3 bools
        Per axis: whether wrap-around faces may conduct (only used to order the
        Gauss–Seidel sweeps exactly along odd periodic axes).
    rows_as_planes : bool
        Store a ``(1, n1, n2)`` grid as ``(n1, 1, n2)`` (default; coarse multigrid levels
        keep their layout).

    Raises
    ------
    TypeError
        Conductances and ``g`` of different dtypes.

    See Also
    --------
    rhizoscale.solvers.Multigrid : the preconditioner built on it.
    rhizoscale.solvers.pcg : conjugate gradients with it.

    Examples
    --------
    Diffusion with a uniform source in a closed box whose first x layer touches a face
    held at 0, solved by multigrid-preconditioned CG and checked against a sparse direct
    solve: see the runnable example of :func:`rhizoscale.solvers.pcg`.
    """

    def __init__(self, cx, cy, cz, g, w, periodic=(False, False, False), *,
                 rows_as_planes: bool = True):
        periodic = tuple(bool(p) for p in periodic)
        if rows_as_planes and w.shape[0] == 1 and w.shape[1] > 1:   # 2D: rows become planes
            n1, n2 = w.shape[1:]
            shape = (n1, 1, n2)
            cz, cy = cy.reshape(shape), np.zeros(shape, cy.dtype)
            cx, g, w = cx.reshape(shape), g.reshape(shape), w.reshape(shape)
            periodic = (periodic[1], False, periodic[2])
        if not (cx.dtype == cy.dtype == cz.dtype == g.dtype):
            raise TypeError("conductances and g must share one dtype")
        # Along an axis of length 1 the wrap-around face joins a voxel to itself: it
        # carries no flux and cancels in A, but the smoother would count it in the
        # diagonal (and coarsening a periodic axis of length 2 makes one). Drop it.
        faces = [cz, cy, cx]
        for axis in range(3):
            if w.shape[axis] == 1 and np.any(faces[axis]):
                faces[axis] = np.zeros_like(faces[axis])
        cz, cy, cx = faces
        self.cx, self.cy, self.cz, self.g = cx, cy, cz, g
        self.w = w.view(np.uint8) if w.dtype == bool else w
        self.periodic = periodic

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.w.shape

    @property
    def dtype(self):
        return self.cx.dtype

    @property
    def coupled_colours(self) -> bool:
        """True when an odd periodic axis couples voxels of one red–black colour."""
        return any(p and n > 1 and n % 2 == 1 for p, n in zip(self.periodic, self.shape))

    def astype(self, dtype) -> "Stencil":
        """The same operator with conductances stored in ``dtype`` (no copy if equal)."""
        if np.dtype(dtype) == self.dtype:
            return self
        return Stencil(*(a.astype(dtype) for a in (self.cx, self.cy, self.cz, self.g)),
                       self.w, self.periodic, rows_as_planes=False)

    def matvec(self, x, out, shift: float = 0.0) -> float:
        """``out = A x``; returns ``x . out``."""
        return matvec_dot(x, out, self.cx, self.cy, self.cz, self.g, self.w, float(shift))

    def residual(self, x, b, out, shift: float = 0.0) -> float:
        """``out = b - A x`` computed in float64 and rounded once to ``out``'s dtype;
        returns the squared norm of the float64 residual."""
        return residual_norm(x, b, out, self.cx, self.cy, self.cz, self.g, self.w,
                             float(shift))

    def unknowns(self) -> np.ndarray:
        """Flat indices of the unknowns (``w != 0``), C order."""
        return np.flatnonzero(self.w.ravel())

    def to_csr(self, shift: float = 0.0) -> sp.csr_matrix:
        """The operator as a sparse matrix on the unknowns (in :meth:`unknowns` order).

        The readable specification the kernels are tested against; also used for the
        coarsest multigrid level.
        """
        diagonal = shift * self.w.astype(float) + self.g.astype(float)
        return csr_from_faces(self.cx, self.cy, self.cz, diagonal, self.w != 0)


# --------------------------------------------------------------------------- row helpers
# Every kernel works row by row: (z, y) fixed, i along the contiguous axis. The interior
# (1 <= i <= n2 - 2) is a loop without wrap-around tests, so it vectorises; the two end
# voxels use the wrapped neighbours. zm/zp, ym/yp are the wrapped neighbour planes/rows.
@numba.njit(inline="always", **JIT)
def wrap_minus(i, n):
    return i - 1 if i > 0 else n - 1


@numba.njit(inline="always", **JIT)
def wrap_plus(i, n):
    return i + 1 if i + 1 < n else 0


@numba.njit(inline="always", **JIT)
def _apply_at(x, cx, cy, cz, g, w, shift, z, zm, zp, y, ym, yp, i, im, ip, flat):
    a, b_ = cx[z, y, im], cx[z, y, i]
    e, f = cz[zm, y, i], cz[z, y, i]
    xi = x[z, y, i]
    if flat:
        return ((shift * w[z, y, i] + g[z, y, i] + a + b_ + e + f) * xi
                - a * x[z, y, im] - b_ * x[z, y, ip] - e * x[zm, y, i] - f * x[zp, y, i])
    c, d = cy[z, ym, i], cy[z, y, i]
    return ((shift * w[z, y, i] + g[z, y, i] + a + b_ + c + d + e + f) * xi
            - a * x[z, y, im] - b_ * x[z, y, ip] - c * x[z, ym, i] - d * x[z, yp, i]
            - e * x[zm, y, i] - f * x[zp, y, i])


@numba.njit(inline="always", **JIT)
def apply_row(x, cx, cy, cz, g, w, shift, z, zm, zp, y, ym, yp, tmp):
    """tmp[i] = (A x)[z, y, i] for the whole row."""
    n2 = x.shape[2]
    flat = x.shape[1] == 1
    if flat:
        for i in range(1, n2 - 1):
            a, b_ = cx[z, y, i - 1], cx[z, y, i]
            e, f = cz[zm, y, i], cz[z, y, i]
            tmp[i] = ((shift * w[z, y, i] + g[z, y, i] + a + b_ + e + f) * x[z, y, i]
                      - a * x[z, y, i - 1] - b_ * x[z, y, i + 1]
                      - e * x[zm, y, i] - f * x[zp, y, i])
    else:
        for i in range(1, n2 - 1):
            a, b_ = cx[z, y, i - 1], cx[z, y, i]
            c, d = cy[z, ym, i], cy[z, y, i]
            e, f = cz[zm, y, i], cz[z, y, i]
            tmp[i] = ((shift * w[z, y, i] + g[z, y, i] + a + b_ + c + d + e + f) * x[z, y, i]
                      - a * x[z, y, i - 1] - b_ * x[z, y, i + 1]
                      - c * x[z, ym, i] - d * x[z, yp, i]
                      - e * x[zm, y, i] - f * x[zp, y, i])
    tmp[0] = _apply_at(x, cx, cy, cz, g, w, shift, z, zm, zp, y, ym, yp, 0, n2 - 1,
                       wrap_plus(0, n2), flat)
    if n2 > 1:
        tmp[n2 - 1] = _apply_at(x, cx, cy, cz, g, w, shift, z, zm, zp, y, ym, yp, n2 - 1,
                                n2 - 2, 0, flat)


def _matvec_dot_py(x, out, cx, cy, cz, g, w, shift):
    """out = A x; returns x . out."""
    n0, n1, n2 = x.shape
    acc = 0.0
    for z in numba.prange(n0):
        tmp = np.empty(n2, out.dtype)
        zm, zp = wrap_minus(z, n0), wrap_plus(z, n0)
        for y in range(n1):
            apply_row(x, cx, cy, cz, g, w, shift, z, zm, zp, y, wrap_minus(y, n1),
                      wrap_plus(y, n1), tmp)
            s = 0.0
            for i in range(n2):
                out[z, y, i] = tmp[i]
                s += tmp[i] * x[z, y, i]
            acc += s
    return acc


def _residual_norm_py(x, b, out, cx, cy, cz, g, w, shift):
    """out = b - A x (float64 arithmetic, one rounding to out's dtype); returns |b - A x|^2."""
    n0, n1, n2 = x.shape
    acc = 0.0
    for z in numba.prange(n0):
        tmp = np.empty(n2, np.float64)
        zm, zp = wrap_minus(z, n0), wrap_plus(z, n0)
        for y in range(n1):
            apply_row(x, cx, cy, cz, g, w, shift, z, zm, zp, y, wrap_minus(y, n1),
                      wrap_plus(y, n1), tmp)
            s = 0.0
            for i in range(n2):
                v = np.float64(b[z, y, i]) - tmp[i]
                out[z, y, i] = v
                s += v * v
            acc += s
    return acc


def _inverse_diagonal_py(inv, cx, cy, cz, g, w, shift):
    """inv = 1 / (s w + g + sum of face conductances) on unknowns, 0 elsewhere."""
    n0, n1, n2 = inv.shape
    for z in numba.prange(n0):
        zm = wrap_minus(z, n0)
        for y in range(n1):
            ym = wrap_minus(y, n1)
            for i in range(n2):
                im = wrap_minus(i, n2)
                wi = w[z, y, i]
                d = (shift * wi + g[z, y, i] + cx[z, y, im] + cx[z, y, i] + cy[z, ym, i]
                     + cy[z, y, i] + cz[zm, y, i] + cz[z, y, i])
                inv[z, y, i] = 1.0 / d if (wi != 0 and d > 0.0) else 0.0


matvec_dot = threaded_kernel(_matvec_dot_py, single_build=True)
inverse_diagonal = threaded_kernel(_inverse_diagonal_py, single_build=True)
residual_norm = threaded_kernel(_residual_norm_py, single_build=True)

"""Preconditioned conjugate gradients on full-grid vectors, with fused vector kernels.

Vectors are arrays of a :class:`~rhizoscale.solvers.stencil.Stencil`'s shape (0 off the
unknowns): the solution float64, the work vectors float64 or float32 (see
:class:`PCGWorkspace`). Each iteration makes one pass over the grid per kernel: the
operator product returns ``p . A p``, the update of ``x`` and ``r`` returns ``r . r``,
and the preconditioner returns ``r . z`` (see :meth:`.Multigrid.apply`).
"""

from __future__ import annotations

import numba
import numpy as np

from ..errors import RhizoscaleError
from ._numba import threaded_kernel

__all__ = ["ConvergenceError", "PCGWorkspace", "pcg", "dot", "REPLACE_FACTOR"]


class ConvergenceError(RhizoscaleError):
    """An iterative solve reached its iteration limit.

    A :class:`~rhizoscale.RhizoscaleError`: the command line prints it without a traceback.
    """


def _dot_py(a, b):
    n0, n1, n2 = a.shape
    acc = 0.0
    for z in numba.prange(n0):
        s = 0.0
        for y in range(n1):
            for i in range(n2):
                s += a[z, y, i] * b[z, y, i]
        acc += s
    return acc


def _axpy_dot_py(x, p, r, q, alpha):
    """x += alpha p; r -= alpha q; returns r . r."""
    n0, n1, n2 = x.shape
    acc = 0.0
    for z in numba.prange(n0):
        s = 0.0
        for y in range(n1):
            for i in range(n2):
                x[z, y, i] += alpha * p[z, y, i]
                v = r[z, y, i] - alpha * q[z, y, i]
                r[z, y, i] = v
                s += v * v
        acc += s
    return acc


def _xpby_py(z_, p, beta):
    """p = z + beta p."""
    n0, n1, n2 = p.shape
    for z in numba.prange(n0):
        for y in range(n1):
            for i in range(n2):
                p[z, y, i] = z_[z, y, i] + beta * p[z, y, i]


dot = threaded_kernel(_dot_py, single_build=True)
axpy_dot = threaded_kernel(_axpy_dot_py, single_build=True)
xpby = threaded_kernel(_xpby_py, single_build=True)


class PCGWorkspace:
    """Work vectors of :func:`pcg` (reused between solves).

    Parameters
    ----------
    shape : tuple of int
        The stencil's (stored) shape.
    dtype : float64 or float32
        Storage of the work vectors. float32 halves their bytes; :func:`pcg` then keeps
        the solution in float64 and replaces the recursive residual by the true one
        (computed in float64) whenever it has dropped by :data:`REPLACE_FACTOR`, and
        before it stops, so the returned solution meets ``rtol`` on the float64 residual.

    Attributes
    ----------
    r, p, q : ndarray
        Residual, search direction and ``A p``.
    z : ndarray
        Preconditioned residual: the same storage as ``q`` (``A p`` is no longer needed
        once ``r`` is updated), so a solve holds three work vectors, not four.

    Examples
    --------
    One workspace for several solves with the same stencil (no allocation per solve):

    >>> import numpy as np
    >>> from rhizoscale.solvers import Multigrid, Stencil, pcg
    >>> n = 8                                               # a closed 8^3 box, unit conductances
    >>> cx, cy, cz = (np.ones((n, n, n)) for _ in range(3))
    >>> cx[:, :, -1] = cy[:, -1, :] = cz[-1, :, :] = 0.0
    >>> g = np.zeros((n, n, n))
    >>> g[:, :, 0] = 2.0                                    # c = 0 on the first x face
    >>> stencil = Stencil(cx, cy, cz, g, np.ones((n, n, n), np.uint8))
    >>> workspace, preconditioner = PCGWorkspace((n, n, n)), Multigrid(stencil)
    >>> for source in (1.0, 2.0):
    ...     x = np.zeros((n, n, n))
    ...     print(pcg(stencil, preconditioner, np.full((n, n, n), source), x, rtol=1e-10,
    ...               maxiter=100, workspace=workspace), round(float(x.max()), 6))
    8 32.0
    8 64.0
    """

    def __init__(self, shape, dtype=np.float64):
        self.r, self.p, self.q = (np.zeros(shape, dtype) for _ in range(3))
        self.z = self.q

    @property
    def dtype(self):
        return self.r.dtype


#: with float32 work vectors, the recursive residual is replaced by the true float64
#: residual each time its norm has dropped by this factor (van der Vorst & Ye 2000)
REPLACE_FACTOR = 1e-2


def pcg(stencil, preconditioner, b, x, *, rtol: float, maxiter: int, shift: float = 0.0,
        zero_guess: bool = False, workspace: PCGWorkspace | None = None,
        what: str = "linear system") -> int:
    """Solve ``A x = b`` by preconditioned CG; returns the iterations.

    Parameters
    ----------
    stencil : Stencil
        ``A`` (with ``shift``).
    preconditioner : Multigrid
        ``apply(r, out)`` returning ``r . out``.
    b, x : arrays of the stencil's shape
        Right-hand side (float64, or float32 with a float32 workspace; may be the
        workspace's ``r`` when the workspace is float64) and float64 initial guess,
        overwritten by the solution.
    rtol : float
        Stop when ``|b - A x| <= rtol |b|`` (scipy's criterion).
    maxiter : int
        Iteration limit.
    shift : float
        ``s`` of ``A = s W + G + K`` (e.g. ``a0 V / dt`` of an implicit time step).
    zero_guess : bool
        Start from ``x = 0`` whatever ``x`` holds (saves a product).
    workspace : PCGWorkspace, optional
        Work vectors to reuse (allocated when not given).
    what : str
        What is being solved (named in the error).

    Returns
    -------
    int
        Iterations done (0 when ``b = 0`` or the guess already meets ``rtol``).

    Raises
    ------
    ConvergenceError
        After ``maxiter`` iterations, naming ``what``.

    References
    ----------
    Hestenes, M. R., & Stiefel, E. (1952). Methods of conjugate gradients for solving
    linear systems. J. Res. Natl. Bur. Stand., 49, 409–436.
    van der Vorst, H. A., & Ye, Q. (2000). Residual replacement strategies for Krylov
    subspace iterative methods for the convergence of true residuals. SIAM J. Sci.
    Comput., 22, 835–852.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import spsolve
    >>> from rhizoscale.solvers import Multigrid, Stencil, pcg
    >>> n = 16                                              # a closed 16^3 box of unit conductances
    >>> cx, cy, cz = (np.ones((n, n, n)) for _ in range(3))
    >>> cx[:, :, -1] = cy[:, -1, :] = cz[-1, :, :] = 0.0    # no face beyond the last voxel
    >>> g = np.zeros((n, n, n))
    >>> g[:, :, 0] = 2.0                                    # first x layer: Dirichlet face (c = 0)
    >>> stencil = Stencil(cx, cy, cz, g, np.ones((n, n, n), np.uint8))
    >>> b, x = np.ones((n, n, n)), np.zeros((n, n, n))      # uniform source, initial guess
    >>> iterations = pcg(stencil, Multigrid(stencil), b, x, rtol=1e-10, maxiter=100)
    >>> exact = spsolve(stencil.to_csr().tocsc(), b.ravel())
    >>> iterations < 20, bool(np.allclose(x.ravel(), exact, rtol=1e-8))
    (True, True)
    """
    ws = workspace or PCGWorkspace(b.shape)
    r, zv, p, q = ws.r, ws.z, ws.p, ws.q
    # float32 work vectors: x stays float64 and the residual is recomputed from it
    replace = r.dtype.itemsize < x.dtype.itemsize
    if replace and b is r:
        raise ValueError("with low-precision work vectors b must not be the workspace's r")
    bnorm2 = dot(b, b)
    if bnorm2 == 0.0:
        x[...] = 0.0
        return 0
    if zero_guess:
        x[...] = 0.0
        if b is not r:
            r[...] = b
        rr = dot(r, r)
    else:
        rr = stencil.residual(x, b, r, shift)
    tol2 = rtol * rtol * bnorm2
    if rr <= tol2:
        return 0
    true2 = rr                      # squared norm of the last true residual
    rz = preconditioner.apply(r, zv)
    p[...] = zv
    for it in range(1, maxiter + 1):
        pq = stencil.matvec(p, q, shift)
        rr = axpy_dot(x, p, r, q, rz / pq)
        if replace and (rr <= tol2 or rr < REPLACE_FACTOR ** 2 * true2):
            rr = true2 = stencil.residual(x, b, r, shift)
        if rr <= tol2:
            return it
        rz_new = preconditioner.apply(r, zv)        # zv shares q's storage
        xpby(zv, p, rz_new / rz)
        rz = rz_new
    raise ConvergenceError(f"{what} did not converge in {maxiter} iterations "
                           f"(relative residual {np.sqrt(rr / bnorm2):.1e}, target {rtol:.0e})")

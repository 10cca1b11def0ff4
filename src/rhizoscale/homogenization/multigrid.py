"""Matrix-free geometric multigrid for the voxel cell problems (the fast solver path).

The finite-volume operator of :mod:`._kernels` (harmonic-mean face conductances,
periodic / closed / Dirichlet boundaries, pinned anchor voxels) is a 7-point stencil
(5-point in 2D) on the voxel grid. Here it is stored *matrix-free* on the full grid: one
float32 conductance per voxel and axis for the face towards the ``+`` neighbour (the
last voxel's face is the wrap-around face to the first one: its conductance is 0 on a
non-periodic axis), and ``g``, the summed conductance of the voxel's faces to voxels
held at ``chi = 0`` (pinned anchors of the periodic problem; the outer Dirichlet faces,
half a voxel away, of the mirrored problem). Faces touching a voxel that is not an
unknown have conductance 0, so such a voxel's row is 0 and the smoother leaves it at 0.
The diagonal is never stored (it is ``g`` plus the six face conductances), so every
face flux cancels exactly and the operator is exactly symmetric whatever the rounding.

Preconditioner: a V-cycle on a hierarchy of 2x2x2 (2D: 2x2) boxes, periodic wrap-around
kept on every level (a box is an unknown when any of its voxels is). Coarse face
conductances sum the fine faces crossing the box face and are divided by 2 (the
conductance a homogeneous medium has on the coarse grid; the plain Galerkin sum is twice
too stiff per level), ``g`` is summed and halved likewise. Smoother: red–black
Gauss–Seidel parallel over grid rows (red then black before, black then red after the
coarse correction); along a periodic axis of odd length the last row is swept after the
others, so the sweeps are deterministic. The coarsest grid is solved densely. The outer
solver is conjugate gradients in float64, so an approximate coarse operator costs
iterations, never accuracy.

This is the periodic counterpart of :mod:`rhizoscale.diffusion.multigrid` (padded
grids, Dirichlet source voxels, transient shift); see docs/cs4-homogenisation.md for how
the two could share one implementation.

References
----------
Trottenberg, U., Oosterlee, C. W., Schüller, A. (2001). Multigrid. Academic Press.
Braess, D. (1995). Towards algebraic multigrid for elliptic problems of second order.
Computing 55, 379-393.
"""

from __future__ import annotations

import os
import types

# OpenMP worker threads spin after each parallel region by default; between the many
# short threaded sweeps of a V-cycle they then steal the core that the main thread needs
# for the serial coarse levels. On the loaded 2-core machine a 2048^2 tensor took 11-17 s
# with spinning threads and 6 s with passive waiting (same load). libgomp reads this
# when numba first starts its thread pool; an explicit user setting is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402
import numpy as np  # noqa: E402
import scipy.linalg as sla  # noqa: E402

from ..errors import RhizoscaleError
from ._kernels import CLOSED, DIRICHLET, PERIODIC

__all__ = ["CellStencil", "cell_stencil", "StencilMultigrid", "pcg"]

_ = (CLOSED, PERIODIC)


@numba.njit(cache=True, inline="always")
def _harmonic(a, b):
    if a <= 0.0 or b <= 0.0:
        return 0.0
    return 2.0 * a * b / (a + b)


@numba.njit(cache=True, parallel=True)
def _fine_stencil(d, unknown, hs2, bc, active, cx, cy, cz, g):
    """Face conductances and anchor/Dirichlet conductances of the fine operator."""
    n0, n1, n2 = d.shape
    n = d.shape
    for r in numba.prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        for i2 in range(n2):
            if not unknown[i0, i1, i2]:
                continue
            dp = d[i0, i1, i2]
            p = (i0, i1, i2)
            gp = 0.0
            for a in range(3):
                if not active[a]:
                    continue
                for step in (-1, 1):
                    j = p[a] + step
                    if j < 0 or j >= n[a]:
                        if bc[a] == DIRICHLET:
                            gp += 2.0 * dp / hs2[a]
                        if bc[a] != PERIODIC:
                            continue
                        j = j % n[a]
                    if j == p[a]:
                        continue  # periodic axis of length 1: a face to itself
                    if a == 0:
                        q0, q1, q2 = j, i1, i2
                    elif a == 1:
                        q0, q1, q2 = i0, j, i2
                    else:
                        q0, q1, q2 = i0, i1, j
                    c = _harmonic(dp, d[q0, q1, q2]) / hs2[a]
                    if c == 0.0:
                        continue
                    if not unknown[q0, q1, q2]:
                        gp += c  # pinned anchor (chi = 0)
                    elif step == 1:
                        if a == 0:
                            cz[i0, i1, i2] = c
                        elif a == 1:
                            cy[i0, i1, i2] = c
                        else:
                            cx[i0, i1, i2] = c
            g[i0, i1, i2] = gp


@numba.njit(cache=True, parallel=True)
def _right_hand_side(d, unknown, hs, bc, axis, out):
    """``b_p = (g(p+1/2) - g(p-1/2)) / hs_j`` on the full grid (0 off the unknowns).

    Same as :func:`._kernels.right_hand_side` (periodic faces: harmonic mean with the
    wrapped neighbour; Dirichlet faces: the voxel's own D; closed faces: 0).
    """
    n0, n1, n2 = d.shape
    n = d.shape
    for r in numba.prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        for i2 in range(n2):
            if not unknown[i0, i1, i2]:
                out[i0, i1, i2] = 0.0
                continue
            p = (i0, i1, i2)
            dp = d[i0, i1, i2]
            gsum = 0.0
            for step in (-1, 1):
                j = p[axis] + step
                if j < 0 or j >= n[axis]:
                    if bc[axis] == DIRICHLET:
                        gsum += step * dp
                        continue
                    if bc[axis] != PERIODIC:
                        continue
                    j = j % n[axis]
                if axis == 0:
                    gg = _harmonic(dp, d[j, i1, i2])
                elif axis == 1:
                    gg = _harmonic(dp, d[i0, j, i2])
                else:
                    gg = _harmonic(dp, d[i0, i1, j])
                gsum += step * gg
            out[i0, i1, i2] = gsum / hs[axis]


# --------------------------------------------------------------------------- kernels
# Arrays are (n0, n1, n2) without ghost layers; neighbours wrap around (the wrap face
# conductance is 0 where the axis is not periodic). Loops run over the n0*n1 grid rows
# so that 2D images (n0 = 1) are parallel too.
@numba.njit(cache=True, inline="always")
def _wrap_minus(i, n):
    return i - 1 if i > 0 else n - 1


@numba.njit(cache=True, inline="always")
def _wrap_plus(i, n):
    return i + 1 if i + 1 < n else 0


def _matvec_dot_py(x, out, cx, cy, cz, g):
    """out = A x; returns x . out."""
    n0, n1, n2 = x.shape
    acc = 0.0
    for r in numba.prange(n0 * n1):
        z = r // n1
        y = r - z * n1
        zm, zp = _wrap_minus(z, n0), _wrap_plus(z, n0)
        ym, yp = _wrap_minus(y, n1), _wrap_plus(y, n1)
        s = 0.0
        for i in range(n2):
            im, ip = _wrap_minus(i, n2), _wrap_plus(i, n2)
            a, b_ = cx[z, y, im], cx[z, y, i]
            c, d = cy[z, ym, i], cy[z, y, i]
            e, f = cz[zm, y, i], cz[z, y, i]
            xi = x[z, y, i]
            v = ((g[z, y, i] + a + b_ + c + d + e + f) * xi
                 - a * x[z, y, im] - b_ * x[z, y, ip] - c * x[z, ym, i]
                 - d * x[z, yp, i] - e * x[zm, y, i] - f * x[zp, y, i])
            out[z, y, i] = v
            s += v * xi
        acc += s
    return acc


@numba.njit(cache=True, inline="always")
def _gs_update(x, b, cx, cy, cz, inv, z, y, i, im, ip, zm, zp, ym, yp, planar):
    if planar:  # 2D: no z terms (saves a third of the memory traffic)
        x[z, y, i] = (b[z, y, i] + cx[z, y, im] * x[z, y, im] + cx[z, y, i] * x[z, y, ip]
                      + cy[z, ym, i] * x[z, ym, i] + cy[z, y, i] * x[z, yp, i]) * inv[z, y, i]
    else:
        x[z, y, i] = (b[z, y, i] + cx[z, y, im] * x[z, y, im] + cx[z, y, i] * x[z, y, ip]
                      + cy[z, ym, i] * x[z, ym, i] + cy[z, y, i] * x[z, yp, i]
                      + cz[zm, y, i] * x[zm, y, i] + cz[z, y, i] * x[zp, y, i]) * inv[z, y, i]


@numba.njit(cache=True, inline="always")
def _rbgs_row(x, b, cx, cy, cz, inv, color, z, y):
    n0, n1, n2 = x.shape
    zm, zp = _wrap_minus(z, n0), _wrap_plus(z, n0)
    ym, yp = _wrap_minus(y, n1), _wrap_plus(y, n1)
    planar = n0 == 1
    start = (z + y + color) % 2
    # the two end voxels wrap around; the interior loop has no branches
    if start == 0:
        _gs_update(x, b, cx, cy, cz, inv, z, y, 0, n2 - 1, _wrap_plus(0, n2), zm, zp, ym, yp,
                   planar)
        start = 2
    for i in range(start, n2 - 1, 2):
        _gs_update(x, b, cx, cy, cz, inv, z, y, i, i - 1, i + 1, zm, zp, ym, yp, planar)
    last = n2 - 1
    if last >= start and (last - start) % 2 == 0:
        _gs_update(x, b, cx, cy, cz, inv, z, y, last, last - 1, 0, zm, zp, ym, yp, planar)


def _rbgs_py(x, b, cx, cy, cz, inv, color):
    """One colour (parity of z + y + x) of a red–black Gauss–Seidel sweep.

    Along an axis of odd length the first and last rows have the same colour and are
    neighbours through the wrap-around: those last rows are swept after the parallel
    loop, one after another, so no two threads update coupled voxels at once.
    """
    n0, n1, n2 = x.shape
    dz = n0 > 1 and n0 % 2 == 1
    dy = n1 > 1 and n1 % 2 == 1
    for r in numba.prange(n0 * n1):
        z = r // n1
        y = r - z * n1
        if (dz and z == n0 - 1) or (dy and y == n1 - 1):
            continue
        _rbgs_row(x, b, cx, cy, cz, inv, color, z, y)
    if dz or dy:
        for r in range(n0 * n1):
            z = r // n1
            y = r - z * n1
            if (dz and z == n0 - 1) or (dy and y == n1 - 1):
                _rbgs_row(x, b, cx, cy, cz, inv, color, z, y)


def _inverse_diagonal_py(inv, cx, cy, cz, g, w):
    """inv = 1 / (g + sum of face conductances) on unknowns, 0 elsewhere."""
    n0, n1, n2 = inv.shape
    for r in numba.prange(n0 * n1):
        z = r // n1
        y = r - z * n1
        zm = _wrap_minus(z, n0)
        ym = _wrap_minus(y, n1)
        for i in range(n2):
            im = _wrap_minus(i, n2)
            dg = (g[z, y, i] + cx[z, y, im] + cx[z, y, i] + cy[z, ym, i] + cy[z, y, i]
                  + cz[zm, y, i] + cz[z, y, i])
            inv[z, y, i] = 1.0 / dg if (w[z, y, i] != 0 and dg > 0.0) else 0.0


def _residual_restrict_py(x, b, cx, cy, cz, g, rc):
    """rc[box] = sum over the box's voxels of (b - A x) (restriction = P^T)."""
    n0, n1, n2 = x.shape
    N0, N1, N2 = rc.shape
    f0 = 2 if n0 > 1 else 1
    f1 = 2 if n1 > 1 else 1
    f2 = 2 if n2 > 1 else 1
    s2 = 1 if n2 > 1 else 0  # i >> s2 is the coarse index (no integer division)
    for R in numba.prange(N0 * N1):
        Z = R // N1
        Y = R - Z * N1
        for X in range(N2):
            rc[Z, Y, X] = 0.0
        for z in range(Z * f0, min(Z * f0 + f0, n0)):
            zm, zp = _wrap_minus(z, n0), _wrap_plus(z, n0)
            for y in range(Y * f1, min(Y * f1 + f1, n1)):
                ym, yp = _wrap_minus(y, n1), _wrap_plus(y, n1)
                for i in range(n2):
                    im, ip = _wrap_minus(i, n2), _wrap_plus(i, n2)
                    a, b_ = cx[z, y, im], cx[z, y, i]
                    c, d = cy[z, ym, i], cy[z, y, i]
                    e, f = cz[zm, y, i], cz[z, y, i]
                    r = (b[z, y, i] - (g[z, y, i] + a + b_ + c + d + e + f) * x[z, y, i]
                         + a * x[z, y, im] + b_ * x[z, y, ip] + c * x[z, ym, i]
                         + d * x[z, yp, i] + e * x[zm, y, i] + f * x[zp, y, i])
                    rc[Z, Y, i >> s2] += r


def _prolong_add_py(x, xc, w):
    """x += P xc (piecewise constant over the boxes, unknowns only)."""
    n0, n1, n2 = x.shape
    s0 = 1 if n0 > 1 else 0
    s1 = 1 if n1 > 1 else 0
    s2 = 1 if n2 > 1 else 0
    for r in numba.prange(n0 * n1):
        z = r // n1
        y = r - z * n1
        zc = z >> s0
        yc = y >> s1
        for i in range(n2):
            if w[z, y, i] != 0:
                x[z, y, i] += xc[zc, yc, i >> s2]


def _coarsen_py(cx, cy, cz, g, w, cxc, cyc, czc, gc, wc):
    """Coarse operator on 2x2x2 boxes (axes of length 1 are not coarsened).

    The coarse face between boxes ``I`` and ``I + 1`` (wrapping) gathers the fine faces
    on the last plane of box ``I``, divided by 2; ``g`` is summed and halved.
    """
    n0, n1, n2 = w.shape
    N0, N1, N2 = wc.shape
    f0 = 2 if n0 > 1 else 1
    f1 = 2 if n1 > 1 else 1
    f2 = 2 if n2 > 1 else 1
    for R in numba.prange(N0 * N1):
        Z = R // N1
        Y = R - Z * N1
        zl = min(Z * f0 + f0 - 1, n0 - 1)
        yl = min(Y * f1 + f1 - 1, n1 - 1)
        for z in range(Z * f0, min(Z * f0 + f0, n0)):
            for y in range(Y * f1, min(Y * f1 + f1, n1)):
                for i in range(n2):
                    X = i // f2
                    if w[z, y, i] != 0:
                        wc[Z, Y, X] = 1
                    gc[Z, Y, X] += 0.5 * g[z, y, i]
                    if i == min(X * f2 + f2 - 1, n2 - 1):
                        cxc[Z, Y, X] += cx[z, y, i] / f2
                    if y == yl:
                        cyc[Z, Y, X] += cy[z, y, i] / f1
                    if z == zl:
                        czc[Z, Y, X] += cz[z, y, i] / f0


def _dot_py(a, b):
    n0, n1, n2 = a.shape
    acc = 0.0
    for r in numba.prange(n0 * n1):
        z = r // n1
        y = r - z * n1
        s = 0.0
        for i in range(n2):
            s += a[z, y, i] * b[z, y, i]
        acc += s
    return acc


def _axpy_dot_py(x, p, r, q, alpha):
    """x += alpha p; r -= alpha q; returns r . r."""
    n0, n1, n2 = x.shape
    acc = 0.0
    for k in numba.prange(n0 * n1):
        z = k // n1
        y = k - z * n1
        s = 0.0
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
    for k in numba.prange(n0 * n1):
        z = k // n1
        y = k - z * n1
        for i in range(n2):
            p[z, y, i] = z_[z, y, i] + beta * p[z, y, i]


# Threaded for large grids, serial for small ones (coarse levels), where waking the
# threads costs more than the sweep itself.
PARALLEL_MIN_VOXELS = 1 << 20

#: storage of the coarse-level conductances (float32 halves the bytes per sweep; the
#: fine level is float64: it is the operator CG solves, and float32 rounding of it
#: moved the tensor by ~1e-5 on 64^2 images)
COARSE_DTYPE = np.float32


def _dispatch(fn):
    par = numba.njit(cache=True, parallel=True)(fn)
    # a copy under another name: numba's on-disk cache is keyed by the function's name,
    # and the serial and parallel compilations must not share (overwrite) one entry
    serial_fn = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial",
                                   fn.__defaults__, fn.__closure__)
    serial_fn.__qualname__ = fn.__qualname__ + "_serial"
    ser = numba.njit(cache=True)(serial_fn)

    def kernel(*args):
        if args[0].size >= PARALLEL_MIN_VOXELS and numba.get_num_threads() > 1:
            return par(*args)
        return ser(*args)

    kernel.__name__ = fn.__name__[:-3]
    kernel.__doc__ = fn.__doc__
    return kernel


_matvec_dot = _dispatch(_matvec_dot_py)
_rbgs = _dispatch(_rbgs_py)
_inverse_diagonal = _dispatch(_inverse_diagonal_py)
_residual_restrict = _dispatch(_residual_restrict_py)
_prolong_add = _dispatch(_prolong_add_py)
_coarsen = _dispatch(_coarsen_py)
_dot = _dispatch(_dot_py)
_axpy_dot = _dispatch(_axpy_dot_py)
_xpby = _dispatch(_xpby_py)


class CellStencil:
    """Matrix-free operator of one cell problem on the full voxel grid.

    Attributes
    ----------
    cx, cy, cz : float32 arrays (n0, n1, n2)
        Conductance of the face towards the ``+`` neighbour along axis 2, 1, 0 (wrapping).
    g : float32 array
        Summed conductance to pinned voxels and Dirichlet faces.
    w : uint8 array
        1 on unknowns.
    """

    def __init__(self, cx, cy, cz, g, w):
        self.cx, self.cy, self.cz, self.g, self.w = cx, cy, cz, g, w

    @property
    def shape(self):
        return self.w.shape

    def matvec(self, x, out):
        """out = A x; returns x . out."""
        return _matvec_dot(x, out, self.cx, self.cy, self.cz, self.g)


def cell_stencil(d3, unknown3, hs, bc, active, dtype=np.float64) -> CellStencil:
    """Fine-level stencil of the cell problem (same operator as ``cell_problem._assemble``).

    Parameters
    ----------
    d3 : float64 array (n0, n1, n2)
        Voxel diffusivities (scaled).
    unknown3 : bool array
        Voxels that are unknowns (kept clusters without their pinned anchors).
    hs : (3,) float
        Voxel sizes scaled by the smallest active one.
    bc : (3,) int64
        PERIODIC, CLOSED or DIRICHLET per axis.
    active : (3,) bool
        Axes with conduction (axis 0 is inactive for 2D images).
    """
    shape = d3.shape
    cx, cy, cz, g = (np.zeros(shape, dtype) for _ in range(4))
    hs2 = np.asarray(hs, float) ** 2
    bc = np.asarray(bc, np.int64)
    _fine_stencil(d3, unknown3, hs2, bc, np.asarray(active), cx, cy, cz, g)
    return CellStencil(cx, cy, cz, g, unknown3.view(np.uint8))


class _Level:
    def __init__(self, st: CellStencil):
        self.st = st
        self.inv = np.zeros(st.shape, COARSE_DTYPE)
        _inverse_diagonal(self.inv, st.cx, st.cy, st.cz, st.g, st.w)
        self.x = np.zeros(st.shape, COARSE_DTYPE)
        self.b = np.zeros(st.shape, COARSE_DTYPE)


class StencilMultigrid:
    """Symmetric V-cycle preconditioner for a :class:`CellStencil`.

    The cycle runs in float32 on float32 copies of the conductances (the sweeps are
    memory-bound: this halves their bytes); CG keeps the float64 operator.

    Parameters
    ----------
    stencil : CellStencil
    coarsest : int
        Stop coarsening at this many unknowns (or when every axis is <= 2 voxels); the
        coarsest level is solved densely.
    smoothing : int
        Red–black sweeps before and after the coarse correction.
    """

    def __init__(self, stencil: CellStencil, coarsest: int = 500, smoothing: int = 2):
        self.smoothing = int(smoothing)
        st = CellStencil(*(np.asarray(a, COARSE_DTYPE) for a in
                           (stencil.cx, stencil.cy, stencil.cz, stencil.g)), stencil.w)
        self.levels = [_Level(st)]
        n_active = int(np.count_nonzero(stencil.w))
        while n_active > coarsest and max(st.shape) > 2:
            cshape = tuple((s + 1) // 2 for s in st.shape)
            cx, cy, cz, g = (np.zeros(cshape, COARSE_DTYPE) for _ in range(4))
            w = np.zeros(cshape, np.uint8)
            _coarsen(st.cx, st.cy, st.cz, st.g, st.w, cx, cy, cz, g, w)
            st = CellStencil(cx, cy, cz, g, w)
            self.levels.append(_Level(st))
            n_active = int(np.count_nonzero(w))
        self._coarse_idx = np.flatnonzero(self.levels[-1].st.w.ravel())
        if len(self.levels) > 1:
            self._factor_coarsest()

    def _factor_coarsest(self):
        st = self.levels[-1].st
        idx = self._coarse_idx
        x = np.zeros(st.shape)
        y = np.zeros(st.shape)
        A = np.empty((idx.size, idx.size))
        for j in range(idx.size):
            x.ravel()[idx[j]] = 1.0
            st.matvec(x, y)
            A[:, j] = y.ravel()[idx]
            x.ravel()[idx[j]] = 0.0
        try:
            self._chol = sla.cho_factor(A)
            self._pinv = None
        except np.linalg.LinAlgError:  # a coarse cluster without pinning: pseudo-inverse
            self._chol = None
            self._pinv = np.linalg.pinv(A, hermitian=True)

    def apply(self, r, out):
        """``out = B r``: one symmetric V-cycle from zero (r, out float64)."""
        lv = self.levels[0]
        if len(self.levels) == 1:
            lv.x[...] = 0.0
            for color in (0, 1, 1, 0):
                _rbgs(lv.x, r, lv.st.cx, lv.st.cy, lv.st.cz, lv.inv, color)
        else:
            self._cycle(0, r, lv.x)
        out[...] = lv.x

    def _cycle(self, k, b, x):
        lv = self.levels[k]
        st = lv.st
        x[...] = 0.0
        if k == len(self.levels) - 1:
            rhs = b.ravel()[self._coarse_idx]
            sol = sla.cho_solve(self._chol, rhs) if self._chol is not None else self._pinv @ rhs
            x.ravel()[self._coarse_idx] = sol
            return
        for _ in range(self.smoothing):
            _rbgs(x, b, st.cx, st.cy, st.cz, lv.inv, 0)
            _rbgs(x, b, st.cx, st.cy, st.cz, lv.inv, 1)
        nxt = self.levels[k + 1]
        _residual_restrict(x, b, st.cx, st.cy, st.cz, st.g, nxt.b)
        self._cycle(k + 1, nxt.b, nxt.x)
        _prolong_add(x, nxt.x, st.w)
        for _ in range(self.smoothing):
            _rbgs(x, b, st.cx, st.cy, st.cz, lv.inv, 1)
            _rbgs(x, b, st.cx, st.cy, st.cz, lv.inv, 0)


class PCGWorkspace:
    """Float64 work vectors of :func:`pcg` on the full grid (reused between solves)."""

    def __init__(self, shape):
        self.r, self.z, self.p, self.q = (np.zeros(shape) for _ in range(4))


def pcg(st: CellStencil, mg: StencilMultigrid, b, x, rtol, maxiter, ws: PCGWorkspace | None = None):
    """Preconditioned CG on full-grid arrays from ``x = 0``; returns the iterations.

    Stops when ``|b - A x| <= rtol |b|`` (scipy's criterion).
    """
    ws = ws or PCGWorkspace(b.shape)
    r, zv, p, q = ws.r, ws.z, ws.p, ws.q
    x[...] = 0.0
    bnorm2 = _dot(b, b)
    if bnorm2 == 0.0:
        return 0
    if b is not r:  # b may be the workspace's r (saves a vector)
        r[...] = b
    tol2 = rtol * rtol * bnorm2
    mg.apply(r, zv)
    rz = _dot(r, zv)
    p[...] = zv
    for it in range(1, maxiter + 1):
        pq = st.matvec(p, q)
        rr = _axpy_dot(x, p, r, q, rz / pq)
        if rr <= tol2:
            return it
        mg.apply(r, zv)
        rz_new = _dot(r, zv)
        _xpby(zv, p, rz_new / rz)
        rz = rz_new
    raise RhizoscaleError(f"cell problem did not converge in {maxiter} iterations "
                          f"(relative residual {np.sqrt(rr / bnorm2):.1e}, target {rtol:.0e})")

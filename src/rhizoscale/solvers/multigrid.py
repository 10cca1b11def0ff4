"""Geometric multigrid cycle (V or W) for a :class:`~rhizoscale.solvers.stencil.Stencil`.

Hierarchy: 2x2x2 boxes (axes of length 1 are not coarsened; an odd axis ends with a
box of one voxel); a box is an unknown of the coarse grid when any of its voxels is.
Coarse face conductances sum the fine faces crossing the box face and are divided by 2,
the conductance a homogeneous medium has on the coarse grid (the plain Galerkin sum of
piecewise-constant aggregation is twice too stiff per level and loses h-independence,
Braess 1995); ``g`` is summed and halved likewise, the weights ``w`` are summed (the
shift term ``s w`` is then the Galerkin one). Periodic wrap-around faces are kept on
every level.

Smoother: red–black Gauss–Seidel (colour = parity of z + y + x), red then black before
and black then red after the coarse correction, each sweep in the reverse voxel order
of its counterpart, so the cycle is a symmetric positive-definite preconditioner. Along
an odd periodic axis the first and last voxels have the same colour and are coupled:
they are updated one after the other in that order (reversed after the correction).
Both colours are done in one pass over the grid: the second colour of plane ``z - 1``
right after the first colour of plane ``z``, while its data are in cache. The coarsest
grid (at most ``coarsest`` unknowns) is solved exactly (dense Cholesky; a
pseudo-inverse where a coarse cluster is singular). Used as the preconditioner of
conjugate gradients (:mod:`.krylov`), an imperfect coarse operator costs iterations,
never accuracy; the W-cycle (``cycles=2``, each coarse level visited twice) makes up
for most of it on binary media (case study 4: 6-10 instead of 22-32 iterations). The
cycle may run in float32 (``fine_vector_dtype``, ``coarse_dtype``) while CG stays
float64. On integer (uint8) fine conductances the first coarse level is stored exactly in
uint8 too, as twice its operator (see :class:`Multigrid`).

References
----------
Braess, D. (1995). Towards algebraic multigrid for elliptic problems of second order.
Computing 55, 379-393.
Trottenberg, U., Oosterlee, C. W., Schüller, A. (2001). Multigrid. Academic Press
(red–black Gauss–Seidel, cell-centred coarsening).
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.linalg as sla

from ._numba import JIT, level_threads, threaded_kernel, use_threads
from .krylov import dot
from .stencil import Stencil, apply_row, inverse_diagonal, wrap_minus, wrap_plus

__all__ = ["Multigrid"]


# --------------------------------------------------------------------------- smoothing
@numba.njit(inline="always", **JIT)
def _gs_at(x, b, cx, cy, cz, inv, z, zm, zp, y, ym, yp, i, im, ip, flat):
    s = (b[z, y, i] + cx[z, y, im] * x[z, y, im] + cx[z, y, i] * x[z, y, ip]
         + cz[zm, y, i] * x[zm, y, i] + cz[z, y, i] * x[zp, y, i])
    if not flat:
        s += cy[z, ym, i] * x[z, ym, i] + cy[z, y, i] * x[z, yp, i]
    return s * inv[z, y, i]


@numba.njit(inline="always", **JIT)
def _gs_row(x, b, cx, cy, cz, inv, z, zm, zp, y, ym, yp, color, reverse, tmp):
    """Gauss–Seidel update of the voxels of ``color`` in row (z, y).

    The interior is computed at every voxel into ``tmp`` (contiguous, so it vectorises;
    voxels of the other colour are only read) and the voxels of ``color`` are copied back:
    twice the arithmetic of a stride-2 loop but several times faster. The last voxel is
    updated after the others (before them when ``reverse``): along an odd periodic axis
    it is coupled to the first voxel, of the same colour.
    """
    n2 = x.shape[2]
    flat = x.shape[1] == 1
    start = (z + y + color) % 2
    last = n2 - 1
    last_is_colour = (last - start) % 2 == 0
    if reverse and last_is_colour and n2 > 1:
        x[z, y, last] = _gs_at(x, b, cx, cy, cz, inv, z, zm, zp, y, ym, yp, last, last - 1, 0,
                               flat)
    if flat:
        for i in range(1, n2 - 1):
            tmp[i] = (b[z, y, i] + cx[z, y, i - 1] * x[z, y, i - 1] + cx[z, y, i] * x[z, y, i + 1]
                      + cz[zm, y, i] * x[zm, y, i] + cz[z, y, i] * x[zp, y, i]) * inv[z, y, i]
    else:
        for i in range(1, n2 - 1):
            tmp[i] = (b[z, y, i] + cx[z, y, i - 1] * x[z, y, i - 1] + cx[z, y, i] * x[z, y, i + 1]
                      + cy[z, ym, i] * x[z, ym, i] + cy[z, y, i] * x[z, yp, i]
                      + cz[zm, y, i] * x[zm, y, i] + cz[z, y, i] * x[zp, y, i]) * inv[z, y, i]
    if start == 0:
        tmp[0] = _gs_at(x, b, cx, cy, cz, inv, z, zm, zp, y, ym, yp, 0, last, wrap_plus(0, n2),
                        flat)
    end = n2 - 1 if n2 > 1 else 1
    for i in range(start, end, 2):
        x[z, y, i] = tmp[i]
    if not reverse and last_is_colour and n2 > 1:
        x[z, y, last] = _gs_at(x, b, cx, cy, cz, inv, z, zm, zp, y, ym, yp, last, last - 1, 0,
                               flat)


@numba.njit(inline="always", **JIT)
def _gs_plane(x, b, cx, cy, cz, inv, z, color, reverse, tmp):
    """One colour of plane z, rows in ascending order (descending when ``reverse``)."""
    n0, n1 = x.shape[0], x.shape[1]
    zm, zp = wrap_minus(z, n0), wrap_plus(z, n0)
    for k in range(n1):
        y = n1 - 1 - k if reverse else k
        _gs_row(x, b, cx, cy, cz, inv, z, zm, zp, y, wrap_minus(y, n1), wrap_plus(y, n1),
                color, reverse, tmp)


@numba.njit(inline="always", **JIT)
def _first_from_zero(x, b, inv, z, color):
    """Colour ``color`` of plane z when x = 0 everywhere: x = b / diag."""
    n1, n2 = x.shape[1], x.shape[2]
    for y in range(n1):
        for i in range((z + y + color) % 2, n2, 2):
            x[z, y, i] = b[z, y, i] * inv[z, y, i]


@numba.njit(**JIT)
def _plane_dot(x, b, z):
    acc = 0.0
    for y in range(x.shape[1]):
        for i in range(x.shape[2]):
            acc += b[z, y, i] * x[z, y, i]
    return acc


def _rb_sweep_py(x, b, cx, cy, cz, inv, first, reverse, block, from_zero, with_dot):
    """A full red–black sweep: colour ``first``, then the other colour, in one pass.

    The same arithmetic as two :func:`_rbgs` calls (a voxel of the second colour reads
    only first-colour neighbours, final by the time it is visited), but the second
    colour of plane ``z - 1`` is done right after the first colour of plane ``z``.
    Planes are taken in blocks of ``block``; the second colour of a block's first and
    last plane needs the neighbouring blocks and is done in a second parallel loop.
    Not for grids whose axis 0 is odd and periodic (planes 0 and n0-1 of one colour
    are coupled there; see :func:`_rbgs`).
    ``from_zero``: start from x = 0 whatever x holds (the first colour then reads no
    neighbour; only where no two voxels of one colour are coupled).
    ``with_dot``: also return ``b . x`` of the result (summed per plane right after its
    last update), else 0.
    """
    n0 = x.shape[0]
    n2 = x.shape[2]
    acc = 0.0
    second = 1 - first
    nb = (n0 + block - 1) // block
    for k in numba.prange(nb):
        tmp = np.empty(n2, x.dtype)
        z0 = k * block
        z1 = min(z0 + block, n0)
        for z in range(z0, z1):
            if from_zero:
                _first_from_zero(x, b, inv, z, first)
            else:
                _gs_plane(x, b, cx, cy, cz, inv, z, first, reverse, tmp)
            if z - 1 > z0:
                _gs_plane(x, b, cx, cy, cz, inv, z - 1, second, reverse, tmp)
                if with_dot:
                    acc += _plane_dot(x, b, z - 1)
    for k in numba.prange(nb):
        tmp = np.empty(n2, x.dtype)
        z0 = k * block
        z1 = min(z0 + block, n0)
        _gs_plane(x, b, cx, cy, cz, inv, z0, second, reverse, tmp)
        if with_dot:
            acc += _plane_dot(x, b, z0)
        if z1 - 1 > z0:
            _gs_plane(x, b, cx, cy, cz, inv, z1 - 1, second, reverse, tmp)
            if with_dot:
                acc += _plane_dot(x, b, z1 - 1)
    return acc


def _rbgs_py(x, b, cx, cy, cz, inv, color, reverse):
    """One colour of a red–black Gauss–Seidel sweep, planes in parallel.

    Along an odd periodic axis 0 the first and last planes have the same colour and are
    coupled: the last plane is swept after the others (before them when ``reverse``).
    """
    n0 = x.shape[0]
    n2 = x.shape[2]
    tmp = np.empty(n2, x.dtype)
    if reverse and n0 > 1:
        _gs_plane(x, b, cx, cy, cz, inv, n0 - 1, color, reverse, tmp)
    for z in numba.prange(n0 - 1):
        t = np.empty(n2, x.dtype)
        _gs_plane(x, b, cx, cy, cz, inv, z, color, reverse, t)
    if not reverse or n0 == 1:
        _gs_plane(x, b, cx, cy, cz, inv, n0 - 1, color, reverse, tmp)


# --------------------------------------------------------------------------- transfer
def _residual_restrict_py(x, b, cx, cy, cz, g, w, shift, rc, red_only, scale):
    """rc[box] = scale times the sum over the box's voxels of (b - A x) (restriction =
    P^T; ``scale``: the factor by which the coarse levels' operators are stored, see
    :class:`Multigrid`).

    ``red_only``: right after a red-then-black sweep the residual of every black voxel
    is exactly 0 (where no two voxels of one colour are coupled), so only red voxels
    are summed.
    """
    n0, n1, n2 = x.shape
    N0, N1, N2 = rc.shape
    f0 = 2 if n0 > 1 else 1
    s1 = 1 if n1 > 1 else 0
    for Z in numba.prange(N0):
        tmp = np.empty(n2, x.dtype)
        for Y in range(N1):
            for X in range(N2):
                rc[Z, Y, X] = 0.0
        for z in range(Z * f0, min(Z * f0 + f0, n0)):
            zm, zp = wrap_minus(z, n0), wrap_plus(z, n0)
            for y in range(n1):
                apply_row(x, cx, cy, cz, g, w, shift, z, zm, zp, y, wrap_minus(y, n1),
                          wrap_plus(y, n1), tmp)
                _restrict_row(rc[Z, y >> s1], b[z, y], tmp, (z + y) % 2 if red_only else -1)
        if scale != 1.0:
            for Y in range(N1):
                for X in range(N2):
                    rc[Z, Y, X] *= scale


@numba.njit(inline="always", **JIT)
def _restrict_row(rc_row, b_row, ax_row, colour):
    """rc_row[X] += sum over the voxels i of box X (i >> 1 == X along a coarsened axis)
    of b_row[i] - ax_row[i]; only voxels with i % 2 == colour unless colour is -1.

    Written box by box (a pair of voxels each) rather than voxel by voxel with the box
    index ``i >> 1``: several times faster (the loop then vectorises)."""
    n2 = b_row.size
    if n2 == 1:                       # axis 2 not coarsened
        if colour != 1:
            rc_row[0] += b_row[0] - ax_row[0]
        return
    half = n2 // 2
    if colour == -1:
        for X in range(half):
            rc_row[X] += (b_row[2 * X] - ax_row[2 * X]) + (b_row[2 * X + 1] - ax_row[2 * X + 1])
    else:
        for X in range(half):
            rc_row[X] += b_row[2 * X + colour] - ax_row[2 * X + colour]
    if n2 % 2 and colour != 1:        # odd axis: the last box holds one voxel (i = n2 - 1)
        rc_row[half] += b_row[n2 - 1] - ax_row[n2 - 1]


def _prolong_add_py(x, xc, w):
    """x += P xc (piecewise constant over the boxes, unknowns only)."""
    n0, n1, n2 = x.shape
    s0 = 1 if n0 > 1 else 0
    s1 = 1 if n1 > 1 else 0
    for z in numba.prange(n0):
        zc = z >> s0
        for y in range(n1):
            _prolong_row(x[z, y], xc[zc, y >> s1], w[z, y])


@numba.njit(inline="always", **JIT)
def _prolong_row(x_row, xc_row, w_row):
    """x_row[i] += xc_row[i >> 1] on unknowns (xc_row[0] when the axis is not coarsened),
    box by box (a pair of voxels each: vectorises, unlike the index ``i >> 1``)."""
    n2 = x_row.size
    if n2 == 1:
        x_row[0] += xc_row[0] * (w_row[0] != 0)
        return
    for X in range(n2 // 2):
        v = xc_row[X]
        x_row[2 * X] += v * (w_row[2 * X] != 0)
        x_row[2 * X + 1] += v * (w_row[2 * X + 1] != 0)
    if n2 % 2:
        x_row[n2 - 1] += xc_row[n2 // 2] * (w_row[n2 - 1] != 0)


def _coarsen_py(cx, cy, cz, g, w, cxc, cyc, czc, gc, wc):
    """Coarse operator on 2x2x2 boxes (zeroed coarse arrays in, filled out).

    The coarse face between boxes ``I`` and ``I + 1`` (wrapping) gathers the fine faces
    on the last plane of box ``I``, divided by 2; ``g`` is summed and halved, ``w``
    summed.
    """
    n0, n1, n2 = w.shape
    N0 = wc.shape[0]
    f0 = 2 if n0 > 1 else 1
    f1 = 2 if n1 > 1 else 1
    f2 = 2 if n2 > 1 else 1
    for Z in numba.prange(N0):
        zl = min(Z * f0 + f0 - 1, n0 - 1)
        for z in range(Z * f0, min(Z * f0 + f0, n0)):
            for y in range(n1):
                Y = y // f1
                yl = min(Y * f1 + f1 - 1, n1 - 1)
                for i in range(n2):
                    X = i // f2
                    wc[Z, Y, X] += w[z, y, i]
                    gc[Z, Y, X] += 0.5 * g[z, y, i]
                    if i == min(X * f2 + f2 - 1, n2 - 1):
                        cxc[Z, Y, X] += cx[z, y, i] / f2
                    if y == yl:
                        cyc[Z, Y, X] += cy[z, y, i] / f1
                    if z == zl:
                        czc[Z, Y, X] += cz[z, y, i] / f0


def _convert_py(src, dst):
    """dst = src (another precision)."""
    n0, n1, n2 = src.shape
    for z in numba.prange(n0):
        for y in range(n1):
            for i in range(n2):
                dst[z, y, i] = src[z, y, i]


def _convert_dot_py(src, dst, r):
    """dst = src (another precision); returns r . dst."""
    n0, n1, n2 = src.shape
    acc = 0.0
    for z in numba.prange(n0):
        s = 0.0
        for y in range(n1):
            for i in range(n2):
                v = np.float64(src[z, y, i])
                dst[z, y, i] = v
                s += r[z, y, i] * v
        acc += s
    return acc


@numba.njit(**JIT)
def _coarse_solve(inv, idx, b, x):
    """x = 0 except x[idx] = inv @ b[idx] (flat views; serial: a few hundred unknowns)."""
    n = idx.size
    rhs = np.empty(n)
    for k in range(n):
        rhs[k] = b[idx[k]]
    x[:] = 0.0
    for k in range(n):
        acc = 0.0
        for m in range(n):
            acc += inv[k, m] * rhs[m]
        x[idx[k]] = acc


_convert = threaded_kernel(_convert_py, single_build=True)
_convert_dot = threaded_kernel(_convert_dot_py, single_build=True)
_rb_sweep = threaded_kernel(_rb_sweep_py, single_build=True)
_rbgs = threaded_kernel(_rbgs_py, single_build=True)
_residual_restrict = threaded_kernel(_residual_restrict_py, single_build=True)
_prolong_add = threaded_kernel(_prolong_add_py, single_build=True)
_coarsen = threaded_kernel(_coarsen_py, single_build=True)


def coarsen(st: Stencil, dtype=None) -> Stencil:
    """The coarse-grid stencil of ``st`` (see the module docstring)."""
    if dtype is None:      # coarse conductances are sums over halves: never integers
        dtype = st.dtype if st.dtype.kind == "f" else np.float32
    cshape = tuple((s + 1) // 2 for s in st.shape)
    # w counts the fine unknowns of a box (8^level: float, not uint8)
    cx, cy, cz, g, w = (np.zeros(cshape, dtype) for _ in range(5))
    _coarsen(st.cx, st.cy, st.cz, st.g, st.w, cx, cy, cz, g, w)
    return Stencil(cx, cy, cz, g, w, st.periodic, rows_as_planes=False)


#: factor by which the coarse levels of a multigrid on integer (uint8) fine conductances
#: hold their operators: the first coarse level's conductances are then integers too
#: (sums of halves: half-integers times 2) and stored exactly in uint8
COARSE_SCALE = 2.0


def integer_level(st: Stencil, scale: float = COARSE_SCALE) -> Stencil | None:
    """``scale`` times the operator ``st`` stored exactly in uint8, or None where a
    conductance, ``g`` or weight times ``scale`` (the weights are not scaled: the shift
    is) is not an integer in 0..255.

    A coarse level of integer fine conductances holds half-integers (a box face sums
    fine faces and halves them): doubled, they are small integers, held in a quarter of
    float32's bytes; multiplying an operator and its right-hand side by a power of two
    changes no rounding, so the cycle computes the same numbers.
    """
    out = []
    for a, k in ((st.cx, scale), (st.cy, scale), (st.cz, scale), (st.g, scale), (st.w, 1.0)):
        v = a * np.float32(k) if k != 1.0 else a
        if not (np.all(v >= 0) and np.all(v <= 255) and np.all(v == np.floor(v))):
            return None
        out.append(v.astype(np.uint8))
    return Stencil(*out, st.periodic, rows_as_planes=False)


def _sweep_block(n0: int, n_voxels: int) -> int:
    """Planes per block of :func:`_rb_sweep`: all when run serially, else an equal share
    of about 2 blocks per thread of the level (about 8 when axis 0 is long enough), so
    that no thread gets one block more than the others."""
    if not use_threads(n_voxels):
        return n0
    threads = level_threads(n_voxels)
    per_thread = max(1, min(8, n0 // (4 * threads)))
    return max(2, -(-n0 // (threads * per_thread)))


class _Level:
    def __init__(self, st: Stencil, vector_dtype, scale: float = 1.0):
        self.st = st
        # the level holds scale times its operator (its vectors: scale times the residual)
        self.scale = scale
        # integer conductances (exact small integers, see Stencil): float32 inverse
        self.inv = np.zeros(st.shape, st.dtype if st.dtype.kind == "f" else np.float32)
        # None: the caller's vectors are used (the fine level without a copy)
        self.x = None if vector_dtype is None else np.zeros(st.shape, vector_dtype)
        self.b = None if vector_dtype is None else np.zeros(st.shape, vector_dtype)
        self.block = _sweep_block(st.shape[0], st.w.size)
        # the one-pass sweep, the from-zero first colour and the red-only restriction
        # need colours that do not couple with themselves
        self.exact_colours = not st.coupled_colours
        self.pipelined = not (st.periodic[0] and st.shape[0] > 1 and st.shape[0] % 2 == 1)

    def sweep(self, x, b, first, reverse, from_zero, with_dot):
        st = self.st
        if from_zero and not self.exact_colours:
            x[...] = 0.0
            from_zero = False
        # the order within a colour matters only where a colour couples with itself
        # (and a descending sweep is ~20 % slower)
        reverse = reverse and not self.exact_colours
        if self.pipelined:
            return _rb_sweep(x, b, st.cx, st.cy, st.cz, self.inv, first, reverse, self.block,
                             from_zero, with_dot)
        _rbgs(x, b, st.cx, st.cy, st.cz, self.inv, first, reverse)
        _rbgs(x, b, st.cx, st.cy, st.cz, self.inv, 1 - first, reverse)
        return dot(b, x) if with_dot else 0.0


class Multigrid:
    """Symmetric V-cycle preconditioner for ``A = s W + G + K`` (a :class:`Stencil`).

    Parameters
    ----------
    stencil : Stencil
        The fine-level operator.
    coarsest : int
        Stop coarsening when a level has at most this many unknowns (or every axis is at
        most 2 voxels); that level is solved densely.
    smoothing : int
        Red–black sweeps before and after the coarse correction (2: fewest CG
        iterations for the time on the case-study images; 1 needs ~65 % more
        iterations, 3 saves ~20 %).
    fine_dtype : dtype, optional
        Storage of the fine-level conductances used by the smoother (a copy is made when
        it differs from the stencil's; float32 halves the bytes per sweep). Default:
        the stencil's own arrays (integer ones too: their inverse diagonal is float32).
    coarse_dtype : dtype
        Storage of the coarse-level conductances and vectors. Where the fine
        conductances are integers (uint8), the first coarse level's are half-integers:
        that level and all below hold twice their operator (the residual restricted to
        them is doubled; powers of two change no rounding), and the first is stored
        exactly in uint8 (:func:`integer_level`): a quarter of the bytes per sweep,
        and the fine level's kernel builds.
    fine_vector_dtype : dtype, optional
        Precision of the fine-level vectors of the cycle: None (default) works on the
        caller's float64 residual and output vectors; float32 converts the residual to
        float32 on entry and the result back on exit, and runs every sweep in float32
        (half the bytes and twice the SIMD width; CG stays float64, and the rounding of
        the preconditioner, ~1e-7 relative, costs at most an iteration or two).
    cycles : {1, 2}
        Coarse-grid passes per level: 1, V-cycle; 2, W-cycle (each coarse level
        corrects its own first pass once more; still symmetric).
    shift : float
        Initial ``s`` (see :meth:`set_shift`).

    Raises
    ------
    ValueError
        ``smoothing < 1`` or ``cycles`` not 1 or 2.

    References
    ----------
    Trottenberg, U., Oosterlee, C. W., & Schüller, A. (2001). Multigrid. Academic Press
    (red–black Gauss–Seidel, box coarsening, W-cycles).

    Examples
    --------
    See the runnable example of :func:`rhizoscale.solvers.pcg` (a closed 16^3 box,
    multigrid-preconditioned CG checked against a direct solve).
    """

    def __init__(self, stencil: Stencil, *, coarsest: int = 100, smoothing: int = 2,
                 fine_dtype=None, coarse_dtype=np.float64, fine_vector_dtype=None,
                 cycles: int = 1, shift: float = 0.0):
        if smoothing < 1:
            raise ValueError("smoothing must be at least 1 (the cycle starts from x = 0 "
                             "by its first sweep)")
        self.smoothing = int(smoothing)
        if cycles not in (1, 2):
            raise ValueError("cycles must be 1 (V-cycle) or 2 (W-cycle)")
        self.cycles = int(cycles)
        st = stencil if fine_dtype is None else stencil.astype(fine_dtype)
        # fine_vector_dtype None: the caller's residual and output vectors
        self.levels = [_Level(st, fine_vector_dtype)]
        n_active = int(np.count_nonzero(st.w))
        scale = 1.0
        while n_active > coarsest and max(st.shape) > 2:
            st = coarsen(st, coarse_dtype)
            if len(self.levels) == 1 and self.levels[0].st.dtype.kind in "ui":
                # integer fine conductances: the first coarse level is exact in uint8 once
                # doubled (and the same kernels as the fine level's run on it)
                exact = integer_level(st)
                if exact is not None:
                    st, scale = exact, COARSE_SCALE
            self.levels.append(_Level(st, coarse_dtype, scale))
            n_active = int(np.count_nonzero(st.w))
        self._coarse_idx = self.levels[-1].st.unknowns()
        self.shift = None
        self.set_shift(shift)

    def set_shift(self, shift: float) -> None:
        """Set ``s`` of ``A = s W + G + K`` (e.g. ``a0 V / dt`` of an implicit step)."""
        shift = float(shift)
        if shift == self.shift:
            return
        self.shift = shift
        for lv in self.levels:
            st = lv.st
            inverse_diagonal(lv.inv, st.cx, st.cy, st.cz, st.g, st.w, shift * lv.scale)
        if len(self.levels) > 1:
            # The coarsest level is solved by its explicit (pseudo-)inverse, applied by a
            # serial Numba product: a LAPACK solve there (visited 2^(levels-1) times per
            # W-cycle) woke the BLAS thread pool, whose spinning threads then competed
            # with the solver's own threads (16 threads ran 3x slower than 2)
            # (of the level's operator itself: divided by its scale, exactly)
            scale = self.levels[-1].scale
            A = self.levels[-1].st.to_csr(shift * scale).toarray() / scale
            try:
                chol = sla.cho_factor(A)
                self._coarse_inv = sla.cho_solve(chol, np.eye(A.shape[0]))
            except np.linalg.LinAlgError:  # a coarse cluster without pinning
                self._coarse_inv = np.linalg.pinv(A, hermitian=True)
            # applied to the level's vectors (scale times the residual)
            self._coarse_inv = np.ascontiguousarray(self._coarse_inv / scale)

    def apply(self, r: np.ndarray, out: np.ndarray) -> float:
        """``out = B r``: one symmetric V-cycle from zero; returns ``r . out``.

        ``r`` and ``out`` are vectors of the stencil's shape (float64, or float32 when
        the fine level works on the caller's vectors: ``fine_vector_dtype=None``).
        """
        lv = self.levels[0]
        x, b = out, r
        if lv.x is not None:
            x, b = lv.x, lv.b
            _convert(r, b)
        if len(self.levels) == 1:     # tiny problem: symmetric Gauss–Seidel only
            lv.sweep(x, b, 0, False, True, False)
            rz = lv.sweep(x, b, 1, True, False, True)
        else:
            rz = self._cycle(0, b, x)
        if x is not out:
            rz = _convert_dot(x, out, r)
        return rz

    def _cycle(self, k, b, x, from_zero=True):
        lv = self.levels[k]
        st = lv.st
        if k == len(self.levels) - 1:
            _coarse_solve(self._coarse_inv, self._coarse_idx, b.ravel(), x.ravel())
            return 0.0
        for it in range(self.smoothing):        # red then black: must end on black
            lv.sweep(x, b, 0, False, it == 0 and from_zero, False)
        nxt = self.levels[k + 1]
        _residual_restrict(x, b, st.cx, st.cy, st.cz, st.g, st.w, self.shift * lv.scale,
                           nxt.b, lv.exact_colours, nxt.scale / lv.scale)
        self._cycle(k + 1, nxt.b, nxt.x)
        if self.cycles == 2 and k + 2 < len(self.levels):   # W-cycle: a second coarse pass
            self._cycle(k + 1, nxt.b, nxt.x, from_zero=False)
        _prolong_add(x, nxt.x, st.w)
        bx = 0.0
        for it in range(self.smoothing):        # black then red, in reverse order
            bx = lv.sweep(x, b, 1, True, False, k == 0 and it == self.smoothing - 1)
        return bx

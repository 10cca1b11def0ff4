"""The cell-centred finite-volume diffusion operator on voxels, written once.

Case studies 2 (3D soil), 3 (exudate diffusion on an image) and 4 (cell problems of
homogenisation) discretise ``div(D grad c)`` the same way: every voxel is a control
volume, and voxels ``p`` and ``q`` that share a face normal to array axis ``a`` exchange
with the conductance

    c_pq = f_a * 2 D_p D_q / (D_p + D_q),

the harmonic mean of the two half-voxel conductances in series (exact for layered
media, zero when either voxel does not conduct), with ``f_a`` the face area over the
centre distance along ``a`` (``face_factor``; anisotropic voxels are exact for this
two-point flux, and a caller may fold any per-axis scaling into it: case study 4 works
per unit volume, ``f_a = 1 / h_a^2``; case study 2 folds a diagonal diffusion tensor in).

What is solved for is given by masks on the grid:

* ``unknown`` voxels are the control volumes (rows of the operator);
* a face between two unknowns is an off-diagonal coupling;
* a face to a ``source`` voxel (held at a fixed value on its faces: root and hairs in
  case study 3) is a Dirichlet face at half a voxel, conductance ``2 f_a D_p``;
* a face to any other voxel holds that voxel at a fixed value at its centre
  (conductance ``c_pq``: pinned anchors of case study 4); it is 0 when the voxel does
  not conduct (``D_q = 0``), so non-conducting voxels are simply no-flux walls;
* per axis the outer boundary is ``CLOSED`` (no flux), ``PERIODIC`` (the ``+``
  neighbour of the last voxel is the first) or ``DIRICHLET`` (a fixed value on the
  outer face, half a voxel away: ``2 f_a D_p``). A periodic axis of length 1 has no
  faces (a face to itself carries nothing).

The faces to fixed values are summed into ``g`` (the extra diagonal; the caller puts
``g`` times the fixed value into its right-hand side). The operator is

    (A x)_p = g_p x_p + sum over faces to unknowns q:  c_pq (x_p - x_q).

Two representations: the face conductances on the full grid, one per voxel and axis
for the face towards the ``+`` neighbour (:class:`~rhizoscale.solvers.Stencil`'s
storage, the matrix-free multigrid paths), and a CSR matrix on the unknowns in C order
(the pyamg reference paths, sparse direct solves, the 3D soil of case study 2).

Every function here has a readable NumPy version, the specification, and a Numba
kernel tested against it bit for bit (``tests/test_voxel_operator.py``):
:func:`face_conductances_reference` / :func:`face_conductances` and
:func:`csr_from_faces` (CSR from face conductances) / :func:`assemble_csr` (the CSR
rows straight from the diffusivities, without full-grid conductance arrays). Sums are
taken in one fixed order so that both agree exactly: ``g`` over the faces ``+x, -x,
+y, -y, +z, -z``; the diagonal is ``g`` plus the faces to unknowns in that order; a
face's conductance is evaluated from its ``-`` side voxel to its ``+`` side voxel (the
last voxel and the first one for a periodic wrap-around face), so the matrix is exactly
symmetric.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import scipy.sparse as sp

from ._numba import threaded_kernel

__all__ = ["PERIODIC", "CLOSED", "DIRICHLET", "boundary_codes", "face_conductances",
           "unit_conductances",
           "face_conductances_reference", "csr_from_faces", "assemble_csr", "CSROperator"]

#: outer boundary of an axis: wrap around, no flux, fixed value on the outer face
PERIODIC, CLOSED, DIRICHLET = 0, 1, 2
_BOUNDARY_NAMES = {"periodic": PERIODIC, "closed": CLOSED, "dirichlet": DIRICHLET}

# kinds of a voxel face (kernels)
_NO_FACE, _TO_UNKNOWN, _TO_FIXED = 0, 1, 2

# Kernels whose results must equal the specification exactly: no fast-math
# (reassociation, reciprocal approximation, contraction into fused multiply-adds).
_EXACT = dict(fastmath=False)


def boundary_codes(boundary) -> np.ndarray:
    """Per-axis boundary codes ``(3,) int64`` from one value or three (codes or names).

    Parameters
    ----------
    boundary : int, str or sequence of 3
        ``PERIODIC``, ``CLOSED``, ``DIRICHLET`` or ``"periodic"``, ``"closed"``,
        ``"dirichlet"``, for every array axis or per axis (z, y, x).

    Returns
    -------
    numpy.ndarray
        Three int64 codes.

    Raises
    ------
    ValueError
        Not three values, or an unknown boundary.

    Examples
    --------
    >>> boundary_codes("periodic"), boundary_codes(["closed", "periodic", DIRICHLET])
    (array([0, 0, 0]), array([1, 0, 2]))
    """
    values = [boundary] * 3 if isinstance(boundary, (int, np.integer, str)) else list(boundary)
    if len(values) != 3:
        raise ValueError(f"one boundary per array axis (3), got {boundary!r}")
    codes = [_BOUNDARY_NAMES[v] if isinstance(v, str) else int(v) for v in values]
    if any(c not in (PERIODIC, CLOSED, DIRICHLET) for c in codes):
        raise ValueError(f"unknown boundary in {boundary!r}; use periodic, closed or dirichlet")
    return np.array(codes, dtype=np.int64)


def _check(diffusivity, face_factor, unknown, source, boundary):
    d = np.ascontiguousarray(diffusivity, dtype=np.float64)
    if d.ndim != 3:
        raise ValueError(f"the voxel operator works on 3D arrays (2D as (1, n1, n2)), got {d.ndim}D")
    unknown = np.asarray(unknown, dtype=bool)
    if unknown.shape != d.shape:
        raise ValueError(f"unknown mask {unknown.shape} and diffusivity {d.shape} differ in shape")
    if source is None:
        source = np.broadcast_to(np.False_, d.shape)      # no memory
    else:
        source = np.asarray(source, dtype=bool)
        if source.shape != d.shape:
            raise ValueError(f"source mask {source.shape} and diffusivity {d.shape} differ in shape")
    factor = np.broadcast_to(np.asarray(face_factor, dtype=np.float64), (3,)).copy()
    return d, factor, unknown, source, boundary_codes(boundary)


# --------------------------------------------------------------------------- specification
def _harmonic_faces(factor, lo, hi):
    """``factor * 2 lo hi / (lo + hi)``, 0 where either side does not conduct (arrays)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        c = factor * 2.0 * lo * hi / (lo + hi)
    return np.where((lo > 0) & (hi > 0), c, 0.0)


def face_conductances_reference(diffusivity, face_factor, unknown, source=None,
                                boundary=CLOSED, dtype=np.float64):
    """Face conductances and fixed-value conductance ``g`` on the full grid (NumPy).

    The readable specification of :func:`face_conductances` (same parameters and
    result), written with whole-array shifts along each axis and side.

    Parameters
    ----------
    diffusivity, face_factor, unknown, source, boundary, dtype
        As in :func:`face_conductances`.

    Returns
    -------
    cx, cy, cz, g : arrays of ``dtype``
        As in :func:`face_conductances`.

    References
    ----------
    Patankar, S. V. (1980). Numerical Heat Transfer and Fluid Flow. Hemisphere (§4.2,
    harmonic-mean interface conductivity).

    Examples
    --------
    Bit for bit the result of the Numba kernel:

    >>> import numpy as np
    >>> d = np.array([[[1.0, 4.0, 4.0, 0.0]]])              # D per voxel, (z, y, x)
    >>> source = np.array([[[False, False, False, True]]])  # the last voxel is a source
    >>> reference = face_conductances_reference(d, 1.0, d > 0, source)
    >>> kernel = face_conductances(d, 1.0, d > 0, source)
    >>> all(np.array_equal(a, b) for a, b in zip(reference, kernel))
    True
    """
    d, factor, unknown, source, bc = _check(diffusivity, face_factor, unknown, source, boundary)
    faces = [np.zeros(d.shape) for _ in range(3)]          # axis 0, 1, 2
    g = np.zeros(d.shape)
    for a in (2, 1, 0):
        n = d.shape[a]
        position = np.arange(n).reshape([-1 if k == a else 1 for k in range(3)])
        for step in (1, -1):
            # the neighbour q of every voxel p along a, wrapping around (np.roll)
            d_q = np.roll(d, -step, axis=a)
            unknown_q = np.roll(unknown, -step, axis=a)
            source_q = np.roll(source, -step, axis=a)
            inside = (position + step >= 0) & (position + step < n)
            if bc[a] == PERIODIC and n > 1:
                inside = np.ones_like(inside)
            # a face is evaluated from its - side to its + side
            c = _harmonic_faces(factor[a], d, d_q) if step == 1 else \
                _harmonic_faces(factor[a], d_q, d)
            half_voxel = 2.0 * factor[a] * d
            if step == 1:
                faces[a] = np.where(unknown & inside & unknown_q, c, 0.0)
            fixed = np.where(source_q, half_voxel, c)          # source face, or pinned voxel
            contribution = np.where(unknown & inside & ~unknown_q, fixed, 0.0)
            if bc[a] == DIRICHLET:
                contribution = np.where(unknown & ~inside, half_voxel, contribution)
            g += contribution
    cz, cy, cx = (f.astype(dtype) for f in faces)
    return cx, cy, cz, g.astype(dtype)


def csr_from_faces(cx, cy, cz, diagonal, unknown) -> sp.csr_matrix:
    """The operator as a CSR matrix on the unknowns (C order), from face conductances.

    Parameters
    ----------
    cx, cy, cz : arrays (n0, n1, n2)
        Conductance of the face towards the ``+`` neighbour along axis 2, 1, 0 (the last
        voxel's face wraps around to the first; 0 where there is no face). Every nonzero
        face must join two unknowns.
    diagonal : array (n0, n1, n2)
        Extra diagonal (``g``, plus any shift).
    unknown : bool array (n0, n1, n2)

    Returns
    -------
    scipy.sparse.csr_matrix
        Sorted column indices; diagonal ``diagonal + sum of the voxel's faces`` (summed
        in the order ``+x, -x, +y, -y, +z, -z``); faces of conductance 0 are not stored.

    Raises
    ------
    ValueError
        When a face with a nonzero conductance touches a voxel that is not an unknown.

    Examples
    --------
    A periodic ring of three voxels (each couples to both others):

    >>> import numpy as np
    >>> d = np.ones((1, 1, 3))
    >>> cx, cy, cz, g = face_conductances(d, 1.0, d > 0, boundary="periodic")
    >>> cx                                              # the last face wraps around
    array([[[1., 1., 1.]]])
    >>> csr_from_faces(cx, cy, cz, g, d > 0).toarray()
    array([[ 2., -1., -1.],
           [-1.,  2., -1.],
           [-1., -1.,  2.]])
    """
    unknown = np.asarray(unknown, dtype=bool)
    shape = unknown.shape
    index = np.full(unknown.size, -1, dtype=np.int64)
    rows_of_unknowns = np.flatnonzero(unknown.ravel())
    index[rows_of_unknowns] = np.arange(rows_of_unknowns.size)
    diag = np.array(diagonal, dtype=np.float64).ravel()
    voxel = np.arange(unknown.size).reshape(shape)
    rows, cols, vals = [], [], []
    for axis, c in ((2, cx), (1, cy), (0, cz)):
        c = np.asarray(c).ravel().astype(np.float64)
        plus = np.roll(voxel, -1, axis=axis).ravel()        # + neighbour, wrapping
        p = np.flatnonzero(c)
        q = plus[p]
        p, q = p[p != q], q[p != q]                         # a face to itself carries nothing
        if np.any(index[p] < 0) or np.any(index[q] < 0):
            raise ValueError("a face with a nonzero conductance touches a voxel that is not "
                             "an unknown")
        diag[p] += c[p]                                     # p is the face's - side
        diag[q] += c[p]
        rows += [index[p], index[q]]
        cols += [index[q], index[p]]
        vals += [-c[p], -c[p]]
    rows.append(index[rows_of_unknowns])
    cols.append(index[rows_of_unknowns])
    vals.append(diag[rows_of_unknowns])
    n = rows_of_unknowns.size
    A = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, n)).tocsr()
    A.sum_duplicates()
    return A


# --------------------------------------------------------------------------- Numba kernels
@numba.njit(cache=True, inline="always")
def harmonic_mean(a, b):
    """``2 a b / (a + b)``, 0 when either is not positive (the face diffusivity)."""
    if a <= 0.0 or b <= 0.0:
        return 0.0
    return 2.0 * a * b / (a + b)


@numba.njit(cache=True, inline="always")
def face_conductance(factor, d_lo, d_hi):
    """``factor * 2 d_lo d_hi / (d_lo + d_hi)`` (0 if either does not conduct), ``-`` side first."""
    if d_lo <= 0.0 or d_hi <= 0.0:
        return 0.0
    return factor * 2.0 * d_lo * d_hi / (d_lo + d_hi)


@numba.njit(cache=True, inline="always")
def dirichlet_conductance(factor, d):
    """Conductance to a fixed value on the voxel's face, half a voxel away: ``2 factor d``."""
    return 2.0 * factor * d


@numba.njit(cache=True, inline="always")
def neighbour(i, n, step, bc):
    """Index ``i + step`` (step = +-1) along an axis of length ``n``; -1 outside a
    non-periodic axis; ``i`` itself for the wrap-around of a periodic axis of length 1."""
    j = i + step
    if j < 0 or j >= n:
        if bc != PERIODIC:
            return -1
        return j % n
    return j


@numba.njit(cache=True, inline="always")
def _across(i, n, step, bc):
    """The voxel index across a face (as :func:`neighbour`), -1 when there is none."""
    j = neighbour(i, n, step, bc)
    return -1 if j == i else j


@numba.njit(cache=True, inline="always")
def _face(d, unknown, source, bc, factor, j, q0, q1, q2, dp, plus, to_unknown=True):
    """``(kind, c)`` of a face of an unknown voxel p (diffusivity ``dp``) towards voxel
    q = ``(q0, q1, q2)`` on the ``+`` side of p (``plus``) or on its ``-`` side.

    ``j < 0``: no voxel across the face (a Dirichlet outer face, or none). Otherwise a
    face to the unknown q, or to a fixed value: a source voxel (Dirichlet on the face),
    any other voxel (pinned at its centre; conductance 0 when it does not conduct).
    ``to_unknown=False``: the conductance of a face to an unknown is not wanted (0).
    """
    kind = _NO_FACE
    c = 0.0
    if j < 0:
        if bc == DIRICHLET:
            kind = _TO_FIXED
            c = dirichlet_conductance(factor, dp)
    elif unknown[q0, q1, q2]:
        kind = _TO_UNKNOWN
        if to_unknown:
            dq = d[q0, q1, q2]
            c = face_conductance(factor, dp, dq) if plus else face_conductance(factor, dq, dp)
    elif source[q0, q1, q2]:
        kind = _TO_FIXED
        c = dirichlet_conductance(factor, dp)
    else:
        kind = _TO_FIXED
        dq = d[q0, q1, q2]
        c = face_conductance(factor, dp, dq) if plus else face_conductance(factor, dq, dp)
    return kind, c


def _conductances_py(d, unknown, source, factor, bc, cx, cy, cz, g):
    """Fill the ``+`` face conductances and ``g`` of every unknown (others untouched)."""
    n0, n1, n2 = d.shape
    f0, f1, f2 = factor[0], factor[1], factor[2]
    b0, b1, b2 = bc[0], bc[1], bc[2]
    for i0u in numba.prange(n0):
        i0 = np.int64(i0u)                         # prange indices are unsigned
        zp, zm = _across(i0, n0, 1, b0), _across(i0, n0, -1, b0)
        for i1 in range(n1):
            yp, ym = _across(i1, n1, 1, b1), _across(i1, n1, -1, b1)
            for i2 in range(n2):
                if not unknown[i0, i1, i2]:
                    continue
                xp, xm = _across(i2, n2, 1, b2), _across(i2, n2, -1, b2)
                dp = d[i0, i1, i2]
                # g: the faces to fixed values, in the order +x, -x, +y, -y, +z, -z; a
                # face to an unknown on the - side is stored by that voxel
                gp = 0.0
                kind, c = _face(d, unknown, source, b2, f2, xp, i0, i1, xp, dp, True)
                if kind == _TO_UNKNOWN:
                    cx[i0, i1, i2] = c
                else:
                    gp += c
                kind, c = _face(d, unknown, source, b2, f2, xm, i0, i1, xm, dp, False, False)
                if kind != _TO_UNKNOWN:
                    gp += c
                kind, c = _face(d, unknown, source, b1, f1, yp, i0, yp, i2, dp, True)
                if kind == _TO_UNKNOWN:
                    cy[i0, i1, i2] = c
                else:
                    gp += c
                kind, c = _face(d, unknown, source, b1, f1, ym, i0, ym, i2, dp, False, False)
                if kind != _TO_UNKNOWN:
                    gp += c
                kind, c = _face(d, unknown, source, b0, f0, zp, zp, i1, i2, dp, True)
                if kind == _TO_UNKNOWN:
                    cz[i0, i1, i2] = c
                else:
                    gp += c
                kind, c = _face(d, unknown, source, b0, f0, zm, zm, i1, i2, dp, False, False)
                if kind != _TO_UNKNOWN:
                    gp += c
                g[i0, i1, i2] = gp


#: faces in the order of ascending columns (when none wraps around), diagonal as -1
_ROW_ORDER = (5, 3, 1, -1, 0, 2, 4)


def _csr_rows_py(d, unknown, source, factor, bc, index, indptr, indices, data, fixed,
                 diagonal_position):
    """Both passes of the CSR assembly, one row per unknown.

    With ``indices`` empty: the row lengths into ``indptr[1:]``. Otherwise the rows at
    ``indptr``, columns ascending; ``fixed`` and ``diagonal_position`` when not empty.
    A row is the diagonal (``g``, then the faces to unknowns in face order) and one
    entry per distinct neighbour (two faces to one voxel along a periodic axis of
    length 2); faces of conductance 0 are not stored.
    """
    n0, n1, n2 = d.shape
    f0, f1, f2 = factor[0], factor[1], factor[2]
    b0, b1, b2 = bc[0], bc[1], bc[2]
    counting = indices.size == 0
    for i0u in numba.prange(n0):
        i0 = np.int64(i0u)
        cols = np.empty(7, dtype=np.int64)
        vals = np.empty(7)
        kinds = np.empty(6, dtype=np.int64)        # the faces +x, -x, +y, -y, +z, -z:
        cond = np.empty(6)                         # kind, conductance and column
        col_of = np.empty(6, dtype=np.int64)
        zp, zm = _across(i0, n0, 1, b0), _across(i0, n0, -1, b0)
        for i1 in range(n1):
            yp, ym = _across(i1, n1, 1, b1), _across(i1, n1, -1, b1)
            for i2 in range(n2):
                if not unknown[i0, i1, i2]:
                    continue
                xp, xm = _across(i2, n2, 1, b2), _across(i2, n2, -1, b2)
                r = index[i0, i1, i2]
                dp = d[i0, i1, i2]
                kinds[0], cond[0] = _face(d, unknown, source, b2, f2, xp, i0, i1, xp, dp, True)
                col_of[0] = index[i0, i1, xp] if kinds[0] == _TO_UNKNOWN else -1
                kinds[1], cond[1] = _face(d, unknown, source, b2, f2, xm, i0, i1, xm, dp, False)
                col_of[1] = index[i0, i1, xm] if kinds[1] == _TO_UNKNOWN else -1
                kinds[2], cond[2] = _face(d, unknown, source, b1, f1, yp, i0, yp, i2, dp, True)
                col_of[2] = index[i0, yp, i2] if kinds[2] == _TO_UNKNOWN else -1
                kinds[3], cond[3] = _face(d, unknown, source, b1, f1, ym, i0, ym, i2, dp, False)
                col_of[3] = index[i0, ym, i2] if kinds[3] == _TO_UNKNOWN else -1
                kinds[4], cond[4] = _face(d, unknown, source, b0, f0, zp, zp, i1, i2, dp, True)
                col_of[4] = index[zp, i1, i2] if kinds[4] == _TO_UNKNOWN else -1
                kinds[5], cond[5] = _face(d, unknown, source, b0, f0, zm, zm, i1, i2, dp, False)
                col_of[5] = index[zm, i1, i2] if kinds[5] == _TO_UNKNOWN else -1
                k = 0
                diag_slot = 0
                for e in range(7):
                    m = _ROW_ORDER[e]
                    if m < 0:
                        col, val = r, 0.0                  # the diagonal, summed below
                        diag_slot = k
                    elif kinds[m] == _TO_UNKNOWN and cond[m] != 0.0:
                        col, val = col_of[m], -cond[m]
                    else:
                        continue
                    found = -1
                    for t in range(k):
                        if cols[t] == col:                 # periodic axis of length 2
                            found = t
                    if found >= 0:
                        vals[found] += val
                    else:
                        cols[k] = col
                        vals[k] = val
                        k += 1
                if counting:
                    indptr[r + 1] = k
                    continue
                gp = 0.0                                   # sums in face order
                for m in range(6):
                    if kinds[m] == _TO_FIXED:
                        gp += cond[m]
                diag = gp
                for m in range(6):
                    if kinds[m] == _TO_UNKNOWN and cond[m] != 0.0:
                        diag += cond[m]
                vals[diag_slot] = diag
                for m in range(1, k):                      # sorted unless a face wraps
                    cc = cols[m]
                    vv = vals[m]
                    t = m - 1
                    while t >= 0 and cols[t] > cc:
                        cols[t + 1] = cols[t]
                        vals[t + 1] = vals[t]
                        t -= 1
                    cols[t + 1] = cc
                    vals[t + 1] = vv
                start = indptr[r]
                for m in range(k):
                    indices[start + m] = cols[m]
                    data[start + m] = vals[m]
                    if cols[m] == r and diagonal_position.size > 0:
                        diagonal_position[r] = start + m
                if fixed.size > 0:
                    fixed[r] = gp


# One (threaded) build each: the serial build of a kernel whose inlined helpers take
# arrays pays atomic reference counting on every call (17x slower here); below the
# size where threads pay, the threaded build runs on one thread.
_conductances = threaded_kernel(_conductances_py, single_build=True, **_EXACT)
_csr_rows = threaded_kernel(_csr_rows_py, single_build=True, **_EXACT)


def face_conductances(diffusivity, face_factor, unknown, source=None, boundary=CLOSED,
                      dtype=np.float64):
    """Face conductances and fixed-value conductance ``g`` on the full grid (Numba).

    Parameters
    ----------
    diffusivity : float array (n0, n1, n2)
        Diffusivity of every voxel (2D images as ``(1, n1, n2)``), >= 0.
    face_factor : float or 3 floats
        ``f_a`` per array axis: face area over centre distance [cm for cm^2 s^-1
        diffusivities: conductances in cm^3 s^-1], or the caller's scaling of it.
    unknown : bool array like ``diffusivity``
        The control volumes.
    source : bool array, optional
        Voxels held at a fixed value on their faces (Dirichlet at half a voxel).
    boundary : int, str or 3 of them
        ``PERIODIC``, ``CLOSED`` or ``DIRICHLET`` (or their lower-case names) per axis.
    dtype : float32, float64 or uint8
        Storage of the results (computed in float64, rounded once). ``uint8`` stores
        them exactly, for diffusivities that are all 0 or 1 and integer face factors
        (every conductance is then an integer, at most 12 times the largest factor):
        a quarter of float32's bytes. A medium with one diffusivity ``D`` and cubic
        voxels is such a medium in units of ``f D`` (see :func:`unit_conductances`).

    Returns
    -------
    cx, cy, cz, g : arrays of ``dtype``
        Conductance of the face towards the ``+`` neighbour along axis 2, 1, 0 (0 where
        either side is not an unknown; the last voxel's face wraps around on a periodic
        axis) and the summed conductance of each unknown's faces to fixed values (0 off
        the unknowns): the arguments of :class:`~rhizoscale.solvers.Stencil`.

    Raises
    ------
    ValueError
        An integer ``dtype`` for conductances that are not all integers that fit in it.

    References
    ----------
    Patankar, S. V. (1980). Numerical Heat Transfer and Fluid Flow. Hemisphere (§4.2,
    harmonic-mean interface conductivity).

    Examples
    --------
    The face between D = 1 and D = 4 conducts the harmonic mean 1.6; the face to the
    source, half a voxel away, ``2 D = 8``:

    >>> import numpy as np
    >>> d = np.array([[[1.0, 4.0, 4.0, 0.0]]])              # D per voxel, (z, y, x)
    >>> source = np.array([[[False, False, False, True]]])  # the last voxel is a source
    >>> cx, cy, cz, g = face_conductances(d, 1.0, d > 0, source)
    >>> cx, g
    (array([[[1.6, 4. , 0. , 0. ]]]), array([[[0., 0., 8., 0.]]]))
    >>> face_conductances(np.ones((1, 1, 3)), 1.0, np.ones((1, 1, 3), bool),
    ...                   boundary=["closed", "closed", "dirichlet"])[3]     # g at both ends
    array([[[2., 0., 2.]]])

    A binary medium stored exactly in one byte per conductance:

    >>> face_conductances(np.array([[[1, 1, 0, 1]]]), 1.0, np.ones((1, 1, 4), bool),
    ...                   boundary="dirichlet", dtype=np.uint8)[0]
    array([[[1, 0, 0, 0]]], dtype=uint8)
    """
    d, factor, unknown, source, bc = _check(diffusivity, face_factor, unknown, source, boundary)
    dtype = np.dtype(dtype)
    if dtype.kind in "iu" and not _integer_conductances(d, factor, dtype):
        raise ValueError(f"{dtype} conductances need diffusivities of 0 or 1 and integer face "
                         f"factors with 12 x factor <= {np.iinfo(dtype).max} (got factors "
                         f"{factor.tolist()})")
    cx, cy, cz, g = (np.zeros(d.shape, dtype) for _ in range(4))
    _conductances(d, unknown, source, factor, bc, cx, cy, cz, g)
    return cx, cy, cz, g


def _integer_conductances(d, factor, dtype) -> bool:
    """Whether every conductance of diffusivities ``d`` is an integer that ``dtype`` holds:
    ``d`` is 0 or 1 (harmonic means 0 or 1, half-voxel faces 2), the factors are integers
    and a voxel's ``g`` (at most 6 faces of ``2 f``) fits."""
    return bool(np.all(factor == np.round(factor)) and np.all(factor >= 0)
                and 12 * factor.max() <= np.iinfo(dtype).max
                and not np.any((d != 0.0) & (d != 1.0)))


def unit_conductances(diffusivity, face_factor, boundary=CLOSED):
    """The unit of exact integer conductances of a medium, or None.

    When the conducting voxels share one diffusivity ``D`` and every axis one face
    factor ``f``, every conductance of :func:`face_conductances` is an integer multiple
    of ``u = f D`` (harmonic means ``D`` or 0, half-voxel faces ``2 D``, sums of those):
    ``face_conductances(diffusivity > 0, 1.0, ..., dtype=np.uint8)`` then holds them
    exactly in units of ``u`` (the harmonic mean of ``D`` with itself is ``D`` up to
    one rounding, 1e-16).

    Parameters
    ----------
    diffusivity : float array
        Diffusivity of every voxel, >= 0.
    face_factor : float or 3 floats
        ``f_a`` per array axis (an axis of one voxel counts only with Dirichlet outer
        faces: it has no other faces).
    boundary : int, str or 3 of them
        As in :func:`face_conductances`.

    Returns
    -------
    float or None
        ``f D``, or None when the diffusivities or the factors differ (or none conducts).

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[[0.0, 2e-6, 2e-6]]])
    >>> unit_conductances(d, 0.5), unit_conductances(d, [1.0, 1.0, 0.5])
    (1e-06, 1e-06)
    >>> unit_conductances(np.array([[[1.0, 2.0]]]), 1.0) is None        # two diffusivities
    True
    """
    d = np.asarray(diffusivity)
    factor = np.broadcast_to(np.asarray(face_factor, dtype=np.float64), (3,))
    bc = boundary_codes(boundary)
    factors = {float(f) for f, n, b in zip(factor, d.shape, bc) if n > 1 or b == DIRICHLET}
    factors = factors or {float(factor[-1])}
    value = float(d.max()) if d.size else 0.0
    if len(factors) != 1 or value <= 0.0 or np.any((d != 0) & (d != value)):
        return None
    return factors.pop() * value


class CSROperator(NamedTuple):
    """Result of :func:`assemble_csr`.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix (n, n)
        The operator on the unknowns (C order), ``g`` included in its diagonal.
    fixed : (n,) array or None
        ``g`` of every unknown.
    diagonal_position : (n,) int64 array or None
        Position of every row's diagonal entry in ``matrix.data``.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[[1.0, 4.0, 4.0, 0.0]]])              # D per voxel, (z, y, x)
    >>> source = np.array([[[False, False, False, True]]])  # the last voxel is a source
    >>> op = assemble_csr(d, 1.0, d > 0, source, fixed=True, diagonal_position=True)
    >>> op.diagonal_position, op.matrix.data[op.diagonal_position]
    (array([0, 3, 6]), array([ 1.6,  5.6, 12. ]))
    """

    #: (n, n) matrix on the unknowns (C order), ``g`` included in its diagonal
    matrix: sp.csr_matrix
    #: (n,) ``g`` of every unknown, or None when not asked for
    fixed: np.ndarray | None
    #: (n,) position of every row's diagonal entry in ``matrix.data``, or None
    diagonal_position: np.ndarray | None


def assemble_csr(diffusivity, face_factor, unknown, source=None, boundary=CLOSED, *,
                 fixed: bool = False, diagonal_position: bool = False) -> CSROperator:
    """The operator as a CSR matrix on the unknowns, assembled by a Numba kernel.

    Equal, entry by entry, to ``csr_from_faces(cx, cy, cz, g, unknown)`` of
    :func:`face_conductances_reference` (parameters as for :func:`face_conductances`),
    without the full-grid conductance arrays: two passes over the voxels (row lengths,
    then the rows). Indices are int32 when they fit.

    Parameters
    ----------
    diffusivity, face_factor, unknown, source, boundary
        As in :func:`face_conductances`.
    fixed : bool
        Also return ``g`` of every unknown.
    diagonal_position : bool
        Also return the position of every row's diagonal entry in ``matrix.data``.

    Returns
    -------
    CSROperator
        ``(matrix, fixed, diagonal_position)``; the last two only when asked for.

    Examples
    --------
    Three unknowns in a row (D = 1, 4, 4) with a source voxel at the right end; the
    face between the first two conducts the harmonic mean 1.6, the source face 2 D:

    >>> import numpy as np
    >>> from rhizoscale.solvers.voxel_operator import assemble_csr
    >>> d = np.array([[[1.0, 4.0, 4.0, 0.0]]])
    >>> source = np.array([[[False, False, False, True]]])
    >>> op = assemble_csr(d, 1.0, d > 0, source, fixed=True)
    >>> op.matrix.toarray()
    array([[ 1.6, -1.6,  0. ],
           [-1.6,  5.6, -4. ],
           [ 0. , -4. , 12. ]])
    >>> op.fixed
    array([0., 0., 8.])
    """
    d, factor, unknown, source, bc = _check(diffusivity, face_factor, unknown, source, boundary)
    n = int(np.count_nonzero(unknown))
    index = np.full(d.shape, -1, dtype=np.int32 if d.size < 2**31 - 1 else np.int64)
    index[unknown] = np.arange(n, dtype=index.dtype)
    indptr = np.zeros(n + 1, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int32)
    _csr_rows(d, unknown, source, factor, bc, index, indptr, empty, np.zeros(0), np.zeros(0),
              np.zeros(0, dtype=np.int64))                    # row lengths
    np.cumsum(indptr, out=indptr)
    nnz = int(indptr[-1])
    idx_dtype = np.int32 if nnz < 2**31 - 1 else np.int64
    indices = np.empty(nnz, dtype=idx_dtype)     # filled in place: no int64 temporary
    data = np.empty(nnz, dtype=np.float64)
    g = np.zeros(n if fixed else 0)
    diagpos = np.zeros(n if diagonal_position else 0, dtype=np.int64)
    if n:
        _csr_rows(d, unknown, source, factor, bc, index, indptr, indices, data, g, diagpos)
    A = sp.csr_matrix((n, n), dtype=np.float64)
    A.data, A.indices, A.indptr = data, indices, indptr.astype(idx_dtype, copy=False)
    A.has_sorted_indices = True
    return CSROperator(A, g if fixed else None, diagpos if diagonal_position else None)

"""3D soil: diffusion of phosphate and citrate with competitive sorption and decay.

On a :class:`~rhizoscale.grid.RegularGrid` (cell-centred finite volumes, 7-point
stencil, no-flux outer boundaries)::

    d T_i(c) / dt = div(D_i grad c_i) - lambda_i theta c_i + q_i,
    T_i = theta c_i + rho s_i(c)           (competitive Langmuir, see sorption.py)

``c`` is the concentration in the soil solution [µmol cm-3], ``q`` a source per bulk
volume [µmol cm-3 s-1] (here: the root fluxes from the rhizosphere models). Implicit
Euler in time; the nonlinear system (the isotherm couples the species in every cell)
is solved by Newton's method with a sparse direct solve of the coupled Jacobian.

The effective diffusivity is pluggable: by default Millington–Quirk
``D_w theta^(10/3) / phi^2`` (:func:`rhizoscale.soil.millington_quirk`); any callable
``f(theta, porosity, d_water)`` may replace it and may return a scalar, a diagonal
tensor ``(Dxx, Dyy, Dzz)``, a (3, 3) tensor (off-diagonal terms must vanish on this
stencil) or a per-cell field of shape ``grid.shape`` (harmonic means on faces).

Units: µmol, cm, s, g.
"""

from __future__ import annotations

from typing import Callable

import numba
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import InputError
from ..core.grid import RegularGrid
from ..soil import millington_quirk
from ..solvers.voxel_operator import CLOSED, assemble_csr, face_conductances
from .sorption import (competitive_langmuir_jacobian, langmuir_jacobian_2, langmuir_total_2,
                       total_concentration)

__all__ = ["SoilModel3D", "face_transmissibilities", "face_arrays"]


def _diffusivity_components(value, grid: RegularGrid, what: str):
    """Return per-axis diffusivity, each a scalar or a (nz, ny, nx) field, in (x, y, z) order."""
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InputError("effective diffusivity must be finite and >= 0", field=what)
    if arr.ndim == 0:
        return [float(arr)] * 3
    if arr.shape == (3,):
        return [float(v) for v in arr]
    if arr.shape == (3, 3):
        off = arr - np.diag(np.diag(arr))
        if np.any(np.abs(off) > 1e-12 * np.abs(np.diag(arr)).max()):
            raise InputError("a full diffusion tensor with off-diagonal terms needs a non-orthogonal "
                             "stencil; this 7-point solver accepts diagonal tensors only", field=what)
        return [float(v) for v in np.diag(arr)]
    if arr.shape == tuple(grid.shape):
        return [arr, arr, arr]
    raise InputError(f"effective diffusivity of shape {arr.shape} not understood (scalar, (3,), (3, 3) "
                     f"or grid shape {grid.shape})", field=what)


def face_transmissibilities(grid: RegularGrid, diffusivity) -> sp.csr_matrix:
    """Finite-volume diffusion operator ``A`` with ``(A c)_k`` = net outflow of cell k [cm3 s-1 x c].

    ``diffusivity`` as accepted by :class:`SoilModel3D` after evaluation [cm2 s-1]. Faces
    between cells carry ``D_face * area / spacing`` (harmonic mean of cell values);
    outer faces carry nothing (no-flux boundaries). The operator is the shared voxel
    operator of :mod:`rhizoscale.solvers.voxel_operator` on every cell of the grid; a
    diagonal tensor (one value per axis) goes into its per-axis face factor.

    Parameters
    ----------
    grid : RegularGrid
        The soil box [cm].
    diffusivity : float, (3,), (3, 3) or per-cell array
        Effective diffusivity [cm2 s-1] (isotropic, diagonal, full tensor or field).

    Returns
    -------
    scipy.sparse.csr_matrix (n_cells, n_cells)
        [cm3 s-1]; columns sum to zero (mass is conserved).

    Examples
    --------
    Two 0.5 cm cells: ``D area / spacing = 1e-6 * 0.25 / 0.5``:

    >>> from rhizoscale.grid import RegularGrid
    >>> grid = RegularGrid.from_resolution((0, 0, 0), (1, 0.5, 0.5), 0.5)
    >>> face_transmissibilities(grid, 1e-6).toarray()
    array([[ 5.e-07, -5.e-07],
           [-5.e-07,  5.e-07]])
    """
    field, factor = _operator_arguments(grid, diffusivity)
    return assemble_csr(field, factor, np.ones(grid.shape, dtype=bool), None, CLOSED).matrix


def _operator_arguments(grid: RegularGrid, diffusivity):
    """Diffusivity field and per-array-axis face factor of the shared voxel operator."""
    comps = _diffusivity_components(diffusivity, grid, "diffusivity")
    hx, hy, hz = grid.spacing
    spacing = np.array([hz, hy, hx])                        # array axes (z, y, x)
    area = np.array([hx * hy, hx * hz, hy * hz])
    if all(np.ndim(comp) == 0 for comp in comps):
        field = np.ones(grid.shape)                         # harmonic mean of 1 and 1 is 1
        factor = np.array([comps[2 - ax] * area[ax] / spacing[ax] for ax in range(3)])
    else:
        field = comps[0]                                    # one field for every axis
        factor = area / spacing
    return field, factor


def face_arrays(grid: RegularGrid, diffusivity) -> np.ndarray:
    """The operator of :func:`face_transmissibilities` as face conductances on the grid.

    Returns a (3, n_cells) array [cm3 s-1]: the conductance of each cell's face towards
    its ``+`` neighbour along array axes 2, 1, 0 (x, y, z; 0 on the last cell of an axis:
    no-flux boundaries), the shared voxel operator's ``cx, cy, cz``. The residual kernel
    of :class:`SoilModel3D` streams these over every cell (48 bytes per cell for both
    species, against ~240 for the CSR matrices).

    Examples
    --------
    >>> from rhizoscale.grid import RegularGrid
    >>> grid = RegularGrid.from_resolution((0, 0, 0), (1, 0.5, 0.5), 0.5)
    >>> face_arrays(grid, 1e-6)            # the face between the two cells, along x
    array([[5.e-07, 0.e+00],
           [0.e+00, 0.e+00],
           [0.e+00, 0.e+00]])
    """
    field, factor = _operator_arguments(grid, diffusivity)
    cx, cy, cz, _ = face_conductances(field, factor, np.ones(grid.shape, dtype=bool), None,
                                      CLOSED)
    return np.stack([cx.ravel(), cy.ravel(), cz.ravel()])


class SoilModel3D:
    """Phosphate (species 0) and citrate (species 1) in a 3D soil box.

    Parameters
    ----------
    grid : RegularGrid
    theta, porosity : float
        Volumetric water content and porosity [-].
    bulk_density : float
        [g cm-3].
    smax, affinity : pair of float
        Langmuir capacities [µmol g-1] and affinities [cm3 µmol-1].
    d_water : pair of float
        Diffusion coefficients in free water [cm2 s-1].
    decay : pair of float
        First-order decay rates of the dissolved species [s-1].
    diffusivity : callable, optional
        ``f(theta, porosity, d_water)`` giving the effective diffusivity [cm2 s-1]
        (scalar, (3,), (3, 3) or per-cell field); default Millington–Quirk.
    initial : pair of float or (2, nz, ny, nx) array
        Initial solution concentrations [µmol cm-3].

    References
    ----------
    .. [1] Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by
       a growing and exuding root system. Vadose Zone Journal, 11(3).

    Examples
    --------
    A source of citrate in one corner cell for an hour: the amount in the box grows by
    what was added less what decayed:

    >>> import numpy as np
    >>> from rhizoscale.grid import RegularGrid
    >>> grid = RegularGrid.from_resolution((0, 0, 0), (1, 1, 1), 0.25)
    >>> soil = SoilModel3D(grid, theta=0.3, porosity=0.5, bulk_density=1.3, smax=(5.0, 1.0),
    ...                    affinity=(20.0, 10.0), d_water=(8.46e-6, 6.2e-6), decay=(0.0, 1.64e-5),
    ...                    initial=(0.002, 0.0))
    >>> before = soil.mass()                                           # [umol]
    >>> source = np.zeros((2, grid.n_cells))
    >>> source[1, 0] = 1e-6                                            # [umol s-1]
    >>> info = soil.step(3600.0, source)
    >>> added = soil.mass() - before
    >>> added.round(6), info["decay"].round(9)
    (array([0.      , 0.003594]), array([0.000e+00, 6.008e-06]))
    >>> bool(abs(added[1] + info["decay"][1] - 3600 * 1e-6) < 1e-15)
    True
    """

    def __init__(self, grid: RegularGrid, *, theta: float, porosity: float, bulk_density: float,
                 smax, affinity, d_water, decay=(0.0, 0.0),
                 diffusivity: Callable | None = None, initial=(0.0, 0.0)):
        self.grid = grid
        self.theta = float(theta)
        self.porosity = float(porosity)
        self.bulk_density = float(bulk_density)
        self.smax = np.asarray(smax, float)
        self.affinity = np.asarray(affinity, float)
        self.decay = np.asarray(decay, float)
        self.d_water = np.asarray(d_water, float)
        fn = diffusivity or millington_quirk
        self.diffusivity_function = fn
        self.effective_diffusivity = [fn(self.theta, self.porosity, float(dw)) for dw in self.d_water]
        self.operators = [face_transmissibilities(grid, d) for d in self.effective_diffusivity]
        self.volume = grid.cell_volume
        n = grid.n_cells
        init = np.asarray(initial, float)
        if init.shape == (2,):
            init = np.broadcast_to(init[:, None], (2, n))
        init = np.array(init, dtype=float).reshape(2, n)
        if np.any(init < 0) or not np.all(np.isfinite(init)):
            raise InputError("initial concentrations must be finite and >= 0", field="initial")
        self.c = init
        self._totals_of = self._totals = None     # cache of totals() (see there)
        #: the state before the last step and that step [s] (the predictor of :meth:`predict`)
        self.previous: tuple[np.ndarray, float] | None = None
        self.newton_iterations = 0
        self.linear_sweeps = 0
        #: "sgs" (fused Numba block symmetric Gauss–Seidel) or "jacobi" (NumPy reference)
        self.linear_solver = "sgs"
        # the residual kernel streams over every cell: face arrays (48 B per cell for both
        # species); the block-SGS kernel visits a subset of cells: CSR rows (each row's
        # entries together; the face arrays were slower there)
        self._faces = [face_arrays(grid, d) for d in self.effective_diffusivity]
        self._diag_op = [o.diagonal() for o in self.operators]
        # the operators without their diagonals (constant; the block SGS kernel's rows)
        self._offdiag = []
        for o in self.operators:
            off = (o - sp.diags(o.diagonal())).tocsr().astype(float)
            off.eliminate_zeros()
            off.sort_indices()
            self._offdiag.append(off)
        self._inverse_blocks = None
        self._all_cells = None

    # ------------------------------------------------------------------ diagnostics
    def totals(self, c=None) -> np.ndarray:
        """Total amount per bulk volume, (2, n_cells) [µmol cm-3].

        Without ``c``: the totals of the current state, computed once per state (the
        coupling, the step and the mass balance all need them; a read-only array). The
        state ``c`` is replaced by each step, never changed in place (it is made
        read-only here so that the cached totals cannot go stale).
        """
        if c is not None:
            return total_concentration(c, self.theta, self.bulk_density, self.smax,
                                       self.affinity)
        if self._totals_of is not self.c:
            self.c.flags.writeable = False
            self._totals = np.empty_like(self.c)   # total_concentration, in one Numba pass
            _totals_2(self.c[0], self.c[1], self.theta, self.bulk_density, self.smax[0],
                      self.affinity[0], self.smax[1], self.affinity[1], self._totals)
            self._totals.flags.writeable = False
            self._totals_of = self.c
        return self._totals

    def mass(self) -> np.ndarray:
        """Total amount in the box per species [µmol]."""
        return self.totals().sum(axis=1) * self.volume

    def fields(self) -> dict[str, np.ndarray]:
        """Solution concentrations reshaped to the grid, per species."""
        return {"phosphate": self.c[0].reshape(self.grid.shape), "citrate": self.c[1].reshape(self.grid.shape)}

    # ------------------------------------------------------------------ time step
    def predict(self, dt: float) -> np.ndarray:
        """First Newton iterate for a step of ``dt`` [s]: the state extrapolated linearly
        from the last step (clipped at 0), or the state itself before any step.

        Only the start of the iteration: the converged step satisfies the same residual
        tolerance from any start, and starting closer saves about one Newton iteration
        in four (the citrate sources make the first residual large).
        """
        if self.previous is None:
            return self.c.copy()
        c_prev, dt_prev = self.previous
        return np.maximum(self.c + (self.c - c_prev) * (dt / dt_prev), 0.0)

    def step(self, dt: float, source: np.ndarray, *, tol: float = 1e-14, max_iter: int = 40) -> dict | None:
        """Advance by ``dt`` [s] with a constant source (2, n_cells) [µmol s-1 per cell].

        Newton's method on the implicit Euler equations. The Jacobian is dominated by the
        2x2 species blocks of every cell (storage with sorption >> diffusion between cells
        over one step), so each linear system is solved by block symmetric Gauss–Seidel
        sweeps (Numba; only on cells with a non-negligible residual and their neighbours,
        see :meth:`_solve_newton_system`), falling back to BiCGSTAB with a block-Jacobi
        preconditioner when the sweeps converge slowly. With ``linear_solver = "jacobi"``
        the NumPy residual and block-Jacobi sweeps over all cells are used instead (the
        reference). Iterations stop when the nonlinear residual, integrated over the
        step, is below ``tol`` times the total amount in the box, so the discrete mass
        balance holds to that tolerance.

        Returns ``{"decay": (2,) µmol decayed during the step, "iterations": k}`` and
        updates the state, or returns None (state unchanged) when Newton fails or a
        concentration would become negative, so that the caller can reduce the step.
        """
        n = self.grid.n_cells
        v = self.volume
        th = self.theta
        t_old = self.totals()
        c = self.predict(dt)
        src = np.asarray(source, float).reshape(2, n)
        op = self.operators
        # per species: the amount present or added during the step
        mass_scale = np.maximum(np.maximum(np.abs(t_old).sum(axis=1) * v, np.abs(src).sum(axis=1) * dt), 1e-300)
        diag_op = self._diag_op
        # a cell's residual below this is negligible: all such cells together stay 1000x
        # below the convergence tolerance [µmol s-1 per cell]
        negligible = 1e-3 * tol * mass_scale / (dt * n)
        converged = False
        fused = self.linear_solver == "sgs"
        if fused:
            f0, f1 = self._faces
            shape = np.array(self.grid.shape, dtype=np.int64)
            res = np.empty((2, n))
            jac = np.empty((2, 2, n))
            if self._all_cells is None or len(self._all_cells) != n:
                self._all_cells = np.arange(n, dtype=np.int64)
            recompute = self._all_cells
        for it in range(max_iter):
            if fused:  # residual and local blocks in one Numba pass over the cells that changed
                _residual_and_blocks(f0, f1, shape, recompute, c[0], c[1], t_old[0], t_old[1], src[0],
                                     src[1], v, dt, th, self.bulk_density, self.smax[0], self.affinity[0],
                                     self.smax[1], self.affinity[1], self.decay[0], self.decay[1], res, jac)
            else:
                t_new = self.totals(c)
                res = np.empty((2, n))
                for i in range(2):
                    res[i] = v * ((t_new[i] - t_old[i]) / dt + self.decay[i] * th * c[i]) + op[i] @ c[i] - src[i]
            rel = dt * np.abs(res).sum(axis=1) / mass_scale
            if np.all(rel <= tol):
                converged = True
                break
            # inexact Newton: solve the linear system only as far as this iteration needs
            # (Eisenstat & Walker 1996): to 0.1 x the relative residual r (the quadratic
            # convergence is kept: the next residual is ~ r^2), and to 0.01 tol / r (enough
            # for the residual to fall below tol), within [1e-13, 1e-2]
            r = float(rel.max())
            linear_rtol = min(1e-2, max(1e-13, 0.1 * r, 0.01 * tol / r))
            if not fused:
                # local 2x2 blocks: storage + decay
                jac = self.bulk_density * competitive_langmuir_jacobian(c, self.smax, self.affinity) * (v / dt)
                for i in range(2):
                    jac[i, i] += v * (th / dt + self.decay[i] * th)

            def matvec(x, jac=jac):
                x = x.reshape(2, n)
                y0 = jac[0, 0] * x[0] + jac[0, 1] * x[1] + op[0] @ x[0]
                y1 = jac[1, 0] * x[0] + jac[1, 1] * x[1] + op[1] @ x[1]
                return np.concatenate([y0, y1])

            def precond(x, jac=jac):
                # exact inverse of each cell's 2x2 block (local Jacobian + operator diagonal)
                p00 = jac[0, 0] + diag_op[0]
                p11 = jac[1, 1] + diag_op[1]
                p01, p10 = jac[0, 1], jac[1, 0]
                det = p00 * p11 - p01 * p10
                x = x.reshape(2, n)
                return np.concatenate([(p11 * x[0] - p01 * x[1]) / det, (p00 * x[1] - p10 * x[0]) / det])

            delta, cells = self._solve_newton_system(jac, res, matvec, precond, negligible, rtol=linear_rtol)
            if not np.all(np.isfinite(delta)):
                return None
            c = c - delta.reshape(2, n)
            self.newton_iterations += 1
            if fused:
                # a cell's residual and block depend on its own and its face neighbours'
                # values only: elsewhere they are those of the last pass
                if cells is None:
                    recompute = self._all_cells
                else:
                    mask = np.zeros(n, dtype=bool)
                    mask[cells] = True
                    recompute = np.flatnonzero(self._dilate(mask)).astype(np.int64)
        if not converged:
            return None
        scale = np.maximum(np.abs(c).max(axis=1), 1e-300)
        if np.any(c < -1e-12 * scale[:, None]):
            return None
        decayed = dt * v * self.decay * th * c.sum(axis=1)
        self.previous = (self.c, float(dt))
        self.c = c
        return {"decay": decayed, "iterations": it, "residual": float(np.max(dt * np.abs(res).sum(axis=1) / mass_scale))}

    def _solve_newton_system(self, jac, res, matvec, precond, negligible, rtol=1e-13, max_sweeps=40):
        """Newton correction: block SGS (Numba), BiCGSTAB with block-Jacobi if it stalls.

        Returns the correction (2 n_cells) and the cells it may be non-zero on (None: any).

        Only cells whose residual exceeds ``negligible`` (for either species) and their
        neighbours (two layers) are solved for; elsewhere the correction is 0. The cells
        left out carry together at most ``n_cells * negligible`` of residual, which the
        caller keeps far below its convergence tolerance; the next Newton iteration
        re-checks the full residual, so this only limits the work to where the soil
        changes (near roots), never the accuracy.
        """
        n = self.grid.n_cells
        if self.linear_solver == "jacobi":
            return self._linear_solve(matvec, precond, res.ravel(), rtol=rtol), None
        active = (np.abs(res) > negligible[:, None]).any(axis=0)
        for _ in range(2):
            active = self._dilate(active)
        cells = np.flatnonzero(active).astype(np.int64)
        x = np.zeros((2, n))
        if len(cells) == 0:
            return x.ravel(), cells
        o0, o1 = self._offdiag
        if self._inverse_blocks is None:
            self._inverse_blocks = np.empty((4, n))
        sweeps = _block_sgs_solve(o0.indptr, o0.indices, o0.data, o1.indptr, o1.indices, o1.data,
                                  self._diag_op[0], self._diag_op[1], jac[0, 0], jac[0, 1], jac[1, 0],
                                  jac[1, 1], res[0], res[1], x[0], x[1], cells, rtol, max_sweeps,
                                  self._inverse_blocks)
        if sweeps < 0:
            return self._bicgstab(matvec, precond, res.ravel(), x.ravel(), rtol), None
        self.linear_sweeps += sweeps
        return x.ravel(), cells

    def _dilate(self, mask: np.ndarray) -> np.ndarray:
        """Add the face neighbours of the cells in ``mask`` (flat, grid order)."""
        m = mask.reshape(self.grid.shape)
        out = m.copy()
        for ax in range(3):
            if m.shape[ax] < 2:
                continue
            lo = [slice(None)] * 3
            hi = [slice(None)] * 3
            lo[ax] = slice(0, -1)
            hi[ax] = slice(1, None)
            out[tuple(lo)] |= m[tuple(hi)]
            out[tuple(hi)] |= m[tuple(lo)]
        return out.ravel()

    @staticmethod
    def _linear_solve(matvec, precond, rhs, rtol=1e-13, sweeps=60):
        """Reference solver: ``J x = rhs`` by block-Jacobi sweeps; BiCGSTAB if they converge slowly.

        Kept as the readable specification of :func:`_block_sgs_solve` (tests compare them)
        and as the fallback when the Gauss–Seidel sweeps do not converge.
        """
        x = precond(rhs)
        for _ in range(sweeps):
            upd = precond(rhs - matvec(x))
            x += upd
            if np.abs(upd).max() <= rtol * max(np.abs(x).max(), 1e-300):
                return x
        return SoilModel3D._bicgstab(matvec, precond, rhs, x, rtol)

    @staticmethod
    def _bicgstab(matvec, precond, rhs, x0, rtol):
        n2 = len(rhs)
        a_op = spla.LinearOperator((n2, n2), matvec=matvec, dtype=float)
        m_op = spla.LinearOperator((n2, n2), matvec=precond, dtype=float)
        x, _ = spla.bicgstab(a_op, rhs, x0=x0, M=m_op, rtol=rtol, atol=0.0, maxiter=1000)
        return x


@numba.njit(cache=True, parallel=True)
def _totals_2(c0, c1, theta, rho, smax0, k0, smax1, k1, out):
    """:func:`~.sorption.total_concentration` of two competing species, every cell."""
    for k in numba.prange(c0.shape[0]):
        out[0, k], out[1, k] = langmuir_total_2(c0[k], c1[k], theta, rho, smax0, k0, smax1, k1)


@numba.njit(cache=True, inline="always")
def _faces_at(f, x, k, inner, s1, s0):
    """Sum of the face conductances of cell ``k`` and the sum of each face's conductance
    times the neighbour's ``x`` (``f``: the (3, n) :func:`face_arrays`; ``inner``: bits
    1, 2 / 4, 8 / 16, 32 set when the cell has a ``+``, ``-`` neighbour along x / y / z;
    ``s1``, ``s0``: the strides of y and z). ``(A x)_k = diag x_k - off``."""
    diag = 0.0
    off = 0.0
    if inner & 1:
        c = f[0, k]
        diag += c
        off += c * x[k + 1]
    if inner & 2:
        c = f[0, k - 1]
        diag += c
        off += c * x[k - 1]
    if inner & 4:
        c = f[1, k]
        diag += c
        off += c * x[k + s1]
    if inner & 8:
        c = f[1, k - s1]
        diag += c
        off += c * x[k - s1]
    if inner & 16:
        c = f[2, k]
        diag += c
        off += c * x[k + s0]
    if inner & 32:
        c = f[2, k - s0]
        diag += c
        off += c * x[k - s0]
    return diag, off


@numba.njit(cache=True, inline="always")
def _inner_bits(i0, i1, i2, n0, n1, n2):
    """The ``inner`` bits of :func:`_faces_at` for cell (i0, i1, i2)."""
    return ((i2 + 1 < n2) * 1 + (i2 > 0) * 2 + (i1 + 1 < n1) * 4 + (i1 > 0) * 8
            + (i0 + 1 < n0) * 16 + (i0 > 0) * 32)


@numba.njit(cache=True, parallel=True)
def _residual_and_blocks(f0, f1, shape, cells, c0, c1, told0, told1, src0, src1,
                         v, dt, theta, rho, smax0, k0, smax1, k1, lam0, lam1, res, jac):
    """Implicit-Euler residual and local 2x2 Jacobian blocks of the ``cells`` (flat grid
    indices; all of them, or those whose values or face neighbours' values changed), in
    one pass; the other entries of ``res`` and ``jac`` are left as they are.

    ``res[i, k] = v ((T_i(c_k) - T_i,old) / dt + lam_i theta c_i,k) + (A_i c_i)_k - q_i,k``
    [µmol s-1]; ``jac[i, j, k] = v (dT_i/dc_j / dt + delta_ij lam_i theta)``. ``A_i`` is
    given by its face conductances ``f_i`` (:func:`face_arrays`) on the grid ``shape``
    (z, y, x). Same arithmetic as the NumPy path of :meth:`SoilModel3D.step` (the
    specification, with the CSR matrix), up to rounding. Cells are independent:
    threaded over chunks of the list, the same numbers on any thread count.
    """
    n0, n1, n2 = shape[0], shape[1], shape[2]
    m = cells.shape[0]
    chunk = 4096
    for ch in numba.prange((m + chunk - 1) // chunk):
        for q in range(ch * chunk, min(m, (ch + 1) * chunk)):
            k = cells[q]
            i2 = k % n2
            i1 = (k // n2) % n1
            i0 = k // (n1 * n2)
            inner = _inner_bits(i0, i1, i2, n0, n1, n2)
            d0, o0 = _faces_at(f0, c0, k, inner, n2, n1 * n2)
            d1, o1 = _faces_at(f1, c1, k, inner, n2, n1 * n2)
            a0 = d0 * c0[k] - o0
            a1 = d1 * c1[k] - o1
            t0, t1 = langmuir_total_2(c0[k], c1[k], theta, rho, smax0, k0, smax1, k1)
            res[0, k] = v * ((t0 - told0[k]) / dt + lam0 * theta * c0[k]) + a0 - src0[k]
            res[1, k] = v * ((t1 - told1[k]) / dt + lam1 * theta * c1[k]) + a1 - src1[k]
            b00, b01, b10, b11 = langmuir_jacobian_2(c0[k], c1[k], theta, rho, smax0, k0,
                                                     smax1, k1)
            jac[0, 0, k] = b00 * (v / dt) + v * lam0 * theta
            jac[0, 1, k] = b01 * (v / dt)
            jac[1, 0, k] = b10 * (v / dt)
            jac[1, 1, k] = b11 * (v / dt) + v * lam1 * theta


@numba.njit(cache=True)
def _block_sgs_solve(ptr0, idx0, val0, ptr1, idx1, val1, diag0, diag1, j00, j01, j10, j11, rhs0,
                     rhs1, x0, x1, cells, rtol, max_sweeps, inv):
    """Solve ``(diag-blocks(J) + blockdiag(A0, A1)) x = rhs`` in place by block SGS.

    ``A0``/``A1`` are the diffusion operators of the two species, given by their
    diagonals ``diag0``/``diag1`` and their off-diagonal entries (CSR, constant), ``j..``
    the per-cell 2x2 local (storage/sorption/decay) Jacobian blocks. One sweep is a
    forward then a backward Gauss–Seidel pass in which every cell's two unknowns are
    solved exactly from its 2x2 block (inverted once per solve, into ``inv`` (4, n_cells))
    with the neighbours' latest values. Only the cells listed in ``cells`` (sorted) are
    unknowns; the others keep their value in ``x`` (here 0).

    Stops when the error left, bounded by the largest update of the sweep ``u`` times
    ``min(1, q^2 / (1 - q^2))``, is <= ``rtol`` times the largest |x|: ``q`` is the largest
    over the cells of ``|| |B_k^-1| (d0_k, d1_k) ||_inf`` (``B_k``: the cell's 2x2 block with
    the operators' diagonals ``d``, which equal the sums of its off-diagonal couplings), a
    bound of each Gauss–Seidel pass's contraction in the max norm, so ``q^2`` bounds a
    sweep's. Storage-dominated steps have ``q`` ~ 1e-2: one sweep reaches ``rtol`` ~ 1e-4.
    Returns the number of sweeps, or -1 when ``max_sweeps`` were not enough.
    """
    m = cells.shape[0]
    q = 0.0
    for kk in range(m):
        k = cells[kk]
        d0 = diag0[k]
        d1 = diag1[k]
        a = j00[k] + d0
        b = j01[k]
        c = j10[k]
        d = j11[k] + d1
        det = a * d - b * c
        inv[0, k] = d / det
        inv[1, k] = -b / det
        inv[2, k] = -c / det
        inv[3, k] = a / det
        ad = abs(det)
        q = max(q, (abs(d) * d0 + abs(b) * d1) / ad, (abs(c) * d0 + abs(a) * d1) / ad)
    q2 = q * q
    factor = q2 / (1.0 - q2) if q2 < 0.5 else 1.0
    for sweep in range(max_sweeps):
        upd = 0.0
        for direction in range(2):
            for kk in range(m):
                k = cells[kk] if direction == 0 else cells[m - 1 - kk]
                r0 = rhs0[k]
                for p in range(ptr0[k], ptr0[k + 1]):
                    r0 -= val0[p] * x0[idx0[p]]
                r1 = rhs1[k]
                for p in range(ptr1[k], ptr1[k + 1]):
                    r1 -= val1[p] * x1[idx1[p]]
                y0 = inv[0, k] * r0 + inv[1, k] * r1
                y1 = inv[2, k] * r0 + inv[3, k] * r1
                u = abs(y0 - x0[k])
                if u > upd:
                    upd = u
                u = abs(y1 - x1[k])
                if u > upd:
                    upd = u
                x0[k] = y0
                x1[k] = y1
        xmax = 1e-300
        for kk in range(m):
            k = cells[kk]
            if abs(x0[k]) > xmax:
                xmax = abs(x0[k])
            if abs(x1[k]) > xmax:
                xmax = abs(x1[k])
        if upd * factor <= rtol * xmax:
            return sweep + 1
    return -1

"""DOC diffusion in the water phase: backward Euler on the shared voxel operator.

Units: µm, h, fg C; DOC is held as mass per voxel [fg C].

The operator is :func:`rhizoscale.solvers.voxel_operator.face_conductances` on the water
voxels (harmonic-mean face conductances, every other voxel a no-flux wall, closed outer
box), stored as a :class:`rhizoscale.solvers.Stencil`; no other diffusion operator exists
in this package.

Why implicit: at pore scale the explicit limit is ``dt <= h^2 / (6 D)``; for glucose in
water (D ~ 2.4e6 µm^2 h^-1) and 10 µm voxels that is 2.5e-5 h (0.09 s), while bacterial
growth needs steps of minutes. Backward Euler is unconditionally stable and keeps
``c >= 0`` (its matrix is an M-matrix), so the step is chosen for the biology; its error
is first order in ``dt`` and small where diffusion equilibrates a pore within a step.

Preconditioner of the geometric solver: the shared multigrid V/W-cycle plus an exact
coarse space of the water clusters. Partly saturated pore space falls apart into many
clusters (293 at 128^3 and half saturation); for each connected cluster ``k`` the
indicator ``1_k`` is an exact eigenvector, ``A 1_k = (V/dt) 1_k`` (closed walls, every
face flux cancels), with an eigenvalue far below the others when ``D dt / h^2 >> 1``, and
box-coarsening multigrid, which merges neighbouring clusters, represents these modes
badly. Adding the exact coarse solve on them, ``z += sum_k(r) / (n_k V/dt) 1_k`` (an
additive two-level preconditioner, still symmetric positive definite), cut the CG
iterations from 73 to 20 at 128^3 (from 45 to 17 at 64^3) in the benchmark packing.

Initial guess: the mean old concentration of each connected water cluster. Summing the
system over a cluster (every face flux cancels) shows that the solution keeps each
cluster's mean exactly, so this guess is exact on the near-null space that makes the solve
hard, and the rest of the error is what diffusion damps within the step. The old
concentration itself was a poor guess where cells deplete DOC: its residual ``-A c_old``
is ``D dt / h^2`` (2400) times a Laplacian of the uptake holes, 3e3 times the right-hand
side at 128^3 with 1e6 cells, against 0.43 for the cluster means (CG iterations 21 -> 17
geometric, 11 -> 9 algebraic). A warm start from the last solve's change (``x_{n-1} -
c_{n-1}``) was worse than both there (the uptake pattern changes between steps).

Two solvers of the same backward-Euler system (``solver``):

* ``"amg"`` (default): the operator on the water voxels only, as the CSR matrix of the
  same shared operator (:func:`rhizoscale.solvers.voxel_operator.assemble_csr`), plus
  ``V / dt`` on the diagonal, solved by CG (float64, pyamg's ``cg``, relative residual
  ``rtol``) preconditioned by one V-cycle of classical (Ruge-Stueben) algebraic multigrid
  held in float32 (pyamg, one thread); the hierarchy is built once per lattice and step
  length (1.4 s of CPU at 128^3) and reused. Unknowns off the water (80 % of a
  half-saturated packing) are not stored and the algebraic coarsening follows the films.
  Where the time goes (128^3, half saturation, D dt / h^2 = 2400, 1e6 cells, 419 430
  water unknowns): a cycle costs about 20 fine-matrix products (operator complexity 2.35,
  a symmetric Gauss-Seidel sweep before and after); float32 cut the cycle from 0.130 to
  0.077 s of CPU at the same iteration count; smoothed aggregation (13 iterations),
  Jacobi smoothing (12) and a stronger threshold (16) were all slower. Paired in one
  process on the loaded 2-core machine (load 12-13), 2 Numba threads, rtol 1e-6: 9
  iterations, 3.0 s wall / 1.2 s CPU per solve against the former default (geometric,
  old-concentration guess) 21 iterations, 6.2 s / 2.3 s.
* ``"geometric"``: the shared matrix-free multigrid on the full grid (Numba threads) with
  the cluster coarse space above (17 iterations at 128^3 with the cluster-mean guess,
  5.1 s / 1.9 s in the same comparison).

Why not explicit: the stable explicit step ``h^2 / (6 D)`` is 6.9e-6 h for 10 µm voxels
(1.7e-6 h for 5 µm); an agent step of 0.1 h would need 14 500 (58 000) explicit sweeps over
the water voxels, each at least one memory pass over them, against 10-20 multigrid cycles:
explicit is 50-100 times more work at the agent step.

Mass to round-off: the implicit solution ``x`` is found by multigrid-preconditioned CG
(:func:`rhizoscale.solvers.pcg`) to a relative residual ``rtol``; the new masses are then
evaluated in flux form, ``m_new = m_old - dt A x``, whose sum equals the old sum to
round-off whatever the solver's residual (every face flux cancels). Negative values the
residual may leave (of order ``rtol`` times the largest mass) are set to 0 and their
(tiny) total taken from the positive voxels in proportion to their mass.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..solvers import Multigrid, PCGWorkspace, Stencil, pcg
from ..solvers.krylov import ConvergenceError
from ..solvers.voxel_operator import CLOSED, assemble_csr, face_conductances

__all__ = ["DOCDiffusion", "ClusterCorrectedMultigrid"]



_BLAS = []


def _one_blas_thread():
    """A context in which BLAS (NumPy's and SciPy's OpenBLAS) runs on one thread.

    The CG's dot products and norms go to BLAS, which by default starts a thread per core
    for vectors this long; those threads then spin after each call and take the cores
    from the Numba agent kernel and from pyamg's (single-threaded) smoother. On the loaded
    2-core machine (load 8-10; 128^3, 1e6 cells, 2 Numba threads, 18 agent steps and 2
    solves): BLAS held at one thread for the whole process made the run 2.4 times faster
    than the default (one pair: diffusion 2.7 times, agents 2.2 times); with this context
    the whole-process setting no longer changes anything (two pairs, ratios 1.01 and
    1.07). Without threadpoolctl the context does nothing."""
    if not _BLAS:
        try:
            import scipy.linalg  # noqa: F401  (loads SciPy's BLAS, so that the limit covers it)
            from threadpoolctl import ThreadpoolController
            _BLAS.append(ThreadpoolController())
        except ImportError:                  # pragma: no cover - optional speed-up
            _BLAS.append(None)
    if _BLAS[0] is None:                     # pragma: no cover
        from contextlib import nullcontext
        return nullcontext()
    return _BLAS[0].limit(limits=1, user_api="blas")


def _clip_negative(new: np.ndarray) -> None:
    """Set round-off negatives to 0 in place and take their mass from the rest in
    proportion (the total is kept)."""
    negative = new < 0.0
    if negative.any():
        deficit = -float(new[negative].sum())
        new[negative] = 0.0
        total = float(new.sum())
        if total > 0:
            new *= 1.0 - deficit / total

class ClusterCorrectedMultigrid:
    """Multigrid plus the exact coarse solve on the connected water clusters (see the
    module docs): ``apply(r, out)`` writes ``z = MG(r) + sum_k 1_k (1_k . r) / (s n_k)``
    and returns ``r . z``.

    Parameters
    ----------
    mg : rhizoscale.solvers.Multigrid
    water : bool array (the stencil's stored shape or the image shape, same C order)
    """

    def __init__(self, mg: Multigrid, water: np.ndarray):
        self.mg = mg
        labels, n = ndimage.label(water)               # face connectivity, as the operator
        self.labels = labels.ravel()
        self.sizes = np.bincount(self.labels, minlength=n + 1).astype(float)
        self.sizes[0] = np.inf                          # not water: no correction
        self.n_clusters = int(n)
        self.shift = None

    def set_shift(self, shift: float) -> None:
        self.mg.set_shift(shift)
        self.shift = float(shift)

    def apply(self, r: np.ndarray, out: np.ndarray) -> float:
        self.mg.apply(r, out)
        sums = np.bincount(self.labels, weights=r.ravel(), minlength=self.sizes.size)
        out += (sums / (self.shift * self.sizes))[self.labels].reshape(out.shape)
        return float(np.vdot(r, out))


class DOCDiffusion:
    """Implicit (backward Euler) DOC diffusion restricted to the water voxels.

    Parameters
    ----------
    water : bool array (nz, ny, nx)
        Voxels that hold water.
    voxel_size : float
        Cubic voxel edge [µm].
    diffusivity : float
        DOC diffusion coefficient in water [µm^2 h^-1].
    rtol : float
        Relative residual of the CG solve (relative to ``V c_old / dt``: the concentration
        error it leaves is about ``rtol`` times the concentrations; the mass balance is
        exact whatever ``rtol``).
    solver : {"amg", "geometric"}
        Algebraic multigrid on the water voxels (default), or the geometric multigrid on
        the full grid (module docs).

    Examples
    --------
    A mass in the middle of a water-filled box spreads with the variance ``2 D t`` per
    axis (exact for backward Euler on the voxel Laplacian while the walls are far):

    >>> import numpy as np
    >>> water = np.ones((1, 1, 81), bool)
    >>> dif = DOCDiffusion(water, voxel_size=1.0, diffusivity=1.0, rtol=1e-12)
    >>> m = np.zeros(water.shape); m[0, 0, 40] = 1.0
    >>> for _ in range(10):
    ...     m = dif.step(m, 0.5)
    >>> x = np.arange(81) - 40.0
    >>> round(float((m[0, 0] * x**2).sum()), 6), round(float(m.sum()), 12)
    (10.0, 1.0)
    """

    def __init__(self, water: np.ndarray, voxel_size: float, diffusivity: float, *,
                 rtol: float = 1e-8, max_iterations: int = 1000, solver: str = "amg"):
        self.water = np.ascontiguousarray(water, dtype=bool)
        self.h = float(voxel_size)
        self.D = float(diffusivity)
        self.V = self.h ** 3
        self.rtol, self.max_iterations = float(rtol), int(max_iterations)
        if solver not in ("amg", "geometric"):
            raise ValueError(f"solver must be 'amg' or 'geometric', got {solver!r}")
        self.solver = solver
        self.iterations = 0
        self.shape = self.water.shape
        self._amg: dict = {}
        self._index = np.flatnonzero(self.water.ravel())
        labels, _ = ndimage.label(self.water)          # face connectivity, as the operator
        self._cluster = labels.ravel()[self._index] - 1
        self._cluster_size = np.bincount(self._cluster).astype(float)
        if solver == "amg":
            d = np.where(self.water, self.D, 0.0)
            # face area / centre distance = h for cubic voxels: conductances in µm^3 h^-1
            self.matrix = assemble_csr(d, self.h, self.water, None, CLOSED).matrix
            return
        d = np.where(self.water, self.D, 0.0)
        # face area / centre distance = h for cubic voxels: conductances in µm^3 h^-1
        cx, cy, cz, g = face_conductances(d, self.h, self.water, None, CLOSED, np.float64)
        self.stencil = Stencil(cx, cy, cz, g, self.water.astype(np.uint8))
        self._mg = None

    def _multigrid(self) -> ClusterCorrectedMultigrid:
        if self._mg is None:
            mg = Multigrid(self.stencil, fine_dtype=np.float32, coarse_dtype=np.float32,
                           fine_vector_dtype=np.float32, cycles=2)
            self._mg = ClusterCorrectedMultigrid(mg, self.water)
            st = self.stencil.shape
            self._rhs, self._x, self._ax = np.zeros(st), np.zeros(st), np.zeros(st)
            self._ws = PCGWorkspace(st)
        return self._mg

    def explicit_limit(self) -> float:
        """Largest stable explicit step ``h^2 / (6 D)`` [h] (for reference only)."""
        return self.h ** 2 / (6.0 * self.D) if self.D > 0 else np.inf

    def _hierarchy(self, dt: float):
        """Ruge-Stueben hierarchy of ``V/dt I + A`` on the water voxels (kept per ``dt``),
        in float32, and the float64 system matrix: ``(system, preconditioner)``."""
        key = float(dt)
        if key not in self._amg:
            import pyamg
            import scipy.sparse as sp
            from scipy.sparse.linalg import LinearOperator
            n = self.matrix.shape[0]
            system = (self.matrix + sp.identity(n, format="csr") * (self.V / dt)).tocsr()
            if len(self._amg) >= 2:          # a last, shorter step: keep the usual one
                self._amg.pop(next(iter(self._amg)))
            ml = pyamg.ruge_stuben_solver(system.astype(np.float32), max_coarse=500,
                                          coarse_solver="splu")
            cycle = ml.aspreconditioner()
            precond = LinearOperator(system.shape, dtype=np.float64,
                                     matvec=lambda r: cycle @ r.astype(np.float32))
            self._amg[key] = (system, precond)
        return self._amg[key]

    def _guess(self, c_old: np.ndarray) -> np.ndarray:
        """Initial guess on the water voxels: the mean old concentration of each connected
        water cluster, the exact solution's cluster means (module docs)."""
        means = np.bincount(self._cluster, weights=c_old) / self._cluster_size
        return means[self._cluster]

    def _step_amg(self, mass: np.ndarray, dt: float) -> np.ndarray:
        flat = mass.ravel()
        m_old = flat[self._index]
        from pyamg.krylov import cg
        system, precond = self._hierarchy(dt)
        residuals = []
        c_old = m_old / self.V
        x, _ = cg(system, m_old / dt, x0=self._guess(c_old), tol=self.rtol, criteria="rr",
                  maxiter=self.max_iterations, M=precond, residuals=residuals)
        iterations = max(len(residuals) - 1, 0)
        if residuals and residuals[-1] > self.rtol * max(float(np.linalg.norm(m_old / dt)), 1e-300):
            raise ConvergenceError(f"the DOC diffusion step did not converge in {iterations} "
                                   f"iterations (relative residual {residuals[-1]:.1e})")
        self.iterations += iterations
        new_w = m_old - dt * (self.matrix @ x)           # flux form: the sum is kept
        _clip_negative(new_w)
        new = np.zeros(flat.size)
        new[self._index] = new_w
        return new.reshape(mass.shape)

    def step(self, mass: np.ndarray, dt: float) -> np.ndarray:
        """Masses [fg C per voxel] after ``dt`` [h] of diffusion (a new array).

        ``mass`` must be 0 off the water voxels; the result is too.
        """
        if self.D == 0.0 or dt <= 0.0:
            return mass.copy()
        with _one_blas_thread():
            if self.solver == "amg":
                return self._step_amg(mass, dt)
            return self._step_geometric(mass, dt)

    def _step_geometric(self, mass: np.ndarray, dt: float) -> np.ndarray:
        mg = self._multigrid()
        st = self.stencil
        shape = st.shape
        m_old = mass.reshape(shape)
        shift = self.V / dt
        mg.set_shift(shift)
        np.multiply(m_old, 1.0 / dt, out=self._rhs)          # (V/dt) c_old, c = m / V
        c_old = m_old.ravel()[self._index] / self.V
        self._x.fill(0.0)
        self._x.ravel()[self._index] = self._guess(c_old)
        self.iterations += pcg(st, mg, self._rhs, self._x, rtol=self.rtol, maxiter=self.max_iterations,
                               shift=shift, workspace=self._ws, what="the DOC diffusion step")
        st.matvec(self._x, self._ax, 0.0)                    # A x: net outflow [fg C h^-1]
        new = m_old - dt * self._ax
        new[~self.water.reshape(shape)] = 0.0
        _clip_negative(new)
        return new.reshape(mass.shape)

"""Implicit time stepping of ``V dc/dt = -K c + g c_D`` with AMG-preconditioned CG.

Scheme
------
Variable-step BDF2, started with one backward-Euler step. The boundary value jumps from
0 to ``c_D`` at t = 0, so the solution has an initial layer that Crank–Nicolson (A- but
not L-stable) would turn into slowly decaying oscillations near the root surface; BDF2
is L-stable (stiff components are damped), second order for smooth solutions, and
stable for step ratios below 1 + sqrt(2). Steps grow geometrically (default ratio 1.25)
from a first step of a fraction of the voxel diffusion time ``h^2 / D``: the solution
of a fixed-boundary diffusion problem varies on the time scale ``t`` itself, so a
constant relative step ``dt / t`` gives uniform relative accuracy with ``O(log)`` steps.

Mass balance
------------
Summing the discrete equations over all unknowns cancels every interior face flux, so
``sum_i V (a0 c_i^{n+1} + a1 c_i^n + a2 c_i^{n-1}) = dt F^{n+1}`` with the source-face
flux ``F = sum g (c_D - c)``. Integrating ``dM/dt = F`` with the same BDF2 formula
therefore reproduces the mass in the domain up to the linear-solver tolerance; the
solver reports both (``mass_from_flux`` and ``mass_in_domain``) and their difference.

Linear solves
-------------
The matrix ``a0 V / dt + K`` changes with ``dt`` only on its diagonal. A smoothed-
aggregation AMG hierarchy (pyamg) is built for a reference step and reused as the CG
preconditioner while ``dt`` stays within a factor ``amg_reuse_ratio`` of it; while
``D dt / h^2`` is small the matrix is diagonally dominant and Jacobi-CG converges in a
few iterations, so no hierarchy is built. The initial guess is the linear extrapolation
of the last two states.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import InputError, RhizoscaleError
from .finite_volume import VoxelDiffusionOperator

__all__ = ["box_aggregates", "geometric_time_steps", "TransientResult", "solve_transient",
           "SourceDiffusionModel", "CSRSystem", "SnapshotRecorder", "integrate_source_diffusion"]


def geometric_time_steps(t_end: float, first_step: float, growth: float = 1.25,
                         max_step: float | None = None) -> np.ndarray:
    """Output times ``t_1 < ... < t_N = t_end`` with steps growing by ``growth`` [s].

    Parameters
    ----------
    t_end : float
        End time [s].
    first_step : float
        First step [s].
    growth : float
        Ratio of successive steps (1 gives constant steps; must be < 1 + sqrt(2) for
        BDF2 stability).
    max_step : float, optional
        Upper bound on a step [s].

    Returns
    -------
    numpy.ndarray
        Step end times [s], increasing, the last one ``t_end`` exactly (a last step
        shorter than a fifth of the one before is merged into it).

    Examples
    --------
    >>> geometric_time_steps(10.0, 1.0, growth=2.0)
    array([ 1.,  3.,  7., 10.])
    >>> times = geometric_time_steps(100.0, 0.1)
    >>> times.size, times[:3]
    (25, array([0.1    , 0.225  , 0.38125]))
    """
    if not (t_end > 0 and first_step > 0):
        raise InputError("t_end and first_step must be positive", source="time steps")
    if not (1.0 <= growth < 1 + np.sqrt(2)):
        raise InputError(f"growth must be in [1, 2.414), got {growth}", source="time steps",
                         field="growth")
    times = []
    t, dt = 0.0, first_step
    while t < t_end * (1 - 1e-12):
        step = min(dt, max_step) if max_step else dt
        if t + step > t_end or t_end - (t + step) < 0.2 * step:
            step = t_end - t
        t += step
        times.append(t)
        dt *= growth
    times = np.asarray(times)
    times[-1] = t_end
    return times


@dataclass
class TransientResult:
    """Time history of a transient source-face diffusion solve.

    Attributes
    ----------
    times : (N+1,) array
        Times including 0 [s].
    mass_in_domain : (N+1,) array
        ``sum V c`` [µg].
    mass_from_flux : (N+1,) array
        Time integral (BDF2 quadrature) of the source-face flux [µg].
    flux : (N+1,) array
        Source-face flux ``F = sum g (c_D - c)`` at each time [µg s^-1] (the value at t=0
        is the unbounded initial flux; it is reported as NaN).
    concentration : (n,) array
        Final concentration of the unknowns [µg cm^-3].
    iterations : (N,) int array
        CG iterations per step.
    snapshots : dict of float to (n,) array
        Concentration of the unknowns [µg cm^-3] at the requested snapshot times [s].
    stats : dict
        Timings, preconditioner builds, solver tolerance.

    Examples
    --------
    See :func:`solve_transient`, which returns one. Built by hand:

    >>> import numpy as np
    >>> r = TransientResult(times=np.array([0.0, 1.0]), mass_in_domain=np.array([0.0, 2.0]),
    ...                     mass_from_flux=np.array([0.0, 2.0 + 1e-9]), flux=np.array([np.nan, 2.0]),
    ...                     concentration=np.ones(2), iterations=np.array([3]))
    >>> round(r.mass_balance_error, 12)
    5e-10
    """

    times: np.ndarray
    mass_in_domain: np.ndarray
    mass_from_flux: np.ndarray
    flux: np.ndarray
    concentration: np.ndarray
    iterations: np.ndarray
    snapshots: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    @property
    def mass_balance_error(self) -> float:
        """``max(abs(mass_from_flux - mass_in_domain)) / max(mass_in_domain)`` [1]."""
        scale = max(float(np.max(np.abs(self.mass_in_domain))), 1e-300)
        return float(np.max(np.abs(self.mass_from_flux - self.mass_in_domain)) / scale)


def box_aggregates(unknowns: np.ndarray, shape, max_coarse: int = 500) -> list:
    """Aggregation operators of 2x2x2 voxel boxes, level by level (geometric AMG).

    On a voxel grid the unknowns in one 2x2x2 box form an aggregate; the Galerkin product
    of a 7-point operator with such piecewise-constant aggregates is again a 7-point
    operator on the coarse voxel grid. This replaces pyamg's strength-of-connection and
    greedy aggregation, the most expensive part of its setup, by index arithmetic.

    Parameters
    ----------
    unknowns : (n,) int array
        Flat (C-order) voxel indices of the unknowns.
    shape : tuple of int
        Image shape (z, y, x).
    max_coarse : int
        Stop coarsening once a level has at most this many unknowns.

    Returns
    -------
    list of scipy.sparse.csr_matrix
        One ``(n_fine, n_coarse)`` 0/1 aggregation matrix per level, finest first.

    References
    ----------
    .. [1] Vaněk, P., Mandel, J., & Brezina, M. (1996). Algebraic multigrid by smoothed
       aggregation for second and fourth order elliptic problems. Computing, 56, 179-196.

    Examples
    --------
    A 4x4x4 grid: 64 voxels -> 8 boxes -> 1:

    >>> import numpy as np
    >>> [a.shape for a in box_aggregates(np.arange(64), (4, 4, 4), max_coarse=4)]
    [(64, 8), (8, 1)]
    """
    aggs = []
    shape = tuple(int(s) for s in shape)
    while unknowns.size > max_coarse and max(shape) > 1:
        coords = np.unravel_index(unknowns, shape)
        shape = tuple((s + 1) // 2 for s in shape)
        coarse = np.ravel_multi_index(tuple(c // 2 for c in coords), shape)
        unknowns, inverse = np.unique(coarse, return_inverse=True)
        aggs.append(sp.csr_matrix((np.ones(inverse.size), (np.arange(inverse.size), inverse)),
                                  shape=(inverse.size, unknowns.size)))
    return aggs


def _amg(A, op):
    import pyamg
    aggs = box_aggregates(op.unknowns, op.shape)
    if not aggs:
        diag = A.diagonal()
        return spla.LinearOperator(A.shape, matvec=lambda r: r / diag, dtype=float)
    ml = pyamg.smoothed_aggregation_solver(
        A, aggregate=[("predefined", {"AggOp": a}) for a in aggs], max_levels=len(aggs) + 1,
        max_coarse=1, smooth=None, improve_candidates=None,
        presmoother=("gauss_seidel", {"sweep": "symmetric"}),
        postsmoother=("gauss_seidel", {"sweep": "symmetric"}), keep=False)
    return ml.aspreconditioner(cycle="V")


def check_time_steps(times, c_dirichlet: float) -> np.ndarray:
    """The output times as a float array; InputError unless increasing and positive.

    Parameters
    ----------
    times : sequence of float
        Step end times [s].
    c_dirichlet : float
        Source concentration [µg cm^-3] (must be finite).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> check_time_steps([1, 2, 4], 1.0)
    array([1., 2., 4.])
    >>> check_time_steps([1, 1], 1.0)
    Traceback (most recent call last):
    ...
    rhizoscale.errors.InputError: time steps: times must be positive and strictly increasing
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size == 0 or np.any(np.diff(np.r_[0.0, times]) <= 0):
        raise InputError("times must be positive and strictly increasing", source="time steps")
    if not np.isfinite(c_dirichlet):
        raise InputError("the source concentration must be finite", source="diffusion",
                         field="c_in")
    return times


def bdf2_coefficients(dt: float, dt_prev: float | None) -> tuple[float, float, float, float]:
    """``(a0, a1, a2, extrapolation)`` of variable-step BDF2 (backward Euler first).

    ``a0 c_n + a1 c_{n-1} + a2 c_{n-2} = dt f(c_n)``; the initial guess of the step is
    ``c_{n-1} + extrapolation (c_{n-1} - c_{n-2})``.

    Parameters
    ----------
    dt : float
        This step [s].
    dt_prev : float or None
        The previous step [s]; None for the first step (backward Euler).

    Returns
    -------
    tuple of float
        ``(a0, a1, a2, extrapolation)``.

    References
    ----------
    Hairer, E., & Wanner, G. (1996). Solving Ordinary Differential Equations II, 2nd ed.,
    Springer (variable-step BDF).

    Examples
    --------
    Backward Euler, constant-step BDF2 (3/2, -2, 1/2) and a step twice the previous one:

    >>> bdf2_coefficients(1.0, None), bdf2_coefficients(1.0, 1.0)
    ((1.0, -1.0, 0.0, 0.0), (1.5, -2.0, 0.5, 1.0))
    >>> [round(v, 4) for v in bdf2_coefficients(2.0, 1.0)]
    [1.6667, -3.0, 1.3333, 2.0]
    """
    if dt_prev is None:
        return 1.0, -1.0, 0.0, 0.0
    w = dt / dt_prev
    return (1 + 2 * w) / (1 + w), -(1 + w), w * w / (1 + w), w


class CSRSystem:
    """Linear systems of the implicit step on an assembled CSR operator (the readable path).

    ``(a0 V / dt + K) c = g c_D - (V / dt)(a1 c_old + a2 c_prev)`` solved by scipy CG,
    Jacobi-preconditioned while ``D dt / h^2`` is small, else preconditioned by a
    geometric-aggregation AMG hierarchy (pyamg) built for a reference step and reused
    while ``dt`` stays within a factor ``amg_reuse_ratio`` of it.

    Parameters
    ----------
    op : VoxelDiffusionOperator
        The assembled operator.
    c_dirichlet : float
        Concentration held on the source faces [µg cm^-3].
    rtol : float
        Relative residual of each CG solve.
    amg_reuse_ratio : float
        Rebuild the AMG hierarchy when ``dt`` leaves ``[dt_ref / r, dt_ref * r]``.
    jacobi_below : float
        Jacobi-CG while the diffusion number of the stiffest cell is below this.
    max_iterations : int
        CG iteration cap per step.

    References
    ----------
    .. [1] Olson, L. N., & Schroder, J. B. (2018). PyAMG: Algebraic multigrid solvers in
       Python v4.0. https://github.com/pyamg/pyamg

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.diffusion.finite_volume import assemble_voxel_diffusion
    >>> D, h = 1e-5, 0.01                           # [cm^2 s^-1], [cm]
    >>> diffusivity = np.full((1, 1, 60), D)        # a strip of 60 voxels ...
    >>> source = np.zeros(diffusivity.shape, bool)
    >>> source[..., 0] = True                       # ... fed from its first one
    >>> op = assemble_voxel_diffusion(diffusivity, source, h)
    >>> system = CSRSystem(op, c_dirichlet=1.0)
    >>> system.zeros().shape                        # one unknown per conducting voxel
    (59,)
    >>> model = SourceDiffusionModel(system, op.voxel_volume)
    >>> model.advance_to(1.0)                       # one backward-Euler step of 1 s
    >>> model.iterations, round(float(model.concentration[0]), 4)
    ([8], 0.1548)
    """

    def __init__(self, op: VoxelDiffusionOperator, c_dirichlet: float, *, rtol: float = 1e-8,
                 amg_reuse_ratio: float = 6.0, jacobi_below: float = 0.5, max_iterations: int = 2000):
        self.op = op
        self.c_dirichlet = float(c_dirichlet)
        self.rtol, self.amg_reuse_ratio = rtol, amg_reuse_ratio
        self.jacobi_below, self.max_iterations = jacobi_below, max_iterations
        self.V = op.voxel_volume
        self.Kdiag = op.stiffness.data[op.diagonal_position].copy()
        self.A = op.stiffness.copy()
        self.b_src = op.dirichlet_conductance * self.c_dirichlet
        self.stiff = float(self.Kdiag.max()) / self.V if op.n else 0.0
        self.precond, self.dt_ref, self.a0_ref = None, None, None
        self.stats = {"amg_builds": 0, "amg_setup_s": 0.0, "solve_s": 0.0}

    def zeros(self) -> np.ndarray:
        return np.zeros(self.op.n)

    def gather(self, c: np.ndarray) -> np.ndarray:
        return c

    def _build(self, dt_ref: float, a0: float) -> None:
        t0 = time.perf_counter()
        A_ref = self.op.stiffness.copy()
        A_ref.data[self.op.diagonal_position] = self.Kdiag + a0 * self.V / dt_ref
        self.precond = _amg(A_ref, self.op)
        self.dt_ref, self.a0_ref = dt_ref, a0
        self.stats["amg_builds"] += 1
        self.stats["amg_setup_s"] += time.perf_counter() - t0

    def solve_step(self, t, dt, a0, a1, a2, extrap, c_old, c_prev):
        """One implicit step; returns ``(c_new, iterations, sum c_new, source-face flux)``."""
        V, n = self.V, self.op.n
        self.A.data[self.op.diagonal_position] = self.Kdiag + a0 * V / dt
        rhs = self.b_src - (V / dt) * (a1 * c_old + a2 * c_prev)
        guess = c_old + extrap * (c_old - c_prev) if extrap else c_old
        if self.stiff * dt / a0 < self.jacobi_below:
            diag = self.A.data[self.op.diagonal_position]
            M = spla.LinearOperator((n, n), matvec=lambda r, d=diag: r / d, dtype=float)
        else:
            r = self.amg_reuse_ratio
            if self.precond is None and self.dt_ref is not None:
                self._build(self.dt_ref, self.a0_ref)      # resumed: the same hierarchy as before
            if self.precond is None or not (self.dt_ref / r <= dt <= self.dt_ref * r):
                # build for a step a little ahead so that a growing sequence reuses it longer
                self._build(dt * np.sqrt(r), a0)
            M = self.precond
        count = [0]

        def _count(_x):
            count[0] += 1

        t0 = time.perf_counter()
        c_new, info = spla.cg(self.A, rhs, x0=guess, rtol=self.rtol, atol=0.0, M=M, callback=_count,
                              maxiter=self.max_iterations)
        self.stats["solve_s"] += time.perf_counter() - t0
        if info != 0:
            raise RuntimeError(f"CG did not converge at t = {t:g} s ({count[0]} iterations)")
        F = float(np.dot(self.op.dirichlet_conductance, self.c_dirichlet - c_new))
        return c_new, count[0], float(c_new.sum()), F

    def checkpoint_state(self) -> dict:
        none = self.dt_ref is None
        return {"dt_ref": np.nan if none else self.dt_ref, "a0_ref": np.nan if none else self.a0_ref}

    def restore_state(self, state: dict) -> None:
        d = float(state["dt_ref"])
        self.dt_ref = None if np.isnan(d) else d
        self.a0_ref = None if np.isnan(d) else float(state["a0_ref"])
        self.precond = None


class SourceDiffusionModel:
    """``V dc/dt = -K c + g (c_D - c)`` from ``c = 0``: variable-step BDF2, one implementation.

    The model of case study 3 (and of any voxel problem with a source held at ``c_D``):
    state, time stepping and the mass ledger; the linear algebra of each step is the
    ``system``'s (:class:`CSRSystem`, the readable reference, or
    :class:`rhizoscale.diffusion.matrix_free.MultigridSystem`, the fast path), which
    solve the same discrete equations. Run it with a
    :class:`~rhizoscale.simulation.Simulation` (``time_steps`` from
    :func:`geometric_time_steps`); checkpoints hold the two BDF2 levels, the previous
    step and the mass ledger, so a resumed run continues bit-identically.

    Parameters
    ----------
    system : CSRSystem or MultigridSystem
        Assembled operator and linear solver.
    voxel_volume : float
        [cm^3].

    Attributes
    ----------
    time : float
        Current time [s].
    concentration : (n,) array
        Current concentration of the unknowns [µg cm^-3].

    References
    ----------
    .. [1] Hairer, E., & Wanner, G. (1996). Solving Ordinary Differential Equations II:
       Stiff and Differential-Algebraic Problems, 2nd ed., Springer (BDF methods,
       variable steps).

    Examples
    --------
    Diffusion into a strip from its first voxel, stepped by a Simulation with a snapshot;
    the mass that entered matches the plane solution ``2 c_s sqrt(D t / pi)``:

    >>> import numpy as np
    >>> from rhizoscale.diffusion.finite_volume import assemble_voxel_diffusion
    >>> D, h = 1e-5, 0.01                           # [cm^2 s^-1], [cm]
    >>> diffusivity = np.full((1, 1, 60), D)        # a strip of 60 voxels ...
    >>> source = np.zeros(diffusivity.shape, bool)
    >>> source[..., 0] = True                       # ... fed from its first one
    >>> op = assemble_voxel_diffusion(diffusivity, source, h)
    >>> from rhizoscale.simulation import Simulation, SpecifiedTimes
    >>> times = geometric_time_steps(100.0, 0.1)    # [s]
    >>> model = SourceDiffusionModel(CSRSystem(op, 1.0), op.voxel_volume)
    >>> sim = Simulation(model, stop_time=100.0, time_steps=times, name="strip")
    >>> snapshots = SnapshotRecorder()
    >>> sim.add_callback("snapshots", snapshots, SpecifiedTimes([times[10]]))
    >>> _ = sim.run()
    >>> result = model.result()
    >>> round(float(result.mass_in_domain[-1] / op.dirichlet_area), 5)     # [µg cm^-2]
    0.03553
    >>> from rhizoscale.diffusion.analytic import plane_uptake
    >>> round(float(plane_uptake(100.0, D)), 5)
    0.03568
    >>> result.mass_balance_error < 1e-6
    True
    """

    def __init__(self, system, voxel_volume: float):
        self.system = system
        self._failed_step = False
        self.V = float(voxel_volume)
        self.c_old = system.zeros()
        self.c_prev = system.zeros()
        self.time = 0.0
        self.dt_prev = None
        self.times, self.mass_from_flux, self.mass_in_domain = [0.0], [0.0], [0.0]
        self.flux, self.iterations = [np.nan], []

    def advance_to(self, t: float) -> None:
        """One BDF2 step from ``time`` to ``t`` [s]."""
        if self._failed_step:
            raise RhizoscaleError("a failed time step overwrote the model's previous level "
                                  "(restore a checkpoint to continue)")
        dt = t - self.time
        a0, a1, a2, extrap = bdf2_coefficients(dt, self.dt_prev)
        try:
            # the system may overwrite c_prev (it builds the right-hand side there)
            c_new, its, csum, F = self.system.solve_step(t, dt, a0, a1, a2, extrap,
                                                         self.c_old, self.c_prev)
        except BaseException:
            self._failed_step = True
            raise
        # BDF2 quadrature of the face flux: reproduces the mass in the domain exactly
        # (every interior face flux cancels), up to the linear-solver tolerance
        Mf = self.mass_from_flux
        Mf.append((dt * F - a1 * Mf[-1] - a2 * (Mf[-2] if len(Mf) > 1 else 0.0)) / a0)
        self.mass_in_domain.append(self.V * csum)
        self.flux.append(F)
        self.iterations.append(its)
        self.times.append(t)
        # the level that drops out becomes the system's next work array (no allocation)
        spare = self.c_prev
        self.c_prev, self.c_old = self.c_old, c_new
        if hasattr(self.system, "recycle"):
            self.system.recycle(spare)
        self.time, self.dt_prev = t, dt

    @property
    def concentration(self) -> np.ndarray:
        """Current concentration of the unknowns [µg cm^-3] (``op.unknowns`` order)."""
        return self.system.gather(self.c_old)

    def checkpoint_state(self) -> dict:
        if self._failed_step:
            raise RhizoscaleError("a failed time step overwrote the model's previous level: "
                                  "its state cannot be checkpointed")
        return {"time": self.time, "dt_prev": np.nan if self.dt_prev is None else self.dt_prev,
                "c_old": self.c_old, "c_prev": self.c_prev, "times": np.asarray(self.times),
                "mass_from_flux": np.asarray(self.mass_from_flux),
                "mass_in_domain": np.asarray(self.mass_in_domain), "flux": np.asarray(self.flux),
                "iterations": np.asarray(self.iterations, dtype=np.int64),
                "system": self.system.checkpoint_state()}

    def restore_state(self, s: dict) -> None:
        self._failed_step = False
        self.time = float(s["time"])
        self.dt_prev = None if np.isnan(float(s["dt_prev"])) else float(s["dt_prev"])
        self.c_old[...] = s["c_old"]
        self.c_prev[...] = s["c_prev"]
        self.times = [float(v) for v in s["times"]]
        self.mass_from_flux = [float(v) for v in s["mass_from_flux"]]
        self.mass_in_domain = [float(v) for v in s["mass_in_domain"]]
        self.flux = [float(v) for v in s["flux"]]
        self.iterations = [int(v) for v in s["iterations"]]
        self.system.restore_state(s.get("system", {}))

    def result(self, snapshots=None, stats=None) -> TransientResult:
        """The history so far as a :class:`TransientResult`."""
        return TransientResult(
            times=np.asarray(self.times), mass_in_domain=np.asarray(self.mass_in_domain),
            mass_from_flux=np.asarray(self.mass_from_flux), flux=np.asarray(self.flux),
            concentration=self.concentration, iterations=np.asarray(self.iterations),
            snapshots=snapshots or {}, stats={**(stats or {}), **self.system.stats,
                                              "steps": len(self.iterations)})


class SnapshotRecorder:
    """Callback keeping the whole state of a :class:`SourceDiffusionModel` at given times.

    Checkpointable (its snapshots are saved with the simulation's state).

    Attributes
    ----------
    snapshots : dict of float to (n,) array
        Time [s] -> concentration of the unknowns [µg cm^-3].

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.diffusion.finite_volume import assemble_voxel_diffusion
    >>> D, h = 1e-5, 0.01                           # [cm^2 s^-1], [cm]
    >>> diffusivity = np.full((1, 1, 60), D)        # a strip of 60 voxels ...
    >>> source = np.zeros(diffusivity.shape, bool)
    >>> source[..., 0] = True                       # ... fed from its first one
    >>> op = assemble_voxel_diffusion(diffusivity, source, h)
    >>> from rhizoscale.simulation import Simulation, SpecifiedTimes
    >>> sim = Simulation(SourceDiffusionModel(CSRSystem(op, 1.0), op.voxel_volume),
    ...                  stop_time=4.0, time_steps=[1.0, 2.0, 4.0], name="strip")
    >>> recorder = SnapshotRecorder()
    >>> sim.add_callback("snapshots", recorder, SpecifiedTimes([2.0]))
    >>> _ = sim.run()
    >>> list(recorder.snapshots), recorder.snapshots[2.0][:3].round(4)
    ([2.0], array([0.285 , 0.0322, 0.0032]))
    """

    def __init__(self):
        self.snapshots: dict[float, np.ndarray] = {}

    def __call__(self, sim) -> None:
        self.snapshots[float(sim.time)] = sim.model.concentration.copy()

    def checkpoint_state(self) -> dict:
        return {"times": np.asarray(list(self.snapshots), dtype=float),
                **{f"s{i}": v for i, v in enumerate(self.snapshots.values())}}

    def restore_state(self, s: dict) -> None:
        self.snapshots = {float(t): np.asarray(s[f"s{i}"]) for i, t in enumerate(np.atleast_1d(s["times"]))}


def integrate_source_diffusion(system, voxel_volume: float, times: np.ndarray, *, snapshot_times=(),
                               callback=None, stats=None) -> TransientResult:
    """Run a :class:`SourceDiffusionModel` through ``times`` under a Simulation.

    Parameters
    ----------
    system : CSRSystem or MultigridSystem
        Assembled operator and linear solver.
    voxel_volume : float
        [cm^3].
    times : (N,) increasing array
        Step end times [s].
    snapshot_times : sequence of float
        Times (members of ``times``) at which to keep the whole state.
    callback : callable, optional
        ``callback(done, total)`` after every step.
    stats : dict, optional
        Added to the result's ``stats``.

    Returns
    -------
    TransientResult

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.diffusion.finite_volume import assemble_voxel_diffusion
    >>> D, h = 1e-5, 0.01                           # [cm^2 s^-1], [cm]
    >>> diffusivity = np.full((1, 1, 60), D)        # a strip of 60 voxels ...
    >>> source = np.zeros(diffusivity.shape, bool)
    >>> source[..., 0] = True                       # ... fed from its first one
    >>> op = assemble_voxel_diffusion(diffusivity, source, h)
    >>> result = integrate_source_diffusion(CSRSystem(op, 1.0), op.voxel_volume,
    ...                                     geometric_time_steps(100.0, 0.1))
    >>> result.stats["steps"], round(float(result.mass_in_domain[-1] / op.dirichlet_area), 5)
    (25, 0.03553)
    """
    from ..simulation import IterationInterval, Simulation, SpecifiedTimes
    model = SourceDiffusionModel(system, voxel_volume)
    sim = Simulation(model, stop_time=float(times[-1]), time_steps=times, name="source diffusion")
    snaps = SnapshotRecorder()
    if len(snapshot_times):
        sim.add_callback("snapshots", snaps, SpecifiedTimes(snapshot_times))
    if callback is not None:
        sim.add_callback("progress", lambda s: callback(s.iteration, times.size), IterationInterval(1))
    sim.run()
    return model.result(snaps.snapshots, stats)


def solve_transient(op: VoxelDiffusionOperator, c_dirichlet: float, times: np.ndarray, *,
                    rtol: float = 1e-8, amg_reuse_ratio: float = 6.0,
                    jacobi_below: float = 0.5, snapshot_times=(), callback=None,
                    max_iterations: int = 2000) -> TransientResult:
    """Integrate ``V dc/dt = -K c + g c_D`` from ``c = 0`` through ``times``.

    Parameters
    ----------
    op : VoxelDiffusionOperator
        The assembled operator.
    c_dirichlet : float
        Concentration held on the source faces [µg cm^-3].
    times : (N,) increasing array
        Step end times [s] (e.g. from :func:`geometric_time_steps`).
    rtol : float
        Relative residual of each CG solve; the mass balance closes to about this.
    amg_reuse_ratio : float
        Rebuild the AMG hierarchy when ``dt`` leaves ``[dt_ref / r, dt_ref * r]``.
    jacobi_below : float
        Use Jacobi-CG while ``dt * max(K_ii) / (a0 V)``, the diffusion number of the
        stiffest cell, is below this.
    snapshot_times : sequence of float
        Times (members of ``times``) at which to keep the whole state.
    callback : callable, optional
        ``callback(done, total)`` after every step (progress).
    max_iterations : int
        CG iteration cap per step (a solve that does not converge raises).

    Returns
    -------
    TransientResult

    References
    ----------
    .. [1] Crank, J. (1975). The Mathematics of Diffusion, 2nd ed., eq. 3.15 (the plane
       solution of the example).

    Examples
    --------
    A strip of voxels fed from one end is a semi-infinite medium at early times: the
    flux through the source face matches ``c_s sqrt(D / (pi t))``:

    >>> import numpy as np
    >>> from rhizoscale.diffusion.finite_volume import assemble_voxel_diffusion
    >>> D, h = 1e-5, 0.01                           # [cm^2 s^-1], [cm]
    >>> diffusivity = np.full((1, 1, 60), D)        # a strip of 60 voxels ...
    >>> source = np.zeros(diffusivity.shape, bool)
    >>> source[..., 0] = True                       # ... fed from its first one
    >>> op = assemble_voxel_diffusion(diffusivity, source, h)
    >>> result = solve_transient(op, 1.0, geometric_time_steps(100.0, 0.1))
    >>> round(float(result.flux[-1] / op.dirichlet_area), 6)        # [µg cm^-2 s^-1]
    0.000178
    >>> round(float(np.sqrt(D / (np.pi * 100.0))), 6)
    0.000178
    >>> result.mass_balance_error < 1e-6
    True
    """
    times = check_time_steps(times, c_dirichlet)
    system = CSRSystem(op, c_dirichlet, rtol=rtol, amg_reuse_ratio=amg_reuse_ratio,
                       jacobi_below=jacobi_below, max_iterations=max_iterations)
    return integrate_source_diffusion(system, op.voxel_volume, times, snapshot_times=snapshot_times,
                                      callback=callback, stats={"rtol": rtol, "unknowns": op.n})

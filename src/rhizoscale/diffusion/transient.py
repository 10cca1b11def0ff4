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

from ..errors import InputError
from .finite_volume import VoxelDiffusionOperator

__all__ = ["box_aggregates", "geometric_time_steps", "TransientResult", "solve_transient"]


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
    stats : dict
        Timings, preconditioner builds, solver tolerance.
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
        """max |mass_from_flux - mass_in_domain| / max(mass_in_domain) (1)."""
        scale = max(float(np.max(np.abs(self.mass_in_domain))), 1e-300)
        return float(np.max(np.abs(self.mass_from_flux - self.mass_in_domain)) / scale)


def box_aggregates(unknowns: np.ndarray, shape, max_coarse: int = 500) -> list:
    """Aggregation operators of 2x2x2 voxel boxes, level by level (geometric AMG).

    On a voxel grid the unknowns in one 2x2x2 box form an aggregate; the Galerkin product
    of a 7-point operator with such piecewise-constant aggregates is again a 7-point
    operator on the coarse voxel grid. This replaces pyamg's strength-of-connection and
    greedy aggregation, the most expensive part of its setup, by index arithmetic.
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
    """The output times as a float array; InputError unless increasing and positive."""
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
    """
    if dt_prev is None:
        return 1.0, -1.0, 0.0, 0.0
    w = dt / dt_prev
    return (1 + 2 * w) / (1 + w), -(1 + w), w * w / (1 + w), w


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
    """
    times = check_time_steps(times, c_dirichlet)
    n = op.n
    V = op.voxel_volume
    K = op.stiffness
    Kdiag = K.data[op.diagonal_position].copy()
    A = K.copy()
    b_src = op.dirichlet_conductance * c_dirichlet
    snap_set = {float(t) for t in snapshot_times}
    c_old = np.zeros(n)
    c_prev = np.zeros(n)
    M_flux = [0.0]
    M_dom = [0.0]
    flux = [np.nan]
    iters = []
    precond, dt_ref = None, None
    n_builds, t_setup, t_solve = 0, 0.0, 0.0
    snapshots = {}
    stiff = float(Kdiag.max()) / V if n else 0.0
    t_prev, dt_prev = 0.0, None
    for step, t in enumerate(times):
        dt = t - t_prev
        a0, a1, a2, _ = bdf2_coefficients(dt, dt_prev)
        A.data[op.diagonal_position] = Kdiag + a0 * V / dt
        rhs = b_src - (V / dt) * (a1 * c_old + a2 * c_prev)
        guess = c_old if dt_prev is None else c_old + (dt / dt_prev) * (c_old - c_prev)
        use_jacobi = stiff * dt / a0 < jacobi_below
        t0 = time.perf_counter()
        if use_jacobi:
            diag = A.data[op.diagonal_position]
            M = spla.LinearOperator((n, n), matvec=lambda r, d=diag: r / d, dtype=float)
        else:
            if precond is None or not (dt_ref / amg_reuse_ratio <= dt <= dt_ref * amg_reuse_ratio):
                # build for a step a little ahead so that a growing sequence reuses it longer
                dt_ref = dt * np.sqrt(amg_reuse_ratio)
                A_ref = K.copy()
                A_ref.data[op.diagonal_position] = Kdiag + a0 * V / dt_ref
                precond = _amg(A_ref, op)
                del A_ref
                n_builds += 1
                t_setup += time.perf_counter() - t0
                t0 = time.perf_counter()
            M = precond
        count = [0]

        def _count(_x):
            count[0] += 1

        c_new, info = spla.cg(A, rhs, x0=guess, rtol=rtol, atol=0.0, M=M, callback=_count,
                              maxiter=max_iterations)
        t_solve += time.perf_counter() - t0
        if info != 0:
            raise RuntimeError(f"CG did not converge at t = {t:g} s ({count[0]} iterations)")
        iters.append(count[0])
        F = float(np.dot(op.dirichlet_conductance, c_dirichlet - c_new))
        M_flux.append((dt * F - a1 * M_flux[-1] - a2 * (M_flux[-2] if len(M_flux) > 1 else 0.0)) / a0)
        M_dom.append(V * float(c_new.sum()))
        flux.append(F)
        c_prev, c_old = c_old, c_new
        t_prev, dt_prev = t, dt
        if float(t) in snap_set:
            snapshots[float(t)] = c_new.copy()
        if callback is not None:
            callback(step + 1, times.size)
    return TransientResult(
        times=np.r_[0.0, times], mass_in_domain=np.asarray(M_dom),
        mass_from_flux=np.asarray(M_flux), flux=np.asarray(flux), concentration=c_old,
        iterations=np.asarray(iters), snapshots=snapshots,
        stats={"amg_builds": n_builds, "amg_setup_s": t_setup, "solve_s": t_solve,
               "steps": int(times.size), "rtol": rtol, "unknowns": n},
    )

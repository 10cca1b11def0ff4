"""Matrix-free voxel diffusion operator and transient solve (the fast path).

The finite-volume operator of :mod:`rhizoscale.diffusion.finite_volume` is stored as a
:class:`rhizoscale.solvers.Stencil` on the full voxel grid (conductances from the shared
:func:`rhizoscale.solvers.voxel_operator.face_conductances`): one face conductance per
voxel and axis (0 where the face does not conduct; every axis closed), the summed
source-face (Dirichlet) conductance ``g`` and the weight ``w`` (1 on unknowns). The
implicit step's ``a0 V / dt`` is the stencil's shift ``s``, so changing the step costs
nothing and every interior face flux cancels exactly (the mass balance closes to the
solver tolerance whatever the rounding of the stored float32 conductances). Per unknown
and sweep this reads about 40 bytes against about 96 for a CSR matrix-vector product.

Linear solver: conjugate gradients preconditioned by the geometric multigrid V-cycle of
:mod:`rhizoscale.solvers` (box coarsening with homogeneous-medium scaling, red–black
Gauss–Seidel, dense coarsest solve).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numba
import numpy as np

from ..errors import ResourceError
from ..solvers import Multigrid, PCGWorkspace, Stencil, pcg
from ..solvers._numba import threaded_kernel
from ..solvers.voxel_operator import CLOSED, face_conductances, unit_conductances
from .finite_volume import _prepare, dirichlet_face_area, face_geometry
from .transient import TransientResult, check_time_steps, integrate_source_diffusion

__all__ = ["VoxelStencil", "voxel_stencil", "solve_transient_multigrid", "MultigridSystem",
           "estimate_memory_multigrid"]


@dataclass(eq=False)
class VoxelStencil:
    """Matrix-free finite-volume diffusion operator of an image.

    Attributes
    ----------
    stencil : rhizoscale.solvers.Stencil
        Face conductances, source-face conductance ``g`` (both in units of ``unit``)
        and unknown mask on the full grid (2D images stored with rows as planes; see
        :class:`~rhizoscale.solvers.Stencil`).
    image_shape : tuple of int
        ``(nz, ny, nx)`` (2D images: ``(1, ny, nx)``).
    voxel_volume : float
        [cm^3].
    dirichlet_area : float
        Source-face area [cm^2].
    unit : float
        The stencil's conductance unit [cm^3 s^-1]: 1 for float storage, ``f D`` for
        the exact uint8 storage of a medium of one diffusivity (see
        :func:`voxel_stencil`).

    Examples
    --------
    Made by :func:`voxel_stencil`:

    >>> import numpy as np
    >>> D, h = 1e-5, 0.01                           # [cm^2 s^-1], [cm]
    >>> diffusivity = np.full((1, 1, 60), D)        # a strip of 60 voxels ...
    >>> source = np.zeros(diffusivity.shape, bool)
    >>> source[..., 0] = True                       # ... fed from its first one
    >>> op = voxel_stencil(diffusivity, source, h)
    >>> op.n, op.shape, op.dirichlet_area       # unknowns, shape, source-face area [cm^2]
    (59, (1, 1, 60), 0.0001)
    >>> op.stencil.cx.dtype, f"{op.unit:.4g}"   # one diffusivity: integers in units of h D
    (dtype('uint8'), '1e-07')
    >>> op.gather(np.arange(60.0).reshape(1, 1, 60))[:3]            # values of the unknowns
    array([1., 2., 3.])
    >>> op.to_image(np.ones(op.n))[0, 0, :3]                        # NaN on the source
    array([nan,  1.,  1.])
    """

    stencil: Stencil
    image_shape: tuple
    voxel_volume: float
    dirichlet_area: float
    unit: float = 1.0

    @property
    def shape(self):
        return self.stencil.shape

    @property
    def unknown_mask(self) -> np.ndarray:
        """Flat bool view of the unknowns (C order; the stencil's weight, no copy)."""
        return self.stencil.w.ravel().view(bool)

    @property
    def unknowns(self) -> np.ndarray:
        """(n,) int64 flat indices of the unknowns, in the CSR operator's order (the same
        in the stencil's storage, which only reshapes); computed on each call."""
        return np.flatnonzero(self.unknown_mask)

    @property
    def n(self) -> int:
        return int(np.count_nonzero(self.stencil.w))

    def gather(self, c: np.ndarray) -> np.ndarray:
        """Values of the unknowns from a full-grid array."""
        return c.ravel()[self.unknown_mask]

    def to_image(self, c: np.ndarray, fill: float = np.nan) -> np.ndarray:
        out = np.full(int(np.prod(self.image_shape)), fill)
        out[self.unknown_mask] = c
        return out.reshape(self.image_shape)


def estimate_memory_multigrid(n_voxels: int) -> int:
    """Peak memory of :func:`solve_transient_multigrid` on a full grid [bytes].

    An upper bound. Per voxel: 3 float32 conductances, float32 ``g`` and inverse
    diagonal, uint8 weight (21 B; a medium of one diffusivity stores the conductances
    and ``g`` in uint8: 9 B), three float64 grids (the BDF2 history's two levels and
    the solution; the right-hand side is built in the older level: 24 B) and CG's three
    float32 work vectors, on which the cycle works in place (12 B); 1/7 more for the
    float32 coarse levels (conductances, weight, inverse diagonal, two vectors: 32 B);
    plus the assembly's temporaries (float64 diffusivity, masks, labels: about 30 B).
    Measured peak (``benchmarks/bench_diffusion.py``, 128³ sample of one diffusivity):
    51 B per voxel.

    Parameters
    ----------
    n_voxels : int
        Voxels of the image.

    Returns
    -------
    int
        Bytes.

    Examples
    --------
    >>> round(estimate_memory_multigrid(256**3) / 2**30, 2)        # [GiB]
    1.43
    """
    return int(n_voxels * ((21 + 24 + 12) + 32 / 7 + 30))


def voxel_stencil(diffusivity: np.ndarray, source: np.ndarray, voxel_size, *,
                  dtype=None, memory_limit: float | None = 4 * 2**30) -> VoxelStencil:
    """Face conductances of the voxel finite-volume operator (matrix-free form).

    Same operator as :func:`rhizoscale.diffusion.finite_volume.assemble_voxel_diffusion`
    (harmonic-mean face conductances, Dirichlet faces at half a voxel, clusters that
    touch no source dropped); ``dtype`` is the storage of the conductances. By default,
    when the conducting voxels share one diffusivity ``D`` and the voxels are cubic
    (one face factor ``f``), every conductance is an integer multiple of ``f D`` (0 or
    1 per face, ``g`` up to 12) and is stored exactly in uint8 with ``unit = f D``: a
    quarter of float32's bytes, the operator exact. Otherwise float32 (half the bytes
    per sweep of float64; the operator then differs from the float64 one by the
    rounding, about 6e-8 relative, and the mass balance still closes exactly).

    Parameters
    ----------
    diffusivity : (nz, ny, nx) or (ny, nx) float array
        Diffusion coefficient of every voxel [cm^2 s^-1]; 0 where nothing diffuses.
    source : bool array of the same shape
        Voxels held at a fixed concentration (root, hairs).
    voxel_size : float or 3 floats
        Voxel edge length along each array axis [cm].
    dtype : numpy dtype, optional
        Storage of the conductances: float32 or float64 (``unit`` 1), or None (default)
        for uint8 where exact, else float32.
    memory_limit : float or None
        Refuse (``ResourceError``) when :func:`estimate_memory_multigrid` exceeds this
        [bytes].

    Returns
    -------
    VoxelStencil

    Examples
    --------
    The same unknowns and Dirichlet face as the CSR assembly:

    >>> import numpy as np
    >>> D, h = 1e-5, 0.01                           # [cm^2 s^-1], [cm]
    >>> diffusivity = np.full((1, 1, 60), D)        # a strip of 60 voxels ...
    >>> source = np.zeros(diffusivity.shape, bool)
    >>> source[..., 0] = True                       # ... fed from its first one
    >>> from rhizoscale.diffusion.finite_volume import assemble_voxel_diffusion
    >>> op = voxel_stencil(diffusivity, source, h)
    >>> csr = assemble_voxel_diffusion(diffusivity, source, h)
    >>> np.array_equal(op.unknowns, csr.unknowns), op.dirichlet_area == csr.dirichlet_area
    (True, True)
    >>> op.stencil.g[0, 0, :3] * op.unit            # [cm^3 s^-1], next to the source
    array([0.e+00, 2.e-07, 0.e+00])
    >>> voxel_stencil(diffusivity, source, h, dtype=np.float32).stencil.g[0, 0, :3]
    array([0.e+00, 2.e-07, 0.e+00], dtype=float32)
    """
    n_vox = int(np.prod(np.shape(diffusivity)))
    if memory_limit is not None:
        need = estimate_memory_multigrid(n_vox)
        if need > memory_limit:
            raise ResourceError(
                f"a diffusion solve on {n_vox:,} voxels needs about {need / 2**30:.1f} GiB "
                f"(limit {memory_limit / 2**30:.1f} GiB); crop the image to the region of "
                "interest or coarsen it (rhizoscale.image.transform.crop / coarsen)")
    diffusivity, source, conducting, h = _prepare(diffusivity, source, voxel_size, False)
    area, factor = face_geometry(h)
    shape = diffusivity.shape
    unit = None
    if dtype is None:
        # only the unknowns' diffusivities enter (Dirichlet faces use the unknown's own)
        on = diffusivity[conducting]
        if on.size and on.min() == on.max():
            unit = unit_conductances(conducting.view(np.uint8), factor, CLOSED)
            unit = None if unit is None else unit * float(on[0])
        del on
    if unit is not None:
        cx, cy, cz, g = face_conductances(conducting.view(np.uint8), 1.0, conducting, source,
                                          CLOSED, np.uint8)
    else:
        unit = 1.0
        cx, cy, cz, g = face_conductances(diffusivity, factor, conducting, source, CLOSED,
                                          np.float32 if dtype is None else dtype)
    area_dirichlet = dirichlet_face_area(conducting, source, area)
    st = Stencil(cx, cy, cz, g, conducting.view(np.uint8))
    return VoxelStencil(stencil=st, image_shape=shape, voxel_volume=float(np.prod(h)),
                        dirichlet_area=float(area_dirichlet), unit=float(unit))


def _bdf2_rhs_and_guess_py(g, c_in, c1, c2, f1, f2, extrap, rhs, guess):
    """rhs = g c_in - f1 c1 - f2 c2; guess = c1 + extrap (c1 - c2) (``rhs`` may be ``c2``:
    each voxel is read before it is written)."""
    nz, ny, nx = g.shape
    for z in numba.prange(nz):
        for y in range(ny):
            for i in range(nx):
                a = c1[z, y, i]
                bb = c2[z, y, i]
                rhs[z, y, i] = g[z, y, i] * c_in - f1 * a - f2 * bb
                guess[z, y, i] = a + extrap * (a - bb)


def _sums_py(c, g, c_in):
    """(sum c, sum g (c_in - c)) over the unknowns (c = 0 elsewhere)."""
    nz, ny, nx = c.shape
    m = 0.0
    f = 0.0
    for z in numba.prange(nz):
        for y in range(ny):
            for i in range(nx):
                m += c[z, y, i]
                f += g[z, y, i] * (c_in - c[z, y, i])
    return m, f


_bdf2_rhs_and_guess = threaded_kernel(_bdf2_rhs_and_guess_py, single_build=True)
_sums = threaded_kernel(_sums_py, single_build=True)


#: the multigrid path keeps CG's work vectors in float32 at this rtol and above
FLOAT32_VECTORS_RTOL = 1e-9


class MultigridSystem:
    """Linear systems of the implicit step on a :class:`VoxelStencil` (the fast path).

    Multigrid-preconditioned CG (:mod:`rhizoscale.solvers`) on the full voxel grid; the
    step's ``a0 V / dt`` is the stencil's shift. The cycle runs in float32 (fine vectors
    and coarse levels: a quarter fewer bytes and twice the SIMD width per sweep) as a
    W-cycle (68 instead of 90 CG iterations on the 256^3 benchmark). The operator and
    the solution stay float64; CG's work vectors are float32 (12 bytes per voxel for
    the three, the V-cycle works on them in place) and the stopping test is on the
    float64 residual, so the mass balance closes to the CG tolerance.

    Parameters
    ----------
    op : VoxelStencil
        The operator.
    c_dirichlet : float
        Concentration held on the source faces [µg cm^-3].
    rtol : float
        Relative residual of each CG solve.
    max_iterations : int
        CG iteration cap per step (a solve that does not converge raises).
    smoothing : int
        Smoothing sweeps per level (see :class:`rhizoscale.solvers.Multigrid`).

    References
    ----------
    .. [1] Trottenberg, U., Oosterlee, C. W., & Schüller, A. (2001). Multigrid. Academic
       Press.

    Examples
    --------
    The linear solver of a :class:`~rhizoscale.diffusion.transient.SourceDiffusionModel`:

    >>> import numpy as np
    >>> D, h = 1e-5, 0.01                           # [cm^2 s^-1], [cm]
    >>> diffusivity = np.full((1, 1, 60), D)        # a strip of 60 voxels ...
    >>> source = np.zeros(diffusivity.shape, bool)
    >>> source[..., 0] = True                       # ... fed from its first one
    >>> from rhizoscale.diffusion.transient import SourceDiffusionModel
    >>> op = voxel_stencil(diffusivity, source, h)
    >>> model = SourceDiffusionModel(MultigridSystem(op, 1.0), op.voxel_volume)
    >>> model.advance_to(1.0)                       # one backward-Euler step of 1 s
    >>> model.concentration[:3].round(4)            # [ug cm-3], as the CSR path gives
    array([0.1548, 0.013 , 0.0011])
    """

    def __init__(self, op: VoxelStencil, c_dirichlet: float, *, rtol: float = 1e-8,
                 max_iterations: int = 500, smoothing: int = 2):
        self.op = op
        self.c_dirichlet = float(c_dirichlet)
        self.rtol, self.max_iterations = rtol, max_iterations
        self.smoothing = smoothing
        self.stats = {"solver": "multigrid", "amg_builds": 0, "amg_setup_s": 0.0,
                      "solve_s": 0.0}
        self._build()
        self.x = np.zeros(op.stencil.shape)

    def _build(self):
        st = self.op.stencil
        t0 = time.perf_counter()
        # CG's work vectors in float32 (the solution stays float64 and the stopping test
        # is on the float64 residual, see rhizoscale.solvers.pcg); the V-cycle then works
        # on them in place. Tolerances below FLOAT32_VECTORS_RTOL keep float64 vectors.
        low = self.rtol >= FLOAT32_VECTORS_RTOL
        self.mg = Multigrid(st, smoothing=self.smoothing, coarse_dtype=np.float32,
                            fine_vector_dtype=None if low else np.float32, cycles=2)
        self.ws = PCGWorkspace(st.shape, np.float32 if low else np.float64)
        self.stats["levels"] = len(self.mg.levels)
        self.stats["amg_builds"] += 1
        self.stats["amg_setup_s"] += time.perf_counter() - t0

    def release(self) -> None:
        """Free the solver's work arrays (multigrid hierarchy, CG's vectors, the spare
        grid), e.g. before the outputs of a finished run; a next step rebuilds them."""
        self.mg = self.ws = self.x = None

    def zeros(self) -> np.ndarray:
        return np.zeros(self.op.stencil.shape)

    def gather(self, c: np.ndarray) -> np.ndarray:
        return self.op.gather(c)

    def recycle(self, spare: np.ndarray) -> None:
        self.x = spare

    def solve_step(self, t, dt, a0, a1, a2, extrap, c_old, c_prev):
        """One implicit step; returns ``(c_new, iterations, sum c_new, source-face flux)``.

        The right-hand side is built in ``c_prev``'s storage (that level is not needed
        once the right-hand side and the initial guess are made: the new one replaces
        it), so a step holds three float64 grids, not four. The system is solved in the
        stencil's conductance unit ``u``: ``(A / u) c = b / u``, the same equations
        (CG's iterates do not depend on the scaling).
        """
        st, V, u = self.op.stencil, self.op.voxel_volume, self.op.unit
        if self.mg is None:
            self._build()
        if self.x is None:
            self.x = np.zeros(st.shape)
        t0 = time.perf_counter()
        shift = a0 * V / (dt * u)
        self.mg.set_shift(shift)
        x, rhs = self.x, c_prev
        _bdf2_rhs_and_guess(st.g, self.c_dirichlet, c_old, c_prev, a1 * V / (dt * u),
                            a2 * V / (dt * u), extrap, rhs, x)
        its = pcg(st, self.mg, rhs, x, rtol=self.rtol, maxiter=self.max_iterations, shift=shift,
                  workspace=self.ws, what=f"the diffusion step to t = {t:g} s")
        self.stats["solve_s"] += time.perf_counter() - t0
        m, F = _sums(x, st.g, self.c_dirichlet)
        return x, its, m, F * u

    def checkpoint_state(self) -> dict:
        return {}

    def restore_state(self, state: dict) -> None:
        pass


def solve_transient_multigrid(op: VoxelStencil, c_dirichlet: float, times: np.ndarray, *,
                              rtol: float = 1e-8, snapshot_times=(), callback=None,
                              max_iterations: int = 500, smoothing: int = 2) -> TransientResult:
    """Integrate ``V dc/dt = -K c + g c_D`` from ``c = 0`` (fast, matrix-free path).

    The same model as :func:`rhizoscale.diffusion.transient.solve_transient`
    (:class:`~rhizoscale.diffusion.transient.SourceDiffusionModel`: variable-step BDF2
    started by backward Euler, extrapolated initial guesses, BDF2 quadrature of the
    source-face flux) with :class:`MultigridSystem` as its linear solver; parameters and
    result as there (``concentration`` and snapshots hold the unknowns in
    ``op.unknowns`` order). ``smoothing`` as in :class:`rhizoscale.solvers.Multigrid`.

    Parameters
    ----------
    op : VoxelStencil
        The operator.
    c_dirichlet : float
        Concentration held on the source faces [µg cm^-3].
    times : (N,) increasing array
        Step end times [s].
    rtol, snapshot_times, callback, max_iterations, smoothing
        As in :func:`rhizoscale.diffusion.transient.solve_transient` and
        :class:`MultigridSystem`.

    Returns
    -------
    rhizoscale.diffusion.transient.TransientResult

    Examples
    --------
    The mass that entered the strip agrees with the CSR reference path to the solver
    tolerance:

    >>> import numpy as np
    >>> D, h = 1e-5, 0.01                           # [cm^2 s^-1], [cm]
    >>> diffusivity = np.full((1, 1, 60), D)        # a strip of 60 voxels ...
    >>> source = np.zeros(diffusivity.shape, bool)
    >>> source[..., 0] = True                       # ... fed from its first one
    >>> from rhizoscale.diffusion.transient import geometric_time_steps
    >>> op = voxel_stencil(diffusivity, source, h)
    >>> result = solve_transient_multigrid(op, 1.0, geometric_time_steps(100.0, 0.1))
    >>> round(float(result.mass_in_domain[-1] / op.dirichlet_area), 5)     # [ug cm-2]
    0.03553
    >>> result.mass_balance_error < 1e-6
    True
    """
    times = check_time_steps(times, c_dirichlet)
    system = MultigridSystem(op, c_dirichlet, rtol=rtol, max_iterations=max_iterations,
                             smoothing=smoothing)
    return integrate_source_diffusion(system, op.voxel_volume, times, snapshot_times=snapshot_times,
                                      callback=callback, stats={"rtol": rtol, "unknowns": op.n})

"""Effective diffusion tensor of a periodic cell: the cell problems of homogenisation.

For each unit vector ``e_j`` the corrector ``chi_j`` solves

    div( D(y) (grad chi_j + e_j) ) = 0        in the cell Y, periodic,

and ``D_eff,ij = < D (delta_ij + d chi_j / d y_i) >`` (average over the whole cell,
solid and air included, so ``D_eff`` is per unit bulk area/volume).

Discretisation: cell-centred finite volumes on the voxels, two-point fluxes with the
harmonic mean of the two voxels' diffusivities as face conductance (the shared operator
of :mod:`rhizoscale.solvers.voxel_operator`, per unit volume). The harmonic mean
is the exact conductance of two half-voxels in series, so a layered medium gives the
exact harmonic mean across layers and the exact arithmetic mean along them for any
number of voxels per layer; it is zero when either voxel does not conduct, so the solid
and air never enter the system. The discrete tensor is computed from face fluxes; for
an exact solution of the discrete equations it equals the (symmetric) energy form, so
the asymmetry of the computed tensor measures the solver error.

Periodisations
--------------
``"translation"``: the image is tiled as it is (periodic in every direction).

``"mirror"``: the image is reflected in every direction before tiling (a cell 2^d times
larger). By symmetry the tensor is then diagonal, and ``chi_j`` is odd about the faces
normal to ``e_j`` and even about the others: the mirrored cell problem is equivalent to
the usual tortuosity set-up on the original image, a fixed concentration difference
between the two faces normal to ``e_j`` (Dirichlet, half a voxel from the outer voxel
centres) and no flux through the other faces. That equivalent problem is what is solved
(2^d times fewer unknowns); ``tests/test_homogenization.py`` checks the equality against
an explicitly mirrored image.

Solver: conjugate gradients (float64) preconditioned with a matrix-free geometric
multigrid V-cycle on the voxel grid (:mod:`rhizoscale.solvers`, float32 cycle; one
hierarchy for the 2 or 3 right-hand sides of the periodic problem); ``solver="amg"`` keeps the assembled CSR
matrix with pyamg smoothed aggregation as the reference path; a sparse direct solve
for small systems. Clusters that cannot carry flux are removed first (see
:mod:`.connectivity`) and each remaining periodic cluster has one voxel pinned to 0,
which removes the constant null space without changing any gradient.

References
----------
Bensoussan, A., Lions, J.-L., & Papanicolaou, G. (1978). Asymptotic Analysis for
Periodic Structures. North-Holland.
Hornung, U. (ed.) (1997). Homogenization and Porous Media. Springer.
Cooper, S. J., Bertei, A., Shearing, P. R., Kilner, J. A., & Brandon, N. P. (2016).
TauFactor: an open-source application for calculating tortuosity factors from
tomographic data. SoftwareX, 5, 203–210.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import InputError, RhizoscaleError
from ..image import Image
from ..solvers import Multigrid, PCGWorkspace, Stencil, pcg, thread_limit
from ..solvers.voxel_operator import assemble_csr, face_conductances
from . import _kernels as K
from .connectivity import periodic_clusters, spanning_clusters

__all__ = ["EffectiveDiffusionTensor", "effective_diffusion_tensor", "PERIODISATIONS"]

#: ways to make an image periodic: tile it as it is, or mirrored in every direction
PERIODISATIONS = ("translation", "mirror")
SOLVERS = ("auto", "multigrid", "amg", "direct")

#: systems up to this many unknowns are solved with a sparse direct solver
DIRECT_SOLVE_LIMIT = 4_000  # 3D: fill-in makes larger direct solves slow
DIRECT_SOLVE_LIMIT_2D = 80_000

#: build the AMG preconditioner in float32 when the tolerance allows (see _Solver)
FLOAT32_HIERARCHY = True
#: binary images with cubic voxels keep their conductances (0 or 1 per face) and
#: right-hand sides (-1, 0 or 1) as exact one-byte integers (see _MultigridSolver)
INTEGER_STORAGE = True
#: the multigrid path keeps CG's work vectors in float32 at this rtol and above
#: (see _MultigridSolver); tighter tolerances use float64 vectors
FLOAT32_VECTORS_RTOL = 1e-7


@dataclass(frozen=True)
class EffectiveDiffusionTensor:
    """Result of a homogenisation: the effective diffusion tensor and its diagnostics.

    Attributes
    ----------
    tensor : (d, d) array
        Symmetric part of the computed tensor, in the units of the phase diffusivities;
        components in array-axis order (``axes``).
    raw : (d, d) array
        Tensor as computed from the fluxes (before symmetrisation).
    axes : tuple of str
        Names of the array axes, ``("y", "x")`` or ``("z", "y", "x")``.
    periodisation : str
        ``"translation"`` or ``"mirror"``.
    eigenvalues : (d,) array
        Principal diffusivities, descending.
    eigenvectors : (d, d) array
        Principal directions as columns (array-axis order), matching ``eigenvalues``.
    asymmetry : float
        ``|raw - raw^T| / |raw|`` (Frobenius; 0 when the tensor is 0).
    conducting_fraction : float
        Volume fraction of voxels with a positive diffusivity.
    flux_carrying_fraction : float
        Volume fraction of the voxels kept in the system (clusters that carry flux).
    iterations : tuple of int
        Krylov iterations per solved direction (0 for a direct solve or no solve).
    wall_time : float
        Seconds.
    info : dict
        Solver details (solver per direction, number of unknowns).

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.homogenization import effective_diffusion_tensor
    >>> layers = np.where(np.arange(8) % 2 == 0, 1.0, 0.25)[None, :].repeat(8, axis=0)
    >>> res = effective_diffusion_tensor(layers)          # layers normal to x (axis 1)
    >>> res.axes, res.eigenvalues
    (('y', 'x'), array([0.625, 0.4  ]))
    >>> res.in_xyz()                                      # (x, y) order: harmonic across x
    array([[0.4  , 0.   ],
           [0.   , 0.625]])
    """

    tensor: np.ndarray
    raw: np.ndarray
    axes: tuple[str, ...]
    periodisation: str
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    asymmetry: float
    conducting_fraction: float
    flux_carrying_fraction: float
    iterations: tuple[int, ...]
    wall_time: float
    info: dict = field(default_factory=dict)

    @property
    def ndim(self) -> int:
        return self.tensor.shape[0]

    def in_xyz(self) -> np.ndarray:
        """The tensor with components ordered (x, y[, z]) instead of array-axis order."""
        return self.tensor[::-1, ::-1].copy()

    def principal_directions_xyz(self) -> tuple[np.ndarray, np.ndarray]:
        """Eigenvalues and eigenvectors (columns) with components ordered (x, y[, z])."""
        return self.eigenvalues.copy(), self.eigenvectors[::-1, :].copy()

    def __repr__(self) -> str:
        rows = "; ".join(" ".join(f"{v:.4g}" for v in row) for row in self.tensor)
        return (f"EffectiveDiffusionTensor({self.periodisation}, axes {self.axes}, "
                f"[{rows}], asymmetry {self.asymmetry:.1e})")


def _diffusivity_field(image, voxel_size, diffusivity):
    """Voxel diffusivity array, voxel size and source name from the user's input."""
    if isinstance(image, Image):
        src = image.metadata.get("source", "image")
        if diffusivity is not None:
            known = {p.name for p in image.phases}
            unknown = sorted(set(diffusivity) - known)
            if unknown:
                raise InputError(f"no phase named {unknown} (phases: {sorted(known)})",
                                 source=src, field="diffusivity")
            phases = []
            for p in image.phases:
                value = diffusivity.get(p.name, p.diffusivity)
                phases.append(type(p)(p.name, p.label, float(value), p.role))
            image = image.with_phases(phases)
        return image.diffusivity().astype(float), np.asarray(image.voxel_size, float), src
    src = "diffusivity"
    d = np.asarray(image)
    if d.dtype == object or not np.issubdtype(d.dtype, np.number):
        raise InputError("expected an Image or an array of voxel diffusivities", source=src)
    if diffusivity is not None:
        # integer labels with a label -> D table
        labels = d
        if not np.issubdtype(labels.dtype, np.integer):
            raise InputError("with a diffusivity table the array must hold integer labels",
                             source=src)
        present = np.unique(labels)
        missing = [int(v) for v in present if int(v) not in diffusivity]
        if missing:
            raise InputError(f"labels {missing} have no diffusivity", source=src,
                             field="diffusivity")
        keys = np.array(sorted(diffusivity), dtype=np.int64)
        vals = np.array([float(diffusivity[k]) for k in keys])
        d = vals[np.searchsorted(keys, labels)]
    d = np.asarray(d, dtype=float)
    if d.ndim not in (2, 3):
        raise InputError(f"an image must be 2D or 3D, got {d.ndim}D", source=src)
    if voxel_size is None:
        voxel_size = 1.0
    vs = np.broadcast_to(np.asarray(voxel_size, dtype=float), (d.ndim,)).copy()
    if np.any(~np.isfinite(vs)) or np.any(vs <= 0):
        raise InputError(f"voxel size must be positive, got {voxel_size}", source=src,
                         field="voxel_size")
    return d, vs, src


def _validate(d, src):
    if d.size == 0:
        raise InputError("empty image", source=src)
    if not np.all(np.isfinite(d)):
        raise InputError("diffusivities must be finite", source=src, field="diffusivity")
    if np.any(d < 0):
        raise InputError(f"diffusivities must be >= 0 (found {d.min():g})", source=src,
                         field="diffusivity")
    if not np.any(d > 0):
        raise InputError("no voxel conducts (every phase has diffusivity 0): the effective "
                         "tensor is identically zero; check the phase table", source=src,
                         field="diffusivity")


def _as3d(d, h):
    if d.ndim == 2:
        return d[None], np.array([1.0, *h]), np.array([False, True, True])
    return d, np.asarray(h, float), np.array([True, True, True])


def _operator_arguments(hs, bc, active):
    """Face factor and boundaries of the cell problem for the shared voxel operator.

    The cell problem is written per unit volume: a face normal to axis ``a`` conducts
    ``D_face / hs_a^2``. An inactive axis (the third of a 2D image) has no faces (its
    factor is set to 1).
    """
    factor = np.where(np.asarray(active, bool), 1.0 / np.asarray(hs, dtype=float) ** 2, 1.0)
    return factor, np.where(np.asarray(active, bool), np.asarray(bc, np.int64), K.CLOSED)


def _csr_operator(d3, unknown3, hs, bc, active):
    """The cell problem's matrix on the unknowns (C order); anchors pinned to 0."""
    factor, boundary = _operator_arguments(hs, bc, active)
    return assemble_csr(d3, factor, unknown3, None, boundary).matrix


def _assemble(index, d3, hs, bc, active, n_unknowns):
    """:func:`_csr_operator` for unknowns given by their row ``index`` (-1 elsewhere,
    rows in C order)."""
    A = _csr_operator(d3, index >= 0, hs, bc, active)
    assert A.shape[0] == n_unknowns
    return A


def _rhs(unknown3, d3, hs, bc, axis):
    """Right-hand side of the cell problem for ``e_axis`` on the unknowns (CSR order)."""
    full = np.empty(d3.shape)
    K.right_hand_side(unknown3, d3, hs, bc, axis, full)
    return full[unknown3]


class _Solver:
    """Solve ``A x = b`` for several right-hand sides, building the preconditioner once."""

    def __init__(self, A, rtol, maxiter, planar, mode="auto"):
        self.A = A
        self.rtol = rtol
        self.maxiter = maxiter
        if mode == "auto":
            self.direct = A.shape[0] <= (DIRECT_SOLVE_LIMIT_2D if planar else DIRECT_SOLVE_LIMIT)
        else:
            self.direct = mode == "direct"
        t0 = time.perf_counter()
        self._setup(A)
        self.setup_time = time.perf_counter() - t0

    def _setup(self, A):
        if self.direct:
            self.lu = spla.splu(A.tocsc())
            return
        import pyamg
        # The hierarchy is only a preconditioner: in float32 it halves its memory and
        # memory traffic with the same iteration count, while CG runs in float64 on the
        # float64 matrix. Its rounding (~1e-7) would stall CG below that, so tighter
        # tolerances keep a float64 hierarchy.
        self.dtype = np.float32 if FLOAT32_HIERARCHY and self.rtol >= 1e-7 else np.float64
        # 'local' (Gershgorin) weighting of the prolongation smoother avoids pyamg's
        # Arnoldi estimate of the spectral radius: 3-4x cheaper setup, same iterations
        self.ml = pyamg.smoothed_aggregation_solver(
            A.astype(self.dtype), symmetry="hermitian", max_coarse=500, improve_candidates=None,
            smooth=("jacobi", {"omega": 4.0 / 3.0, "weighting": "local"}))
        # pyamg keeps coarse operators in BSR with 1x1 blocks, whose Gauss-Seidel is
        # several times slower than the CSR one
        for level in self.ml.levels:
            level.A = sp.csr_matrix(level.A)
        # one V-cycle from a zero guess; pyamg's own preconditioner wrapper also computes
        # two residual norms per application (two wasted fine-level products)
        cycle = getattr(self.ml, "_MultilevelSolver__solve", None)
        ml, dtype = self.ml, self.dtype
        if cycle is None or len(ml.levels) < 2:
            def apply(r):
                return ml.solve(r.astype(dtype), maxiter=1, cycle="V", tol=1e-12).astype(np.float64)
        else:
            def apply(r):
                b = r.astype(dtype)
                x = np.zeros_like(b)
                cycle(0, x, b, "V", 1)
                return x.astype(np.float64)
        self.M = spla.LinearOperator(A.shape, matvec=apply, dtype=np.float64)

    def solve(self, b):
        if self.direct:
            return self.lu.solve(b), 0
        count = [0]

        def cb(_):
            count[0] += 1

        x, info = spla.cg(self.A, b, rtol=self.rtol, atol=0.0, M=self.M,
                          maxiter=self.maxiter, callback=cb)
        if info != 0:
            res = np.linalg.norm(b - self.A @ x) / max(np.linalg.norm(b), 1e-300)
            raise RhizoscaleError(f"cell problem did not converge in {self.maxiter} iterations "
                                  f"(relative residual {res:.1e}, target {self.rtol:.0e})")
        return x, count[0]


class _MultigridSolver:
    """Matrix-free geometric multigrid + CG on the full voxel grid (:mod:`rhizoscale.solvers`).

    Memory (bytes per voxel of the grid, binary image with cubic voxels, float32
    vectors; ``benchmarks/bench_homogenization.py --tally`` lists them): conductances
    4 x 1 (uint8: 0 or 1 per face, ``g`` at most 12, exact), multigrid fine level 4
    (float32 inverse diagonal) and coarse levels ~4.6 (float32), CG's three work vectors
    3 x 4 (float32), the right-hand side 1 (int8: -1, 0 or 1, exact), the solution 8
    (float64) and three masks 3 (a binary image's diffusivities are its conducting
    mask): ~37 (128^3 blobs: 36.4 measured). Other media keep float32 (or float64)
    conductances and a float32 right-hand side (~52).

    CG's operator uses the conductances in float64 unless they are exact in float32
    (binary images with cubic voxels: all are 0 or a power of 2; float32 rounding of
    general ones moved the tensor by ~1e-5 on 64^2 images); the kernels sum in float64
    either way. The V-cycle uses float32 copies (the sweeps are memory-bound).
    With ``rtol >= FLOAT32_VECTORS_RTOL`` CG's work vectors and right-hand side are
    float32 and the V-cycle works on them in place; the solution stays float64 and the
    residual is recomputed in float64 from it (residual replacement), so the stopping
    test is on the float64 residual. Storing the right-hand side in float32 perturbs it
    by at most 6e-8 of its norm (0 for a binary image), a sixteenth of what rtol = 1e-6
    leaves.
    """

    direct = False

    def __init__(self, d3, unknown3, hs, bc, active, rtol, maxiter):
        t0 = time.perf_counter()
        self.unknown3, self.hs, self.bc = unknown3, hs, bc
        self.rtol, self.maxiter = rtol, maxiter
        factor, boundary = _operator_arguments(hs, bc, active)
        binary = _is_binary(d3)
        # a binary image with cubic voxels: every conductance is an integer (0 or 1 per
        # face, g at most 12), stored exactly in one byte
        self.integer = (INTEGER_STORAGE and binary
                        and np.array_equal(factor, np.round(factor)))
        if self.integer:
            cx, cy, cz, g = face_conductances(d3, factor, unknown3, None, boundary,
                                              dtype=np.uint8)
        elif binary and np.array_equal(factor.astype(np.float32), factor):
            # every conductance is 0 or a power of 2 (times the exact factor): computed
            # in float64 and rounded once, the float32 values are exact
            cx, cy, cz, g = face_conductances(d3, factor, unknown3, None, boundary,
                                              dtype=np.float32)
        else:
            cx, cy, cz, g = face_conductances(d3, factor, unknown3, None, boundary)
            low = tuple(a.astype(np.float32) for a in (cx, cy, cz, g))
            if all(np.array_equal(lo, hi) for lo, hi in zip(low, (cx, cy, cz, g))):
                cx, cy, cz, g = low
            del low
        self.d3 = d3
        periodic = tuple(bool(b == K.PERIODIC) for b in bc)
        self.stencil = Stencil(cx, cy, cz, g, unknown3.view(np.uint8), periodic)
        del cx, cy, cz, g
        low_vectors = rtol >= FLOAT32_VECTORS_RTOL
        # W-cycle: the box-coarsened operator of a binary medium misses blocked paths
        # inside boxes; a second coarse pass per level cut CG iterations from 22-26 to
        # 6-9 per direction (150^3 blobs, 2048^2) and halved the solve time
        self.mg = Multigrid(self.stencil, coarsest=500,
                            fine_dtype=None if self.integer else np.float32,
                            coarse_dtype=np.float32,
                            fine_vector_dtype=None if low_vectors else np.float32, cycles=2)
        vector_dtype = np.float32 if low_vectors else np.float64
        self.ws = PCGWorkspace(self.stencil.shape, vector_dtype)
        self.b = None if low_vectors else self.ws.r
        self.vector_dtype = vector_dtype
        self.setup_time = time.perf_counter() - t0

    def _rhs_dtype(self, axis):
        # a binary image: the right-hand side is (0 or 1) - (0 or 1) over hs[axis], an
        # integer in -1..1 with hs[axis] = 1 (cubic voxels), held exactly in int8
        if self.integer and self.hs[axis] == 1.0:
            return np.int8
        return self.vector_dtype

    def solve_axis(self, axis):
        """Corrector for unit vector ``e_axis`` on the full grid (0 off the unknowns)."""
        x = np.zeros(self.stencil.shape)
        if self.b is self.ws.r:
            K.right_hand_side(self.unknown3, self.d3, self.hs, self.bc, axis,
                              self.b.reshape(self.d3.shape))
        else:   # built in float64 in x (zeroed again by pcg), stored rounded (exactly
            # in int8, see _rhs_dtype)
            dtype = self._rhs_dtype(axis)
            if self.b is None or self.b.dtype != dtype:
                self.b = None
                self.b = np.zeros(self.stencil.shape, dtype)
            K.right_hand_side(self.unknown3, self.d3, self.hs, self.bc, axis,
                              x.reshape(self.d3.shape))
            self.b[...] = x
        it = pcg(self.stencil, self.mg, self.b, x, rtol=self.rtol, maxiter=self.maxiter,
                 zero_guess=True, workspace=self.ws, what="cell problem")
        return x.reshape(self.d3.shape), it


def _is_binary(d3):
    """Whether every diffusivity is 0 or 1 (after scaling by the largest)."""
    return bool(np.all((d3 == 0.0) | (d3 == 1.0)))


def _use_multigrid(solver, n_unknowns, planar):
    if solver == "multigrid":
        return True
    if solver == "auto":
        return n_unknowns > (DIRECT_SOLVE_LIMIT_2D if planar else DIRECT_SOLVE_LIMIT)
    return False


def effective_diffusion_tensor(image, voxel_size=None, *, periodisation: str = "translation",
                               diffusivity: Mapping | None = None, rtol: float = 1e-6,
                               maxiter: int = 500, solver: str = "auto",
                               callback: Callable[[int, int], None] | None = None,
                               threads: int | None = None) -> EffectiveDiffusionTensor:
    """Effective diffusion tensor of an image by periodic homogenisation.

    Parameters
    ----------
    image : Image or array
        A labelled :class:`~rhizoscale.image.Image` (the phase table gives each voxel's
        diffusivity), or a 2D/3D array of voxel diffusivities, or an integer label array
        together with ``diffusivity`` as a ``{label: D}`` table.
    voxel_size : float or sequence, optional
        Voxel edge length per array axis [cm] for arrays (an Image carries its own).
        Anisotropic voxels are supported. Only the ratios matter for the tensor.
    periodisation : {"translation", "mirror"}
        Tile the image as it is, or mirrored in every direction (diagonal tensor, equal
        to the fixed-concentration / no-flux-sides set-up of tortuosity tools).
    diffusivity : mapping, optional
        For an Image: ``{phase name: D}`` overriding the phase table. For an integer
        label array: ``{label: D}`` (every label present must have one).
    rtol : float
        Relative residual at which conjugate gradients stop. The tensor error is far
        smaller (its asymmetry, a measure of it, is ~1e-8 at the default 1e-6 on blobs
        images); lower it for reference values.
    maxiter : int
        Iteration limit per direction (an error is raised when it is reached).
    solver : {"auto", "multigrid", "amg", "direct"}
        ``"multigrid"``: matrix-free geometric multigrid + CG on the voxel grid
        (:mod:`.multigrid`, the fast path); ``"amg"``: assembled CSR matrix with pyamg
        smoothed aggregation + CG (the reference path); ``"direct"``: sparse LU;
        ``"auto"`` (default): direct for small systems, multigrid otherwise.
    callback : callable, optional
        ``callback(done, total)`` after each direction.
    threads : int, optional
        Numba threads of the solver kernels (default: the current setting, all cores
        unless ``NUMBA_NUM_THREADS`` or :func:`rhizoscale.solvers.thread_limit` says
        otherwise); small multigrid levels use fewer.

    Returns
    -------
    EffectiveDiffusionTensor
        Tensor in the units of the diffusivities, per unit bulk (whole-cell) area/volume.

    Raises
    ------
    InputError
        Unknown labels, negative or non-finite diffusivities, no conducting voxel,
        unknown periodisation.

    References
    ----------
    Bensoussan, A., Lions, J.-L., & Papanicolaou, G. (1978). Asymptotic Analysis for
    Periodic Structures. North-Holland.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.homogenization import effective_diffusion_tensor
    >>> layers = np.where(np.arange(8) % 2 == 0, 1.0, 0.25)[None, :].repeat(8, axis=0)
    >>> res = effective_diffusion_tensor(layers)
    >>> np.round(np.diag(res.tensor), 4)  # arithmetic along the layers, harmonic across
    array([0.625, 0.4  ])
    """
    if threads is not None and int(threads) < 1:
        raise InputError(f"threads must be at least 1, got {threads}", field="threads")
    with thread_limit(threads):
        return _effective_diffusion_tensor(image, voxel_size, periodisation, diffusivity,
                                           rtol, maxiter, solver, callback)


def _effective_diffusion_tensor(image, voxel_size, periodisation, diffusivity, rtol, maxiter,
                                solver, callback):
    t0 = time.perf_counter()
    if solver not in SOLVERS:
        raise InputError(f"unknown solver {solver!r}; use one of {SOLVERS}", field="solver")
    if periodisation not in PERIODISATIONS:
        raise InputError(f"unknown periodisation {periodisation!r}; use one of {PERIODISATIONS}",
                         field="periodisation")
    d, h, src = _diffusivity_field(image, voxel_size, diffusivity)
    _validate(d, src)
    ndim = d.ndim
    axes = ("y", "x") if ndim == 2 else ("z", "y", "x")
    dmax = float(d.max())
    d3, h3, active = _as3d(d / dmax if dmax != 1.0 else d, h)
    d3 = np.ascontiguousarray(d3)
    hs = h3 / h3[active].min()
    conducting = d > 0
    shape = d.shape
    if _is_binary(d3):
        # 0 and 1 only: the diffusivities are the conducting mask itself (every kernel
        # computes from them in float64, with the same results)
        d3 = conducting.reshape(d3.shape).view(np.uint8)
    del d                   # no float64 copy of a binary image is held
    raw = np.zeros((ndim, ndim))
    iterations = [0] * ndim
    info: dict = {"solver": [], "unknowns": []}
    offset = 3 - ndim  # tensor index j <-> internal axis j + offset

    if periodisation == "translation":
        clusters = periodic_clusters(conducting)
        kept = clusters.kept
        basis = clusters.conducting_directions(np.asarray(shape) * h)
        projector = basis.T @ basis
        info.update(n_clusters=clusters.n_clusters, n_flux_carrying=clusters.n_kept,
                    windings=clusters.windings.tolist())
        directions = [j for j in range(ndim) if np.linalg.norm(projector[:, j]) > 1e-12]
        if directions:
            kept3 = kept.reshape(d3.shape)
            unknown = kept3.copy().ravel()
            unknown[clusters.anchors] = False
            n_unknowns = int(unknown.sum())
            bc = np.full(3, K.PERIODIC, dtype=np.int64)
            unknown3 = unknown.reshape(d3.shape)
            multigrid = n_unknowns > 0 and _use_multigrid(solver, n_unknowns, ndim == 2)
            t_asm = time.perf_counter()
            if multigrid:
                lin = _MultigridSolver(d3, unknown3, hs, bc, active, rtol, maxiter)
                info["assembly_s"] = 0.0
            else:
                A = _csr_operator(d3, unknown3, hs, bc, active)
                info["assembly_s"] = time.perf_counter() - t_asm
                lin = _Solver(A, rtol, maxiter, ndim == 2, solver) if n_unknowns else None
            info["setup_s"] = lin.setup_time if lin is not None else 0.0
            info["solve_s"] = []
            for done, j in enumerate(directions):
                t_sol = time.perf_counter()
                if multigrid:
                    chi, it = lin.solve_axis(j + offset)
                    iterations[j] = it
                else:
                    chi = np.zeros(d3.size)
                    if lin is not None:
                        x, it = lin.solve(_rhs(unknown3, d3, hs, bc, j + offset))
                        chi[unknown] = x
                        iterations[j] = it
                info["solve_s"].append(time.perf_counter() - t_sol)
                flux = K.periodic_mean_flux(kept3, d3, chi.reshape(d3.shape), hs, active,
                                            j + offset)
                del chi
                raw[:, j] = flux[offset:]
                if callback is not None:
                    callback(done + 1, len(directions))
            if multigrid:
                info["solver"] = "pcg-multigrid"
                info["levels"] = len(lin.mg.levels)
                info["conductances"] = str(lin.stencil.dtype)
            else:
                info["solver"] = "direct" if lin is None or lin.direct else "pcg-amg"
            info["unknowns"] = n_unknowns
        raw = projector @ raw @ projector
        flux_fraction = float(kept.mean())
    else:
        kept_any = np.zeros(shape, dtype=bool)
        for done, j in enumerate(range(ndim)):
            kept = spanning_clusters(conducting, j)
            kept_any |= kept
            a = j + offset
            if kept.any():
                kept3 = kept.reshape(d3.shape)
                n_unknowns = int(kept.sum())
                bc = np.full(3, K.CLOSED, dtype=np.int64)
                bc[a] = K.DIRICHLET
                if _use_multigrid(solver, n_unknowns, ndim == 2):
                    lin = _MultigridSolver(d3, np.ascontiguousarray(kept3), hs, bc, active,
                                           rtol, maxiter)
                    chi, it = lin.solve_axis(a)
                    del lin
                    info["solver"].append("pcg-multigrid")
                else:
                    A = _csr_operator(d3, kept3, hs, bc, active)
                    lin = _Solver(A, rtol, maxiter, ndim == 2, solver)
                    x, it = lin.solve(_rhs(kept3, d3, hs, bc, a))
                    info["solver"].append("direct" if lin.direct else "pcg-amg")
                    chi = np.zeros(d3.size)
                    chi[kept3.ravel()] = x
                q = K.mirrored_plane_fluxes(kept3, d3, chi.reshape(d3.shape), hs, a)
                del chi      # not held while the next direction is set up and solved
                n_a = d3.shape[a]
                n_cross = d3.size // n_a
                # plane average matching the mirrored cell (outer planes count half)
                raw[j, j] = (0.5 * q[0] + q[1:-1].sum() + 0.5 * q[-1]) / (n_a * n_cross)
                iterations[j] = it
                info["unknowns"].append(n_unknowns)
            if callback is not None:
                callback(done + 1, ndim)
        flux_fraction = float(kept_any.mean())

    raw = raw * dmax
    sym = 0.5 * (raw + raw.T)
    norm = np.linalg.norm(raw)
    asym = float(np.linalg.norm(raw - raw.T) / norm) if norm > 0 else 0.0
    vals, vecs = np.linalg.eigh(sym)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    # a deterministic sign: the largest component of each direction is positive
    signs = np.sign(vecs[np.argmax(np.abs(vecs), axis=0), np.arange(ndim)])
    vecs = vecs * np.where(signs == 0, 1, signs)
    return EffectiveDiffusionTensor(
        tensor=sym, raw=raw, axes=axes, periodisation=periodisation, eigenvalues=vals,
        eigenvectors=vecs, asymmetry=asym, conducting_fraction=float(conducting.mean()),
        flux_carrying_fraction=flux_fraction, iterations=tuple(iterations),
        wall_time=time.perf_counter() - t0, info=info)
